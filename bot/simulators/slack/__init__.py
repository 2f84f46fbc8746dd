"""A fake Slack workspace serving the Web API over real HTTP, split by what it is.

- model.py: what the workspace holds (members, channels, messages, views, files, the call log, events);
- blocks.py: Block Kit as Slack reads it, and why Slack would refuse blocks or a modal;
- state.py: the records behind one lock, the events, and the changes the API methods are made of;
- api.py (auth, apps, users, conversations, chat), views.py (modals, App Home), files.py (uploads),
  response_urls.py: the Web API methods and the other URLs Slack serves;
- http.py: the server and the reading of parameters (query, JSON, forms, multipart);
- fake.py: `FakeSlack`, the one object tests, the shell and the benchmarks use;
- demo.py: the demo workspace's members and channels.
"""
