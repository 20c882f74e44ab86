"""Channels: adapters that translate, and nothing more.

Each turns its vendor's payloads (a Twilio form, a Telegram update) into an
`InboundMessage` at the edge and hands it to inbound, and sends outbox messages through its
vendor's API as a `bot.outbound.sending.Sender`. `senders` builds the senders a service has
from its settings; `simulator_sender` shows sent messages in the simulator. The core never
sees a Twilio form or a Telegram update.

May import: bot.common, bot.inbound, bot.outbound, bot.operatives, bot.runtime,
bot.settings, flows, nlu, storage. Nothing imports a channel except bot.app and bot.cli.
"""
