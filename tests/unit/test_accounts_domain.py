"""Pure account rules: passwords, handles, backoff, session expiry, TOTP and recovery codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clipcart.accounts import domain
from clipcart.core.errors import FieldErrors, ValidationFailed

# --- passwords ----------------------------------------------------------------------------


def test_password_length_bounds() -> None:
    assert domain.password_problems("a" * 3 + "bcdefg") == []  # 9 characters
    assert domain.password_problems("abcdefg") == ["Use at least 8 characters."]
    assert domain.password_problems("abcd" * 16) == []  # 64 are allowed
    assert domain.password_problems(("abc" * 43)[:128]) == []
    assert domain.password_problems(("abc" * 43)[:129]) == ["Use at most 128 characters."]


@pytest.mark.parametrize("password", ["password", "12345678", "iloveyou", "Qwertyuiop", "SUNSHINE"])
def test_common_passwords_are_refused_in_any_case(password: str) -> None:
    assert domain.password_problems(password) == [
        "That password is too common. Please choose another."
    ]


def test_common_list_is_the_top_ten_thousand() -> None:
    common = domain.common_passwords()
    assert len(common) == domain.COMMON_PASSWORDS_REFUSED
    assert all(entry == entry.lower() for entry in common)


def test_personal_details_are_refused() -> None:
    assert domain.password_problems("jane.doe.99", handle="Jane.Doe.99") != []
    assert domain.password_problems("janedoe@example.com", email="JaneDoe@example.com") != []
    assert domain.password_problems("janedoe123", email="janedoe123@example.com") != []


def test_passwords_are_compared_in_nfkc_form() -> None:
    composed, decomposed = "caf\u00e9-latte-42", "cafe\u0301-latte-42"
    assert domain.normalize_password(composed) == domain.normalize_password(decomposed)


@given(st.text(min_size=domain.PASSWORD_MIN, max_size=domain.PASSWORD_MAX))
def test_password_rules_never_crash_and_give_at_most_one_reason(password: str) -> None:
    assert len(domain.password_problems(password, email="a@b.co", handle="abc")) <= 1


@given(
    st.text(
        alphabet=st.characters(codec="ascii", categories=["L", "N", "P"]), min_size=20, max_size=60
    ).filter(lambda text: len(set(text)) >= 3)
)
def test_long_varied_passwords_are_accepted(password: str) -> None:
    assert domain.password_problems(password) == []


# --- handles ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"), [("@Jane", "jane"), ("  JANE.doe ", "jane.doe"), ("a_1", "a_1")]
)
def test_handles_are_normalized(raw: str, stored: str) -> None:
    assert domain.normalize_handle(raw) == stored
    assert domain.handle_problems(stored) == []


@pytest.mark.parametrize(
    "handle",
    ["ab", "a" * 31, "jane doe", "jane-doe", "josé", ".jane", "jane.", "ja..ne", "admin", "api"],
)
def test_bad_handles(handle: str) -> None:
    assert domain.handle_problems(handle) != []


@pytest.mark.parametrize("word", sorted(domain.RESERVED_HANDLES))
def test_every_reserved_word_is_refused(word: str) -> None:
    assert domain.handle_problems(word) != []


@given(st.from_regex(r"[a-z0-9_]([a-z0-9_.]{1,28})[a-z0-9_]", fullmatch=True))
def test_valid_looking_handles_pass_unless_reserved_or_double_dotted(handle: str) -> None:
    expected_ok = ".." not in handle and handle not in domain.RESERVED_HANDLES
    assert (domain.handle_problems(handle) == []) == expected_ok


@given(st.text(max_size=40))
def test_handle_rules_accept_only_the_allowed_alphabet(handle: str) -> None:
    if domain.handle_problems(handle) == []:
        assert 3 <= len(handle) <= 30
        assert set(handle) <= set("abcdefghijklmnopqrstuvwxyz0123456789_.")


# --- display name, bio, email, scopes -----------------------------------------------------


def test_display_name_and_bio_rules() -> None:
    assert domain.display_name_problems("Jane Doe") == []
    assert domain.display_name_problems("") != []
    assert domain.display_name_problems("x" * 51) != []
    assert domain.display_name_problems("Jane\u202eeod") != []  # right-to-left override
    assert domain.bio_problems("Line one\nline two") == []
    assert domain.bio_problems("x" * 301) != []
    assert domain.bio_problems("bell\x07") != []


@pytest.mark.parametrize("email", ["jane@example.com", "j.doe+shop@sub.example.org"])
def test_good_emails(email: str) -> None:
    assert domain.email_problems(domain.normalize_email(email)) == []


@pytest.mark.parametrize("email", ["", "jane", "jane@", "@example.com", "jane@@example.com"])
def test_bad_emails(email: str) -> None:
    assert domain.email_problems(email) != []


def test_scopes() -> None:
    assert domain.scope_problems(["account:read"]) == []
    assert domain.scope_problems([]) == ["Choose at least one scope."]
    assert domain.scope_problems(["account:read", "root"]) == ["Unknown scope: root."]


def test_field_errors_collect_everything() -> None:
    errors = FieldErrors()
    errors.raise_if_any()  # nothing yet
    errors.add("a", ["one", "two"])
    errors.add("b", [])
    with pytest.raises(ValidationFailed) as caught:
        errors.raise_if_any()
    assert caught.value.data["errors"] == [
        {"field": "a", "message": "one"},
        {"field": "a", "message": "two"},
    ]


# --- backoff ------------------------------------------------------------------------------


def test_backoff_schedule() -> None:
    schedule = [
        domain.login_backoff_seconds(n, threshold=5, base=30, maximum=3600) for n in range(1, 15)
    ]
    assert schedule == [0, 0, 0, 0, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]


@given(
    failures=st.integers(min_value=0, max_value=10_000),
    threshold=st.integers(min_value=1, max_value=20),
    base=st.integers(min_value=1, max_value=600),
    maximum=st.integers(min_value=1, max_value=86_400),
)
def test_backoff_is_bounded_and_never_shrinks(
    failures: int, threshold: int, base: int, maximum: int
) -> None:
    now = domain.login_backoff_seconds(failures, threshold=threshold, base=base, maximum=maximum)
    later = domain.login_backoff_seconds(
        failures + 1, threshold=threshold, base=base, maximum=maximum
    )
    assert 0 <= now <= later <= max(maximum, 0)
    assert (now == 0) == (failures < threshold)


# --- sessions -----------------------------------------------------------------------------

T0 = datetime(2025, 1, 1, tzinfo=UTC)


@given(
    idle_for=st.integers(min_value=0, max_value=100_000),
    age=st.integers(min_value=0, max_value=1_000_000),
)
def test_session_expiry(idle_for: int, age: int) -> None:
    created = T0
    now = created + timedelta(seconds=age)
    last_seen = max(created, now - timedelta(seconds=idle_for))
    expired = domain.session_expired(
        created_at=created,
        last_seen_at=last_seen,
        now=now,
        idle_timeout=3600,
        absolute_timeout=86_400,
    )
    assert expired == ((now - last_seen).total_seconds() >= 3600 or age >= 86_400)


def test_due_for_touch() -> None:
    assert domain.due_for_touch(None, T0)
    assert not domain.due_for_touch(T0, T0 + timedelta(seconds=59))
    assert domain.due_for_touch(T0, T0 + timedelta(seconds=60))


# --- TOTP and recovery codes --------------------------------------------------------------


def test_totp_code_matches_with_one_step_of_drift_and_no_replay() -> None:
    secret = domain.new_totp_secret()
    totp = pyotp.TOTP(secret)
    at = datetime(2025, 1, 1, 12, 0, 15, tzinfo=UTC)
    step = totp.timecode(at)
    assert domain.matching_totp_counter(secret, totp.at(at), at=at, last_counter=None) == step
    earlier = totp.at(at - timedelta(seconds=30))
    assert domain.matching_totp_counter(secret, earlier, at=at, last_counter=None) == step - 1
    too_old = totp.at(at - timedelta(seconds=90))
    assert domain.matching_totp_counter(secret, too_old, at=at, last_counter=None) is None
    assert domain.matching_totp_counter(secret, totp.at(at), at=at, last_counter=step) is None
    spaced = totp.at(at)[:3] + " " + totp.at(at)[3:]
    assert domain.matching_totp_counter(secret, spaced, at=at, last_counter=None) == step


def test_totp_uri_names_the_issuer() -> None:
    uri = domain.totp_uri("JBSWY3DPEHPK3PXP" * 2, account_name="jane@example.com")
    assert uri.startswith("otpauth://totp/ClipCart:jane%40example.com?")
    assert "issuer=ClipCart" in uri


def test_qr_code_is_inline_svg() -> None:
    svg = domain.qr_code_svg("otpauth://totp/ClipCart:x?secret=JBSWY3DPEHPK3PXP")
    assert svg.startswith("<svg") and "<?xml" not in svg


def test_recovery_codes() -> None:
    codes = domain.new_recovery_codes()
    assert len(codes) == 10 == len(set(codes))
    for code in codes:
        assert len(code) == 19 and code.count("-") == 3
        assert not domain.looks_like_totp_code(code)
        assert domain.normalize_recovery_code(code.upper().replace("-", " ")) == code.replace(
            "-", ""
        )


@pytest.mark.parametrize(
    ("code", "expected"), [("123456", True), ("123 456", True), ("12345", False)]
)
def test_looks_like_totp_code(code: str, expected: bool) -> None:
    assert domain.looks_like_totp_code(code) is expected
