"""Telegram through python-telegram-bot: the sender, the webhook, resident linking, and
their set-up from settings.

Part of the channels room: the same imports as bot/channels.
"""
