"""Operatives on Telegram: linking, briefings and visit status reports."""
