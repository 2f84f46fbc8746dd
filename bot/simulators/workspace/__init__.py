"""The driver that acts as Slack's servers toward an app: signed slash commands, button clicks, modal
submissions and App Home events, on behalf of a fake workspace's members.

- driver.py: `Workspace` (and `Send`, how a request reaches the app);
- answers.py: what an action gives back (`Delivery`, the app's answer; `Ticked`) or why it is refused
  (`UnknownCommand`);
- entries.py: what a member typed, chose or ticked and still sees, and which boxes `tick` ticks;
- surfaces.py: what a member sees and can click;
- inputs.py: what Slack reports for input elements (`state_values`) and what its client refuses to submit
  (`client_side_problems`);
- payloads.py: the pieces of the payloads Slack sends.
"""
