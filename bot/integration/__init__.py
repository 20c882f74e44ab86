"""Doorstep on a landlord's own data (issue 14): what the integration API, the CSV import
and the staff app do to records, whichever way the landlord's data came in.

Holds the record schemas named after HACT's UK Housing Data Standard where it names a
field, the sync that upserts records by the landlord's own references (one function per
kind, a batch at a time, each record's outcome reported), changes to visits made by the
landlord's scheduler, and job status from the landlord's side.

May import: bot.common, bot.outbound, bot.operatives, bot.settings, and flows, nlu,
storage. Imported by bot.api, bot.web and bot.cli.
"""
