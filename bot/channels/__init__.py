"""Channel adapters: each turns its vendor's payloads into InboundMessages at the edge and
sends outbox messages through its vendor's API. The core never sees a Twilio form or a
Telegram update."""
