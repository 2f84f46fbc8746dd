"""A fake of 8x8's Administration API (users and operations) that keeps state, served over real HTTP.

- model.py: constants, the limits it enforces (`Limits`), the exchanges it records (`Recorded`), faults,
  operations and error bodies;
- users.py: User objects (`make_user`) and what a PUT body may not hold;
- rsql.py: the filter and sort parameters of `GET /users`;
- state.py, rate_limits.py, operations.py, api.py: the records, the rate windows, the asynchronous operations
  and the endpoints;
- http.py: the server;
- fake.py: `FakeEightByEight`, the one object tests, the shell and the benchmarks use;
- demo.py: the demo directory (the local console's demo users) as 8x8 users.
"""
