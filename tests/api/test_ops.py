"""Operations endpoints and what every response carries: request ids, security headers,
problem+json for programs and pages for people."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from clipcart.core.config import Settings, get_settings
from clipcart.core.db import dispose_engine

HTML = {"accept": "text/html,application/xhtml+xml"}
# Pages and API answers, successes and errors: the headers must be on all of them.
SAMPLE_PATHS = [
    ("/healthz", {}),
    ("/metrics", {}),
    ("/api/v1/no-such-endpoint", {}),
    ("/", HTML),
    ("/no-such-page", HTML),
]


def _directives(policy: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


async def test_healthz_answers_ok(client: httpx.AsyncClient) -> None:
    answer = await client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"


async def test_readyz_is_ready_when_the_database_answers(client: httpx.AsyncClient) -> None:
    answer = await client.get("/readyz")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == "ok"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens once the probe is closed


@pytest.fixture
async def unreachable_database_client(
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose settings point at a PostgreSQL server that is not there."""
    from clipcart.app import create_app

    url = f"postgresql+asyncpg://nobody@127.0.0.1:{_closed_port()}/nothing"
    monkeypatch.setenv("CLIPCART_DATABASE_URL", url)
    get_settings.cache_clear()
    await dispose_engine()  # the next engine of this event loop is built from the new settings
    settings = Settings()
    assert settings.resolved_database_url == url
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        await dispose_engine()
        monkeypatch.undo()
        get_settings.cache_clear()


async def test_readyz_is_503_when_the_database_is_unreachable(
    unreachable_database_client: httpx.AsyncClient,
) -> None:
    answer = await unreachable_database_client.get("/readyz")
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"] != "ok"
    # The process itself is alive: liveness must not depend on the database.
    assert (await unreachable_database_client.get("/healthz")).status_code == 200


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    handle = f"nobody{uuid.uuid4().hex[:8]}"
    earlier = await client.get(f"/api/v1/users/{handle}")
    assert earlier.status_code == 404

    answer = await client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    assert "clipcart_http_requests_total" in text
    assert "clipcart_http_request_duration_seconds" in text
    counted = [
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "clipcart_http_requests"
        for sample in family.samples
        if sample.name == "clipcart_http_requests_total"
        and sample.labels == {"method": "GET", "route": "/api/v1/users/{handle}", "status": "404"}
    ]
    assert counted, "no counter for the route template of the earlier request"
    assert counted[0] >= 1
    assert handle not in text, "raw paths must not become labels (unbounded cardinality)"


@pytest.mark.parametrize(("path", "headers"), SAMPLE_PATHS)
async def test_every_response_gets_a_request_id(
    client: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> None:
    answer = await client.get(path, headers=headers)
    request_id = answer.headers.get("x-request-id", "")
    assert 0 < len(request_id) <= 64

    again = await client.get(path, headers=headers)
    assert again.headers["x-request-id"] != request_id, "ids must be unique per request"


async def test_a_valid_incoming_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    incoming = f"edge-{uuid.uuid4().hex}"
    answer = await client.get("/healthz", headers={"x-request-id": incoming})
    assert answer.headers["x-request-id"] == incoming


async def test_an_oversized_incoming_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    incoming = "x" * 500
    answer = await client.get("/healthz", headers={"x-request-id": incoming})
    assert answer.headers["x-request-id"]
    assert answer.headers["x-request-id"] != incoming


@pytest.mark.parametrize(("path", "headers"), SAMPLE_PATHS)
async def test_every_response_carries_the_security_headers(
    client: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> None:
    answer = await client.get(path, headers=headers)
    policy = _directives(answer.headers["content-security-policy"])
    script_sources = policy.get("script-src", policy.get("default-src"))
    assert script_sources is not None, "CSP must govern scripts"
    assert "'unsafe-inline'" not in script_sources
    assert "'unsafe-eval'" not in script_sources
    assert policy.get("frame-ancestors") == ["'none'"]
    assert policy.get("object-src") == ["'none'"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] in {
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    }
    # Plain HTTP here: HSTS would be meaningless (and is only sent over https).
    assert "strict-transport-security" not in answer.headers


async def test_unknown_api_path_is_a_problem_json_404(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/v1/no-such-endpoint", headers=HTML)  # even from a browser
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["status"] == 404
    assert problem["title"]
    assert problem["detail"]
    assert problem["type"]
    assert problem["instance"] == "/api/v1/no-such-endpoint"
    assert problem["request_id"] == answer.headers["x-request-id"]


async def test_unknown_page_for_a_browser_is_an_html_page(client: httpx.AsyncClient) -> None:
    answer = await client.get("/no-such-page", headers=HTML)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "<html" in answer.text.lower()
    assert "application/problem+json" not in answer.headers["content-type"]


async def test_unknown_page_for_a_program_is_problem_json(client: httpx.AsyncClient) -> None:
    answer = await client.get("/no-such-page", headers={"accept": "application/json"})
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")
