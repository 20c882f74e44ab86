"""Keyword-only repository functions that take the session: the only SQL outside migrations."""
