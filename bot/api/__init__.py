"""The landlord integration API, `/api/v1` (issue 14): a versioned REST API that a
landlord's housing management system and scheduler call with an API key.

Holds the HTTP side only: the sub-application and its OpenAPI (`app.py`), problem details
(`problems.py`), API-key authentication scoped to one landlord (`auth.py`), and one
module of routes per subject. What a call does to Doorstep's records lives in
bot/integration; the API turns HTTP into calls there and results into JSON.

May import: bot.common, bot.integration, bot.outbound, bot.runtime, bot.settings, and
flows, nlu, storage. Nothing imports bot.api but bot.app (which mounts it).
"""
