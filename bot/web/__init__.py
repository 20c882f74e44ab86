"""Web: the pages people open in a browser.

Public pages (visit pages, code of conduct, photos), the simulator (demo mode only) and the
staff app under /staff, with their templates and static files.

May import: bot.common, bot.inbound, bot.outbound, bot.operatives, bot.runtime,
bot.settings, flows, nlu, storage.
"""
