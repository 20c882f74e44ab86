"""A landlord's housing management system, played end to end against a running Doorstep.

    doorstep api-keys create --landlord demo --name "example HMS"      # prints the key
    doorstep webhooks add --landlord demo --url http://127.0.0.1:8765/doorstep  # the secret
    python docs/examples/housing_system.py --base-url http://127.0.0.1:8000 \\
        --key dsk_... --webhook-secret whsec_... [--receiver-port 8765]

What it does, as a housing management system and scheduler would (docs/integration.md):

1. upserts a home, a resident, an operative, the operative's visit windows and a repair
   job by its own references (a nightly sync: run it twice and the second run changes
   nothing);
2. books the job's visit as the landlord's scheduler (`PUT /jobs/{ref}/appointment`), then
   moves it to the next day: Doorstep confirms each to the resident;
3. calls the visit off as the landlord (`POST /jobs/{ref}/events`, type `cancelled`);
4. receives Doorstep's webhooks on 127.0.0.1 and checks each signature (when given the
   subscription's secret), and reads the same events from the cursor feed.

Only the standard library and httpx; nothing from Doorstep's own code, so a landlord's
developer can read it as the whole of what an integration needs.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

PREFIX = "EX"  # every reference this example makes starts with it


def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """Doorstep-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    t = next((v for k, v in parts if k.strip() == "t"), "")
    if not t.isdigit() or abs(time.time() - int(t)) > tolerance:
        return False
    mac = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256)
    return any(k.strip() == "v1" and hmac.compare_digest(v, mac.hexdigest()) for k, v in parts)


class Receiver:
    """The landlord's webhook endpoint: checks each delivery and keeps the events."""

    def __init__(self, port: int, secret: str | None) -> None:
        self.events: list[dict[str, Any]] = []
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                header = self.headers.get("Doorstep-Signature", "")
                if secret is not None and not verify(secret, header, body):
                    receiver.refused += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                event = json.loads(body)
                if all(e["id"] != event["id"] for e in receiver.events):  # at least once
                    receiver.events.append(event)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Doorstep:
    """The integration API with one key; every answer printed, every problem shown."""

    def __init__(self, base_url: str, key: str) -> None:
        self.http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )

    def call(
        self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201)
    ) -> Any:
        response = self.http.request(method, path, json=body)
        if response.status_code not in ok:
            problem = response.json() if response.content else {}
            raise SystemExit(
                f"{method} {path}: {response.status_code} {problem.get('title', '')}: "
                f"{problem.get('detail', response.text[:200])}"
            )
        print(f"{method} {path} -> {response.status_code}")
        return response.json() if response.content else None


def next_weekdays(count: int) -> list[date]:
    """The next `count` days after today, Monday to Saturday."""
    days, day = [], datetime.now(UTC).date()
    while len(days) < count:
        day += timedelta(days=1)
        if day.weekday() != 6:
            days.append(day)
    return days


def sync(api: Doorstep, mobile: str, days: list[date]) -> None:
    """The nightly sync: safe to send again, by the landlord's own references."""
    api.call(
        "PUT",
        f"/properties/{PREFIX}-P1",
        {
            "uprn": "100023336956",
            "address_line_1": "7 Orchard Row",
            "town_or_city": "Leeds",
            "postcode": "LS6 2AB",
            "nation": "england",
        },
    )
    api.call(
        "PUT",
        f"/residents/{PREFIX}-T1",
        {"name": "Nia Roberts", "mobile": mobile, "property": f"{PREFIX}-P1"},
    )
    api.call(
        "PUT",
        f"/operatives/{PREFIX}-O1",
        {
            "name": "Tom Hughes",
            "employer": "Summit Roofing Ltd",
            "badge_number": f"{PREFIX}-4410",
            "trades": ["roofing"],
        },
    )
    for day in days:
        api.call(
            "PUT",
            f"/operatives/{PREFIX}-O1/windows/{day.isoformat()}",
            {"windows": {"morning": 2, "afternoon": 1}},
        )
    job = api.call(
        "PUT",
        f"/jobs/{PREFIX}-J1",
        {
            "property": f"{PREFIX}-P1",
            "resident": f"{PREFIX}-T1",
            "trade": "roofing",
            "description": "Slipped tiles above the back bedroom",
            "priority": "routine",
        },
    )
    print(f"  job {PREFIX}-J1: {job['status']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Play a housing management system.")
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--key", default=os.environ.get("DOORSTEP_API_KEY"))
    parser.add_argument("--webhook-secret", default=os.environ.get("DOORSTEP_WEBHOOK_SECRET"))
    parser.add_argument("--receiver-port", type=int, default=8765)
    parser.add_argument("--mobile", default="+447400123499", help="the example resident's")
    parser.add_argument("--wait", type=float, default=20.0, help="seconds to wait for webhooks")
    args = parser.parse_args(argv)
    if not args.key:
        parser.error("give --key (doorstep api-keys create --landlord demo --name ...)")

    api = Doorstep(args.base_url, args.key)
    receiver = Receiver(args.receiver_port, args.webhook_secret)
    try:
        me = api.call("GET", "/me")
        print(f"  calling as landlord {me['landlord']} ({me['scope']} key)")
        start = api.call("GET", "/events", ok=(200,))
        cursor = start["next"]
        while start["events"]:  # skip what happened before this run
            start = api.call("GET", f"/events?after={cursor}")
            cursor = start["next"]

        days = next_weekdays(3)
        print("1. the nightly sync, twice (the second changes nothing)")
        sync(api, args.mobile, days)
        sync(api, args.mobile, days)

        print("2. the scheduler books the visit, then moves it a day later")
        booking = {"date": days[0].isoformat(), "window": "morning", "operative": f"{PREFIX}-O1"}
        for day in days[:2]:
            booking["date"] = day.isoformat()
            answer = api.call("PUT", f"/jobs/{PREFIX}-J1/appointment", booking)
            visit = answer["appointment"]
            print(f"  {answer['change']}: {visit['date']} {visit['window']} v{visit['version']}")

        print("3. the tenant says it is fixed: the landlord calls the visit off")
        done = api.call("POST", f"/jobs/{PREFIX}-J1/events", {"type": "cancelled"})
        print(f"  job status: {done['job_status']}")

        print("4. what Doorstep told us")
        feed = api.call("GET", f"/events?after={cursor}")
        for event in feed["events"]:
            print(f"  feed    {event['id']:>6} {event['type']:<24} job {event['job']}")
        deadline = time.monotonic() + args.wait
        while len(receiver.events) < len(feed["events"]) and time.monotonic() < deadline:
            time.sleep(0.5)
        for event in receiver.events:
            print(f"  webhook {event['id']:>6} {event['type']:<24} job {event['job']}")
        if args.webhook_secret is None:
            print("  (no --webhook-secret: signatures not checked)")
        if receiver.refused:
            print(f"  {receiver.refused} deliveries refused: bad signature")
            return 1
        return 0
    finally:
        receiver.close()


if __name__ == "__main__":
    sys.exit(main())
