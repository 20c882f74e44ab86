"""What every room of bot/ shares: the internal message types, clocks, signed links,
metrics, logging set-up, photos, and the flows and interpreter a service runs.

May import: bot.settings, flows, nlu, storage. Nothing else in bot/.
"""
