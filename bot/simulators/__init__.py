"""The simulators: stand-ins for the services the bot talks to, which keep state and speak over real sockets.

The shell (`offboard-bot shell`), the tests and the benchmarks all use them; production code never imports them
(tests/test_architecture.py). What is here:

- slack/: a fake Slack Web API (FakeSlack) and the demo workspace's members and channels (slack/demo.py);
- workspace/: the driver that acts as Slack's servers toward the app: signed slash commands, clicks, modal
  submissions (Workspace);
- socket_mode.py: a fake Socket Mode server (FakeSocketMode);
- eightbyeight/: a fake 8x8 Administration API (FakeEightByEight), and its demo directory (eightbyeight/demo.py);
- faulty_console.py: a local console with scheduled faults (FaultyConsole);
- simultaneous.py: run calls at the same instant (run_together);
- live_server.py: uvicorn serving an ASGI app on a loopback port, in a thread (LiveServer);
- harness.py: the real app built through the composition root and served over HTTP, driven as members (serve,
  serve_local, App);
- soak/: the soak run: mixed requests with random faults through the real app, then the count of what must
  never happen (run_soak).
"""
