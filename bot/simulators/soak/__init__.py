"""The soak run: a few thousand mixed requests through the real app, with random faults, then a count of what
must never happen (a console operation lost or repeated, a request left in a non-final state, a broken audit
chain, a failure left unexplained).

The app is the real one (bot/simulators/harness.py `serve`, as `serve_local` builds it: Bolt behind uvicorn,
SQLite, the demo policy, a ManualClock) on the local console wrapped in bot/simulators/faulty_console.py
FaultyConsole, with the stateful FakeSlack. Every click is a signed HTTP request (bot/simulators/workspace/). The
run is sequential and settles after every action, so given a seed the requests, their fates and the faults are
the same on every run; only which user of a multi-user request meets a fault can vary, as the step runner works on
several at once.

Every request names fresh console users (soak0001, soak0002, ...) added to the console just before it:

- deletes of 1 to 3 users (some licensed, so a delete is release_licenses then delete; some not), asked by
  alice and approved by bob or dana (now and then both click Approve at the same instant), and a few bulk
  deletes of 11 or 12 users, which the demo policy sends to two approvers (bob, then dana);
- deactivations, reactivations (of users created inactive) and renames, asked by any of the three admins and
  confirmed by the asker (the policy needs no approver; now and then Confirm is clicked twice at once);
- scheduled requests (`--at in 2h`: a delete, a deactivation or a rename) and staged deletes (`--grace 1d
  --retain 2d`: deactivate at once, release the licenses a day later, delete the day after); the clock is moved
  to each run time and the sweeper started, as every replica's sweeper does;
- some rejected (Reject, then the reason modal), some cancelled (from the private preview, with `/offboard
  cancel` once sent for approval, before a scheduled run or between a staged delete's stages), some left to
  expire (the clock is moved past the policy's expire_after and the sweeper run, every few dozen such
  requests).

Faults, drawn from the seed (each request meets at most one console fault and at most one Slack fault):

- console refused / console unavailable: the next call of one of the request's operations raises
  ConsoleRejected / ConsoleUnavailable before changing anything;
- answer lost: the operation lands in the console, then OutcomeUnknown (or ConsoleUnavailable) is raised;
- answer lost, read-back fails: the same, and the next three reads of the user fail too (the step cannot be
  confirmed: the bot must say so, not guess);
- read fails: the read before the first step fails;
- lookup fails: the look-up made when the command is typed fails (no request may be created);
- bug before change / bug after change: a RuntimeError in the console adapter just before the operation, or
  just after it landed; the request is left executing, and the sweeper resumes it once its lease has lapsed
  (the clock is moved past the lease), which must not repeat the operation (a run is never resumed while
  another one is running: the clock only moves when the app is idle, as the lease's own guard counts real
  time);
- slack error / slack 429: chat.update or chat.postMessage answer an error, or 429 with Retry-After: 1 (the
  bot's client waits out two; a third fails). A failed chat.postMessage of the approval message calls the
  request off (nobody could approve it): that is a legitimate cancelled.

Then the clock is moved past every expiry and lease and the sweeper run a few times, and the figures are
computed from the console's operation log (LocalConsole.operations) and the database:

- lost operations: a step recorded done (or a target recorded done) whose console operation is not in the log,
  or whose effect is not in the console (a deleted user still there, a rename not showing);
- duplicated operations: any (user, operation) applied more than once (fresh users: each is applied once);
- operations outside an approved plan: an operation on a user of a request that never ran, or one that is not
  a step of the user's plan;
- stuck requests: requests not in a final state (done, failed, rejected, expired, cancelled); no Contact
  Center user is used, so nothing legitimately waits for a manual step; and targets still pending in a
  request that ended done or failed;
- failed targets without advice: a failed or aborted target with an empty detail, or a failed one whose detail
  names no next step (check the user, ask again, start a new request...);
- the audit chain (storage.audit.verify).

The parts: plan.py (the mix and the faults, drawn from the seed), driver.py (acting as the admins),
injection.py (arming and taking back faults), checks.py (the figures), report.py (`SoakReport`), run.py
(`run_soak`). tests/test_soak.py runs a short soak; bench/soak.py a long one.
"""
