"""A resident's phone for transcript-style tests (after errbot's test backend)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


class Phone:
    """A resident's phone in the simulator: say something, pop what the bot said (errbot-style)."""

    def __init__(self, client: TestClient, number: str) -> None:
        self.client = client
        self.number = number
        self.inbox: list[dict[str, Any]] = []

    def say(self, text: str, *, option_key: str | None = None) -> list[dict[str, Any]]:
        response = self.client.post(
            "/simulator/api/messages",
            json={"phone": self.number, "text": text, "option_key": option_key},
        )
        assert response.status_code == 200, response.text
        replies: list[dict[str, Any]] = response.json()["replies"]
        self.inbox.extend(replies)
        return replies

    def pop(self) -> dict[str, Any]:
        assert self.inbox, "the bot said nothing"
        return self.inbox.pop(0)

    def pop_text(self) -> str:
        return str(self.pop()["text"])
