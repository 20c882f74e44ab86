"""The conversation logic and domain rules, pure: one step function takes a conversation's
state, the understood message and a clock, and returns the new state, the replies and the
domain actions. The contact policy, the planner's rules and the message wording live here.

No network, no database, no framework. May import: nlu, and storage's two pure value
modules (storage.enums, storage.phones); nothing of bot/.
"""
