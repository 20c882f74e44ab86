"""Inbound: a message from outside, from storage to answer.

Ingest (the one way a message from outside is stored), the pipeline (understand, step the
flows, apply actions, queue replies), snapshot answers, the actions the flows ask for, the
flow context built from the database, and the per-sender flood limit.

May import: bot.common, bot.settings, flows, nlu, storage.
"""
