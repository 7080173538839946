"""Passwords, signed tokens and CSRF tokens."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from clipcart.core import clock, security
from clipcart.core.config import get_settings


@pytest.fixture
def frozen() -> Iterator[clock.FrozenClock]:
    with clock.frozen_at(datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC)) as frozen:
        yield frozen


# --- passwords -----------------------------------------------------------------------------


def test_hash_password_is_salted_argon2id() -> None:
    first = security.hash_password("correct horse battery staple")
    second = security.hash_password("correct horse battery staple")
    assert first.startswith("$argon2id$")
    assert first != second  # salted
    assert "correct horse" not in first


def test_verify_password() -> None:
    stored = security.hash_password("correct horse battery staple")
    assert security.verify_password(stored, "correct horse battery staple") is True
    assert security.verify_password(stored, "correct horse battery stapl") is False
    assert security.verify_password(stored, "") is False
    assert security.verify_password(stored, "Correct horse battery staple") is False


def test_verify_password_without_an_account_is_false_for_every_password() -> None:
    # no account (None) or an account that never set a password ("") must not log in,
    # not even with the password behind the timing-equaliser hash
    for missing in (None, ""):
        for attempt in ("", "hunter2", "clipcart-timing-equaliser"):
            assert security.verify_password(missing, attempt) is False


@pytest.mark.parametrize("garbage", ["not-a-hash", "$argon2id$v=19$garbage", "$2b$12$abc"])
def test_verify_password_against_a_malformed_hash_is_false(garbage: str) -> None:
    assert security.verify_password(garbage, "anything") is False


def test_password_needs_rehash_only_for_weaker_parameters() -> None:
    assert security.password_needs_rehash(security.hash_password("pw")) is False
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("pw")
    assert security.password_needs_rehash(weak) is True
    assert security.verify_password(weak, "pw") is True  # still accepted, then upgraded


# --- signed tokens -------------------------------------------------------------------------


def test_sign_and_unsign_round_trip() -> None:
    payload = {"user": "0190c0de-0000-7000-8000-000000000001", "email": "ada@example.com"}
    token = security.sign("email-verify", payload)
    assert security.unsign("email-verify", token, max_age=3600) == payload


def test_a_token_only_works_for_its_purpose() -> None:
    token = security.sign("password-reset", {"user": 1})
    assert security.unsign("email-verify", token, max_age=3600) is None
    assert security.unsign("password-reset", token, max_age=3600) == {"user": 1}


# not the last character: its low bits are base64 padding, ignored when decoding
@pytest.mark.parametrize("position", [0, 5, -2, -10])
def test_a_tampered_token_is_refused(position: int) -> None:
    token = security.sign("password-reset", {"user": 1})
    flipped = "A" if token[position] != "A" else "B"
    index = position % len(token)
    tampered = token[:index] + flipped + token[index + 1 :]
    assert security.unsign("password-reset", tampered, max_age=3600) is None


@pytest.mark.parametrize("garbage", ["", "x", "a.b.c", "..", "é.é.é"])
def test_garbage_tokens_are_refused(garbage: str) -> None:
    assert security.unsign("password-reset", garbage, max_age=3600) is None


def test_tokens_expire_by_the_app_clock(frozen: clock.FrozenClock) -> None:
    token = security.sign("password-reset", {"user": 1})
    frozen.advance(timedelta(seconds=3600))
    assert security.unsign("password-reset", token, max_age=3600) == {"user": 1}
    frozen.advance(timedelta(seconds=2))
    assert security.unsign("password-reset", token, max_age=3600) is None
    assert security.unsign("password-reset", token, max_age=7200) == {"user": 1}


def test_tokens_from_the_future_are_refused(frozen: clock.FrozenClock) -> None:
    token = security.sign("password-reset", {"user": 1})
    frozen.advance(timedelta(days=-1))
    assert security.unsign("password-reset", token, max_age=3600) is None


def test_rotating_the_secret_key_invalidates_tokens() -> None:
    token = security.sign("password-reset", {"user": 1})
    csrf = security.csrf_token("nonce")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLIPCART_SECRET_KEY", "a-completely-different-secret")
        get_settings.cache_clear()
        try:
            assert security.unsign("password-reset", token, max_age=3600) is None
            assert security.csrf_token_matches(csrf, "nonce") is False
        finally:
            get_settings.cache_clear()
    assert security.unsign("password-reset", token, max_age=3600) == {"user": 1}


# --- CSRF ----------------------------------------------------------------------------------


def test_csrf_token_matches_only_its_nonce_and_session() -> None:
    token = security.csrf_token("nonce-1", "session-a")
    assert len(token) == 64
    assert security.csrf_token_matches(token, "nonce-1", "session-a") is True
    assert security.csrf_token_matches(token, "nonce-2", "session-a") is False
    assert security.csrf_token_matches(token, "nonce-1", "session-b") is False
    assert security.csrf_token_matches(token, "nonce-1") is False
    assert security.csrf_token_matches(token.upper(), "nonce-1", "session-a") is False
    assert security.csrf_token_matches(token[:-1], "nonce-1", "session-a") is False
    anonymous = security.csrf_token("nonce-1")
    assert security.csrf_token_matches(anonymous, "nonce-1") is True


@pytest.mark.parametrize("presented", [None, ""])
def test_missing_csrf_token_never_matches(presented: str | None) -> None:
    assert security.csrf_token_matches(presented, "nonce-1") is False


def test_missing_nonce_never_matches() -> None:
    assert security.csrf_token_matches(security.csrf_token(""), "") is False


@pytest.mark.parametrize("presented", ["é" * 64, "\u2603", "ü", "\x00" * 64])
def test_a_non_ascii_csrf_token_is_a_mismatch_not_a_crash(presented: str) -> None:
    assert security.csrf_token_matches(presented, "nonce-1") is False


def test_csrf_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[object, object]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(security.hmac, "compare_digest", spy)
    expected = security.csrf_token("nonce-1")
    wrong_first_char = ("0" if expected[0] != "0" else "1") + expected[1:]
    assert security.csrf_token_matches(wrong_first_char, "nonce-1") is False
    assert security.csrf_token_matches(expected, "nonce-1") is True
    assert len(compared) == 2  # both answers came from compare_digest, not ==
