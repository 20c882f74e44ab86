"""The running service, with all its I/O, in rooms.

At the top only the wiring: `app` (the ASGI app factory), `settings` (one pydantic-settings
class) and `runtime` (what a running service holds, built once and passed explicitly).
The rooms:

* `common`: what every room shares (the inbound message type, clocks, links, metrics, logs);
* `inbound`: a message from outside, from storing it once to answering it;
* `outbound`: what the service sends on its own (planner, scheduler, dispatcher, broadcasts);
* `operatives`: operatives' linking, briefings and visit status reports;
* `channels`: adapters for SMS (Twilio), Telegram and the simulator: translate only;
* `web`: public pages, the simulator and the staff app;
* `cli`: the `doorstep` command.

Imports point inward only; each room's docstring says what it may import, and
tests/test_architecture.py enforces the table in docs/architecture.md. Everything in bot/
may import flows, nlu and storage; no module in bot/ builds SQL (queries live in
storage/repositories/).
"""
