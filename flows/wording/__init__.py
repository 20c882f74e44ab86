"""Message wording. Plain, polite, short, GSM-7 (no curly quotes, en dashes or emoji).

Every template is tested for GSM-7 and for staying within two SMS segments with
realistic data (tests/flows/test_wording.py).
"""
