"""Every error answers the same way: RFC 9457 problem+json for programs, a page for people."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from clipcart.core.errors import (
    AppError,
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from clipcart.core.middleware import RequestContextMiddleware
from clipcart.core.problems import install_error_handlers

PROBLEM_JSON = "application/problem+json"
SECRET = "db password is hunter2"


class ProductIn(BaseModel):
    title: str = Field(min_length=1)
    price: int = Field(ge=0)


class Teapot(AppError):
    status, code, title = 418, "teapot", "I am a teapot"


def render_page(request: Request, status: int, title: str, detail: str) -> Response:
    return HTMLResponse(
        f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{detail}</p>",
        status_code=status,
    )


def build_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app, html_renderer=render_page)
    app.add_middleware(RequestContextMiddleware)

    @app.get("/api/v1/orders/{order_id}")
    async def get_order(order_id: str) -> dict[str, str]:
        raise NotFound("No order with that id.", code="order_not_found")

    @app.get("/api/v1/conflict")
    async def conflict() -> None:
        raise Conflict(
            "That coupon was already used.",
            data={"coupon": "SPRING", "status": "redeemed", "code": "other"},
        )

    @app.get("/api/v1/forbidden")
    async def forbidden() -> None:
        raise Forbidden()

    @app.get("/api/v1/teapot")
    async def teapot() -> None:
        raise Teapot("Short and stout.")

    @app.post("/api/v1/products")
    async def create_product(product_in: ProductIn, limit: int = 10) -> dict[str, str]:
        return {"title": product_in.title}

    @app.post("/api/v1/rule")
    async def rule() -> None:
        raise ValidationFailed.field("price", "Price must be below the list price.")

    @app.post("/api/v1/login")
    async def login() -> None:
        raise RateLimited(retry_after=42)

    @app.get("/api/v1/crash")
    async def crash() -> None:
        raise RuntimeError(SECRET)

    @app.get("/orders/{order_id}")
    async def order_page(order_id: str) -> None:
        raise NotFound("No order with that id.")

    @app.get("/crash")
    async def crash_page() -> None:
        raise RuntimeError(SECRET)

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # raise_app_exceptions=False: like a real server, answer the 500 instead of re-raising
    transport = httpx.ASGITransport(app=build_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"https://clipcart.dev/problems/{code}"
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["instance"] == response.request.url.path
    return body


async def test_app_error_is_problem_json_with_every_member(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/orders/abc", headers={"X-Request-ID": "req-123"})
    body = assert_problem(response, 404, "order_not_found")
    assert body == {
        "type": "https://clipcart.dev/problems/order_not_found",
        "title": "Not found",
        "status": 404,
        "detail": "No order with that id.",
        "code": "order_not_found",
        "instance": "/api/v1/orders/abc",
        "request_id": "req-123",
    }
    assert response.headers["X-Request-ID"] == "req-123"


async def test_request_id_is_generated_and_matches_the_header(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/forbidden")
    body = assert_problem(response, 403, "forbidden")
    assert body["detail"] == "You are not allowed to do that"
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert len(response.headers["X-Request-ID"]) == 32


async def test_error_data_is_included_and_custom_statuses_kept(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/api/v1/conflict"), 409, "conflict")
    assert body["coupon"] == "SPRING"
    # Data never replaces a standard member: the status stays the HTTP status.
    assert body["status"] == 409
    assert body["detail"] == "That coupon was already used."
    body = assert_problem(await client.get("/api/v1/teapot"), 418, "teapot")
    assert body["detail"] == "Short and stout."


async def test_rate_limited_says_when_to_retry(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/login")
    body = assert_problem(response, 429, "rate_limited")
    assert response.headers["Retry-After"] == "42"
    assert body["retry_after"] == 42
    assert "42 seconds" in str(body["detail"])


async def test_rule_violation_lists_the_field(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.post("/api/v1/rule"), 422, "validation_failed")
    assert body["errors"] == [{"field": "price", "message": "Price must be below the list price."}]


async def test_request_validation_error_is_422_with_field_errors(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/v1/products?limit=many", json={"title": "", "price": -1})
    body = assert_problem(response, 422, "validation_failed")
    errors = body["errors"]
    assert isinstance(errors, list)
    fields = {error["field"] for error in errors}
    assert {"title", "price"} <= fields
    assert any(field.endswith("limit") for field in fields)
    assert all(isinstance(error["message"], str) and error["message"] for error in errors)


async def test_malformed_json_body_is_a_4xx_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/products", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(response, 422, "validation_failed")


async def test_unexpected_exception_is_a_500_problem_without_the_message(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.get("/api/v1/crash", headers={"X-Request-ID": "req-crash"})
    body = assert_problem(response, 500, "internal_error")
    assert SECRET not in response.text
    assert "RuntimeError" not in response.text
    assert "Traceback" not in response.text
    assert body["request_id"] == "req-crash"
    # the id people quote to support is on the answer even though the app crashed
    assert response.headers["X-Request-ID"] == "req-crash"
    # the operator still gets the details, in the log
    assert any(SECRET in str(record.exc_info) for record in caplog.records if record.exc_info)


async def test_unknown_route_and_method_are_problems(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/nothing-here"), 404, "http_404")
    response = await client.delete("/api/v1/orders/abc")
    assert_problem(response, 405, "http_405")
    assert "GET" in response.headers["Allow"]


async def test_browser_gets_the_html_page(client: httpx.AsyncClient) -> None:
    html = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    response = await client.get("/orders/abc", headers=html)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in response.text
    assert "No order with that id." in response.text

    response = await client.get("/crash", headers=html)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert SECRET not in response.text
    assert "Something went wrong" in response.text


async def test_api_paths_and_programs_get_json_even_from_a_browser(
    client: httpx.AsyncClient,
) -> None:
    html = {"Accept": "text/html"}
    assert_problem(await client.get("/api/v1/orders/abc", headers=html), 404, "order_not_found")
    assert_problem(await client.get("/orders/abc"), 404, "not_found")
    assert_problem(
        await client.get("/orders/abc", headers={"Accept": "application/json"}), 404, "not_found"
    )


async def test_without_an_html_renderer_everything_is_json() -> None:
    app = FastAPI()
    install_error_handlers(app, html_renderer=None)

    @app.get("/page")
    async def page() -> None:
        raise NotFound()

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/page", headers={"Accept": "text/html"})
    assert_problem(response, 404, "not_found")
