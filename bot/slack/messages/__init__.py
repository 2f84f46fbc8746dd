"""Every word the bot says to people, and its Slack markup: the one place sentences live.

The service and the domain speak in codes, facts and typed events; these modules say them:
states (the one table naming states, and where a request stands), plans (what each step does, what a user
loses and keeps), notes (how each user and step ended), refusals (why something was not done), events
(answers to whoever clicked, and direct messages)."""
