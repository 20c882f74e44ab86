"""A lean HTTP/1.1 load generator for loopback benchmarks.

The service and the load share the machine's two cores, so the load's own CPU counts
against the service. A general client (httpx) spends about half a millisecond of Python
per request; this one writes pre-encoded requests on kept-alive connections and reads
the status line and body length, nothing else, so nearly all the CPU goes to the service.

Open-loop arrivals (`open_loop`) are what Twilio does: texts arrive when residents send
them, whether or not earlier ones were acknowledged. Latency is counted from when each
request was due, not from when a free connection let it go, so a stalled service cannot
hide its stall by slowing the load down (coordinated omission).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass
class Outcome:
    """What the load saw: latencies in ms of every answered request, and the failures."""

    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    transport_errors: int = 0
    started: float = 0.0
    finished: float = 0.0

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    @property
    def errors(self) -> int:
        return self.transport_errors + sum(n for s, n in self.statuses.items() if s != 200)

    @property
    def seconds(self) -> float:
        return max(self.finished - self.started, 1e-9)


def encode_post(host: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        "Content-Type: application/x-www-form-urlencoded",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
        "",
        "",
    ]
    return "\r\n".join(lines).encode("latin-1") + body


class ConnectionPool:
    """Kept-alive connections to one host; a broken one is dropped and replaced."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self._host, self._port = host, port
        self._idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None] = (
            asyncio.Queue()
        )
        for _ in range(size):
            self._idle.put_nowait(None)  # a slot; connected on first use

    async def request(self, raw: bytes) -> int:
        """Send one pre-encoded request; the response's status code."""
        slot = await self._idle.get()
        try:
            if slot is None:
                slot = await asyncio.open_connection(self._host, self._port)
            reader, writer = slot
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            keep_alive = True
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                lowered = name.strip().lower()
                if lowered == b"content-length":
                    length = int(value)
                elif lowered == b"connection" and value.strip().lower() == b"close":
                    keep_alive = False
            if length:
                await reader.readexactly(length)
            if not keep_alive:
                writer.close()
                slot = None
            return status
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            if slot is not None:
                slot[1].close()
            slot = None
            raise
        finally:
            self._idle.put_nowait(slot)

    async def close(self) -> None:
        while not self._idle.empty():
            slot = self._idle.get_nowait()
            if slot is not None:
                slot[1].close()


async def _one(pool: ConnectionPool, raw: bytes, due: float, outcome: Outcome) -> None:
    try:
        status = await pool.request(raw)
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
        outcome.transport_errors += 1
        return
    finished = time.perf_counter()
    outcome.latencies_ms.append((finished - due) * 1000)
    outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
    outcome.finished = max(outcome.finished, finished)


async def open_loop(
    pool: ConnectionPool, requests: Sequence[bytes], rate: float, seconds: float
) -> Outcome:
    """Send `requests[i]` at `i / rate` seconds, whatever the answers are doing."""
    outcome = Outcome()
    tasks: list[asyncio.Task[None]] = []
    started = outcome.started = time.perf_counter()
    for index, raw in enumerate(requests):
        due = started + index / rate
        if due - started > seconds:
            break
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_one(pool, raw, due, outcome)))
    await asyncio.gather(*tasks)
    return outcome


async def closed_loop(
    pool: ConnectionPool,
    next_request: Callable[[int], bytes | None],
    users: int,
    seconds: float,
) -> Outcome:
    """`users` senders, each sending its next request as soon as the last was answered."""
    outcome = Outcome()
    started = outcome.started = time.perf_counter()
    stop_at = started + seconds

    async def user(number: int) -> None:
        while time.perf_counter() < stop_at:
            raw = next_request(number)
            if raw is None:
                return
            await _one(pool, raw, time.perf_counter(), outcome)

    await asyncio.gather(*(user(n) for n in range(users)))
    return outcome
