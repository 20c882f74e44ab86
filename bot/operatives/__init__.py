"""Operatives: linking their Telegram accounts (one-time codes), `/today` and the morning
briefing, the visit buttons, and the visit status reports that any side records.

Operatives is below the channels: it gets a sender passed in, never imports one.

May import: bot.common, bot.settings, flows, nlu, storage.
"""
