"""SMS through Twilio: the sender, GSM-7 rendering, the inbound and status webhooks, and
their set-up from settings."""
