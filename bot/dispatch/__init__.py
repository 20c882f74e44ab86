"""Sending: the dispatcher, the policy's bridge to the database, and test senders."""

from bot.dispatch.dispatcher import Backoff, Dispatcher, DispatchStats

__all__ = ["Backoff", "DispatchStats", "Dispatcher"]
