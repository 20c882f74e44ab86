"""Storage: the SQLModel tables, the engine and session factory, migrations, and the
repository functions (storage/repositories/) that hold every query the service runs.

Imports nothing of bot/, flows or nlu.
"""
