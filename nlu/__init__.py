"""Understanding text: intents and entities in Rasa's parse shape, from the built-in
interpreter or a Rasa server behind one interface, and the time-expression resolver.

Imports nothing of bot/, flows or storage.
"""
