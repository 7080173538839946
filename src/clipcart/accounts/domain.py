"""Pure account rules: handles, passwords, backoff, sessions, TOTP, recovery codes, avatars."""

from __future__ import annotations

import hmac
import re
import secrets
import unicodedata
from datetime import datetime, timedelta
from functools import lru_cache

import pyotp
import segno
from email_validator import EmailNotValidError, validate_email

from clipcart.core import images

ROLES: tuple[str, ...] = ("buyer", "creator", "seller_staff", "moderator", "admin")

# What a bearer token may be allowed to do; cookie sessions may do everything.
API_SCOPES: dict[str, str] = {
    "account:read": "Read your profile and account settings",
    "account:write": "Change your profile and account settings",
    "catalog:read": "Read your shop's products and stock",
    "catalog:write": "Change your shop's products and stock",
    "orders:read": "Read orders",
    "orders:write": "Update orders (shipping, returns)",
    "media:write": "Upload videos and images",
    "analytics:read": "Read analytics",
}

HANDLE_MIN, HANDLE_MAX = 3, 30
PASSWORD_MIN, PASSWORD_MAX = 8, 128
DISPLAY_NAME_MAX = 50
BIO_MAX = 300
COMMON_PASSWORDS_REFUSED = 10_000

RESERVED_HANDLES = frozenset(
    {
        "about", "account", "accounts", "admin", "administrator", "api", "app", "assets",
        "auth", "billing", "blog", "cart", "checkout", "clipcart", "contact", "dashboard",
        "developer", "developers", "docs", "explore", "feed", "following", "foryou", "help",
        "home", "inbox", "jobs", "legal", "live", "login", "logout", "me", "media",
        "messages", "metrics", "moderator", "moderators", "new", "notifications", "null",
        "orders", "privacy", "root", "search", "security", "seller", "sellers", "settings",
        "shop", "shops", "signin", "signout", "signup", "static", "status", "support",
        "system", "terms", "undefined", "upload", "user", "users", "www",
    }
)  # fmt: skip

_HANDLE_CHARS = re.compile(r"[a-z0-9_.]+")


def normalize_email(raw: str) -> str:
    """An email address as stored and looked up: trimmed, lower case."""
    return raw.strip().lower()


def email_problems(email: str) -> list[str]:
    """Why `email` is not a usable address."""
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return ["Enter a valid email address, like name@example.com."]
    return [] if len(email) <= 320 else ["That email address is too long."]


def normalize_handle(raw: str) -> str:
    """A handle as stored: trimmed, without a leading @, lower case."""
    return raw.strip().removeprefix("@").lower()


def could_be_handle(handle: str) -> bool:
    """Whether `handle` (already normalized) is made of handle characters at all: anything
    else (NUL bytes, spaces...) is looked up nowhere."""
    return _HANDLE_CHARS.fullmatch(handle) is not None and len(handle) <= HANDLE_MAX


def handle_problems(handle: str) -> list[str]:
    """Why `handle` (already normalized) cannot be used; empty when it can."""
    if not HANDLE_MIN <= len(handle) <= HANDLE_MAX:
        return [f"Use {HANDLE_MIN} to {HANDLE_MAX} characters."]
    if not _HANDLE_CHARS.fullmatch(handle):
        return ["Use only letters, digits, underscores and dots."]
    if handle.startswith(".") or handle.endswith(".") or ".." in handle:
        return ["Dots cannot come first, last or twice in a row."]
    if handle in RESERVED_HANDLES:
        return ["That handle is reserved. Please choose another."]
    return []


def normalize_password(password: str) -> str:
    """The form a password is hashed in, so the same text typed on any device matches."""
    return unicodedata.normalize("NFKC", password)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The most common passwords (lower case), from zxcvbn's frequency list."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"][:COMMON_PASSWORDS_REFUSED])


def password_problems(password: str, *, email: str = "", handle: str = "") -> list[str]:
    """Why `password` is too weak; empty when it is acceptable."""
    password = normalize_password(password)
    if len(password) < PASSWORD_MIN:
        return [f"Use at least {PASSWORD_MIN} characters."]
    if len(password) > PASSWORD_MAX:
        return [f"Use at most {PASSWORD_MAX} characters."]
    lowered = password.lower()
    if lowered in common_passwords():
        return ["That password is too common. Please choose another."]
    personal = {email.lower(), email.lower().partition("@")[0], handle.lower()} - {""}
    if lowered in personal:
        return ["Do not use your email or handle as your password."]
    if len(set(password)) < 3:
        return ["Use more than a couple of different characters."]
    return []


def display_name_problems(name: str) -> list[str]:
    """Why `name` (already trimmed) cannot be shown as a display name."""
    if not name:
        return ["Enter a name to show on your profile."]
    if len(name) > DISPLAY_NAME_MAX:
        return [f"Use at most {DISPLAY_NAME_MAX} characters."]
    if any(unicodedata.category(char) in {"Cc", "Cf"} for char in name):
        return ["Remove invisible or control characters."]
    return []


