"""Outbound: everything the service sends on its own initiative.

The planner (what each live visit needs sent, and when), the dispatcher (claims outbox rows,
asks the contact policy, hands each message to a channel sender and settles the row),
broadcasts, conversation time-out sweeps, the outbox view and the scheduler that runs them.
Senders are passed in (`bot.outbound.sending.Sender`); outbound never imports a channel.

May import: bot.common, bot.operatives, bot.settings, flows, nlu, storage (not bot.runtime,
bot.channels or bot.inbound).
"""
