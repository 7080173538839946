"""Set-Cookie values written around a per-cookie template are exactly Starlette's."""

from __future__ import annotations

import secrets
import uuid

import pytest
from starlette.responses import Response

from clipcart.accounts.guard import cookie_header


@pytest.mark.parametrize("secure", [False, True])
@pytest.mark.parametrize("max_age", [None, 0, 1_209_600])
@pytest.mark.parametrize(
    "value",
    [secrets.token_urlsafe(32), str(uuid.uuid4()), "", "has space", 'quo"te', "a;b", "é"],
)
def test_the_header_is_the_one_starlette_writes(
    value: str, secure: bool, max_age: int | None
) -> None:
    for _ in range(2):  # the second call comes from the template made by the first
        header = cookie_header("clipcart_test", value, secure=secure, max_age=max_age)
        expected = Response()
        expected.set_cookie(
            "clipcart_test",
            value,
            max_age=max_age,
            path="/",
            secure=secure,
            httponly=True,
            samesite="lax",
        )
        assert header == expected.headers["set-cookie"]


def test_a_value_that_needs_quoting_is_quoted() -> None:
    assert cookie_header("c", "a;b", secure=False, max_age=None).startswith('c="a\\073b"')
