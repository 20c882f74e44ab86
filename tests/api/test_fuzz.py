"""The integration API fuzzed from its own OpenAPI (issue 14, "Bad input"): for every
operation the schema documents, Schemathesis generates calls from the schema's examples,
calls that fit the schema and calls that break it, sends them to the real app in-process (on
SQLite and on PostgreSQL) with the demo landlord's write key, and checks that no answer is a
5xx and that every answer's status, content type and body are what the schema documents.

Bounded and reproducible: a fixed number of examples per operation and kind, derandomized,
no example database, no deadline (a loaded 2-core CI machine is slow, not wrong). Look
harder locally with DOORSTEP_FUZZ_EXAMPLES=200. Every failing operation is reported, each
with a curl command that reproduces it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import schemathesis
from api.world import Api
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case as _Case
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.slow

BASE = "http://testserver/api/v1"
Case = _Case[Any]
#: Examples per operation and kind (the schema's examples, valid, invalid).
EXAMPLES = int(os.environ.get("DOORSTEP_FUZZ_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _send(client: TestClient, case: Case, key: str) -> httpx.Response:
    """The case as one call through the test client. Negative cases may leave the key out
    (a missing Authorization header is one of the things they try)."""
    kwargs = case.as_transport_kwargs(base_url=BASE, headers={"Authorization": f"Bearer {key}"})
    headers = dict(kwargs.get("headers") or {})
    content: bytes | None = None
    if "json" in kwargs:
        # ASCII JSON: whatever the fuzzer made reaches the app as the document it meant.
        content = json.dumps(kwargs["json"], ensure_ascii=True).encode()
        headers.setdefault("Content-Type", "application/json")
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        content = data.encode() if isinstance(data, str) else bytes(data)
    response: httpx.Response = client.request(
        kwargs["method"],
        kwargs["url"],
        params=kwargs.get("params") or None,
        headers=headers,
        cookies=kwargs.get("cookies") or None,
        content=content,
    )
    return response


def _summary(exc: BaseException) -> str:
    """What failed, briefly: each check's complaint and the curl call that shows it."""
    text = str(exc)
    curl = next((line.strip() for line in text.splitlines() if "curl " in line), "")
    parts = getattr(exc, "exceptions", None) or [exc]
    titles = sorted({f"{type(e).__name__}: {str(e).splitlines()[0][:200]}" for e in parts})
    return "; ".join(titles) + (f"\n    {curl[:600]}" if curl else "")


def _fuzz(run: Callable[[Case], None], strategy: st.SearchStrategy[Case]) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(strategy)
    def check(case: Case) -> None:
        run(case)

    check()


def test_every_operation_survives_the_fuzzer(client: TestClient, api: Api) -> None:
    raw: dict[str, Any] = client.get("/api/v1/openapi.json").json()
    schema = schemathesis.openapi.from_dict(raw)
    failures: list[str] = []
    labels: list[str] = []

    def run(case: Case) -> None:
        case.validate_response(_send(client, case, api.key), checks=CHECKS)

    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            failures.append(f"the schema has an operation Schemathesis cannot read: {result.err()}")
            continue
        operation = result.ok()
        labels.append(operation.label)
        strategies: list[tuple[str, st.SearchStrategy[Case]]] = []
        if examples := schema.get_strategies_from_examples(operation):
            strategies.append(("examples", st.one_of(*examples)))
        strategies += [
            (mode.value, operation.as_strategy(generation_mode=mode))
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        ]
        for kind, strategy in strategies:
            try:
                _fuzz(run, strategy)
            except Exception as exc:  # noqa: BLE001  (report every operation, not the first)
                failures.append(f"{operation.label} [{kind}]: {_summary(exc)}")
    assert "GET /me" in labels
    assert not failures, f"{len(failures)} failing:\n" + "\n\n".join(failures)


def test_a_path_with_a_newline_still_gets_a_problem_detail(client: TestClient, api: Api) -> None:
    """Found by the fuzzer: Starlette's mount pattern stopped at a newline, so these fell
    through to the outer app's plain JSON 404."""
    for path in ("/api/v1/properties/a%0Ab", "/api/v1/jobs/x%0Ay/events", "/api/v1/no%0Asuch"):
        response = client.get(path, headers=api.headers)
        assert response.status_code in (404, 405, 422), path
        assert response.headers["content-type"] == "application/problem+json", path
        assert response.json()["status"] == response.status_code


def test_the_schema_names_where_the_api_is(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["servers"] == [{"url": "/api/v1"}]
    assert "/me" in schema["paths"]