def bio_problems(bio: str) -> list[str]:
    """Why `bio` cannot be used."""
    if len(bio) > BIO_MAX:
        return [f"Use at most {BIO_MAX} characters."]
    if any(unicodedata.category(char) == "Cc" and char not in "\n\t" for char in bio):
        return ["Remove control characters."]
    return []


def login_backoff_seconds(failures: int, *, threshold: int, base: int, maximum: int) -> int:
    """How long to refuse logins after `failures` consecutive failures (0: not at all)."""
    if failures < threshold:
        return 0
    exponent = failures - threshold
    if exponent >= 64:  # avoid giant integers; the cap applies long before
        return maximum
    return min(maximum, base * 2**exponent)


def session_expired(
    *,
    created_at: datetime,
    last_seen_at: datetime,
    now: datetime,
    idle_timeout: int,
    absolute_timeout: int,
) -> bool:
    """True when a session has been idle too long or has lived past its absolute lifetime."""
    if now - last_seen_at >= timedelta(seconds=idle_timeout):
        return True
    return now - created_at >= timedelta(seconds=absolute_timeout)


def due_for_touch(last: datetime | None, now: datetime, *, every_seconds: int = 60) -> bool:
    """True when a 'last seen/used' time is stale enough to be worth a write."""
    return last is None or now - last >= timedelta(seconds=every_seconds)


def scope_problems(scopes: list[str]) -> list[str]:
    """Why a token cannot be given `scopes`."""
    if not scopes:
        return ["Choose at least one scope."]
    unknown = sorted(set(scopes) - API_SCOPES.keys())
    if unknown:
        return [f"Unknown scope: {', '.join(unknown)}."]
    return []


# --- two-factor ---------------------------------------------------------------------------

TOTP_ISSUER = "ClipCart"
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i look-alikes


def new_totp_secret() -> str:
    """A fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(length=32)


def totp_uri(secret: str, *, account_name: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=TOTP_ISSUER)


def qr_code_svg(data: str) -> str:
    """`data` as an inline SVG QR code (for the two-factor setup page)."""
    return str(
        segno.make(data, error="m").svg_inline(scale=4, border=2, light="#fff", title="QR code")
    )


def looks_like_totp_code(code: str) -> bool:
    """True for six digits (spaces allowed), as opposed to a recovery code."""
    return re.fullmatch(r"\d{6}", code.replace(" ", "")) is not None


def matching_totp_counter(
    secret: str, code: str, *, at: datetime, last_counter: int | None
) -> int | None:
    """The time step `code` belongs to (one step of drift allowed), or None.

    A step at or before `last_counter` is refused so a code cannot be replayed."""
    code = code.replace(" ", "")
    totp = pyotp.TOTP(secret)
    current = totp.timecode(at)
    for counter in (current - 1, current, current + 1):
        if last_counter is not None and counter <= last_counter:
            continue
        if hmac.compare_digest(totp.generate_otp(counter), code):
            return counter
    return None


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """Single-use codes like `abcd-efgh-jkmn-pqrs` (about 79 bits each)."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def normalize_recovery_code(code: str) -> str:
    """A recovery code as hashed: lower case, without spaces or dashes."""
    return re.sub(r"[\s-]", "", code).lower()


# --- avatars ------------------------------------------------------------------------------

AVATAR_SIZES: tuple[int, ...] = (256, 64)
AVATAR_MIN_SIDE = 64
AVATAR_MAX_PIXELS = 40_000_000
AVATAR_FORMATS = images.ACCEPTED_FORMATS


def avatar_filename(key: str, size: int) -> str:
    """The file name of one stored size of an avatar."""
    return f"{key}-{size}.webp"


def avatar_size_for(requested: int) -> int:
    """The smallest stored size that is at least `requested` (else the largest)."""
    fitting = [size for size in sorted(AVATAR_SIZES) if size >= requested]
    return fitting[0] if fitting else max(AVATAR_SIZES)


def avatar_url(key: str | None, size: int) -> str | None:
    """The public URL of the stored avatar `key` at (at least) `size` pixels, or None."""
    if key is None:
        return None
    return "/media/avatars/" + avatar_filename(key, avatar_size_for(size))


def render_avatar(content: bytes) -> dict[int, bytes]:
    """Check an uploaded image by its content and re-encode it as square WebP at each size.

    Raises ValidationFailed (field `file`) for anything that is not a usable picture."""
    return images.render_square(
        content,
        AVATAR_SIZES,
        field="file",
        code="avatar_invalid",
        min_side=AVATAR_MIN_SIDE,
        max_pixels=AVATAR_MAX_PIXELS,
    ).files
