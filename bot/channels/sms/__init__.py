"""SMS through Twilio: the sender, GSM-7 rendering, the signed inbound and delivery-status
webhooks, and their set-up from settings.

Part of the channels room: the same imports as bot/channels.
"""
