"""Pure shop rules: handles, countries, currencies, the shipping profile, staff roles and the
fulfilment score."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from functools import lru_cache

from babel import Locale

from clipcart.core.money import KNOWN_CURRENCIES

STAFF_ROLES: tuple[str, ...] = ("owner", "manager", "fulfilment")
CATALOG_ROLES = frozenset({"owner", "manager"})
"""Who may change products, stock and shop settings (fulfilment staff ship orders)."""
ANY_ROLE = frozenset(STAFF_ROLES)
HANDLE_MIN, HANDLE_MAX = 3, 30
NAME_MAX = 80
TEXT_MAX = 5000
MAX_PROCESSING_DAYS = 60
LOGO_SIZES: tuple[int, ...] = (256, 64)

RESERVED_SHOP_HANDLES = frozenset(
    {
        "admin", "api", "clipcart", "help", "mine", "new", "seller", "settings", "shop", "shops",
        "static",
    }
)  # fmt: skip
_HANDLE_CHARS = re.compile(r"[a-z0-9_.]+")


def normalize_handle(raw: str) -> str:
    """A shop handle as stored: trimmed, without a leading @, lower case."""
    return raw.strip().removeprefix("@").lower()


def handle_problems(handle: str) -> list[str]:
    """Why `handle` (already normalised) cannot be a shop handle."""
    if not HANDLE_MIN <= len(handle) <= HANDLE_MAX:
        return [f"Use {HANDLE_MIN} to {HANDLE_MAX} characters."]
    if not _HANDLE_CHARS.fullmatch(handle):
        return ["Use only letters, digits, underscores and dots."]
    if handle.startswith(".") or handle.endswith(".") or ".." in handle:
        return ["Dots cannot come first, last or twice in a row."]
    if handle in RESERVED_SHOP_HANDLES:
        return ["That handle is reserved. Please choose another."]
    return []


def name_problems(name: str) -> list[str]:
    """Why `name` (trimmed) cannot be a shop name."""
    if not name:
        return ["Enter the name of your shop."]
    if len(name) > NAME_MAX:
        return [f"Use at most {NAME_MAX} characters."]
    if any(unicodedata.category(char) in {"Cc", "Cf"} for char in name):
        return ["Remove invisible or control characters."]
    return []


def text_problems(text: str) -> list[str]:
    """Why a description or policy cannot be used."""
    if len(text) > TEXT_MAX:
        return [f"Use at most {TEXT_MAX} characters."]
    if any(unicodedata.category(char) == "Cc" and char not in "\n\r\t" for char in text):
        return ["Remove control characters."]
    return []


@lru_cache(maxsize=1)
def countries() -> dict[str, str]:
    """ISO 3166 alpha-2 code -> English name, for the countries a shop can be based in."""
    territories = Locale("en").territories
    return {
        code: name
        for code, name in sorted(territories.items(), key=lambda item: item[1])
        if len(code) == 2 and code.isalpha() and code not in {"EU", "EZ", "UN", "ZZ", "QO"}
    }


def country_problems(country: str) -> list[str]:
    """Why `country` is not a usable ISO country code."""
    return [] if country in countries() else ["Choose a country (two-letter ISO code)."]


def currency_problems(currency: str) -> list[str]:
    """Why `currency` is not a usable ISO 4217 code."""
    return [] if currency in KNOWN_CURRENCIES else ["Choose a currency (three-letter ISO code)."]


def shipping_problems(
    *, flat_rate: int, free_threshold: int | None, processing_days: int
) -> dict[str, list[str]]:
    """Problems with a shipping profile, by field."""
    problems: dict[str, list[str]] = {}
    if flat_rate < 0:
        problems["shipping_flat_rate"] = ["The shipping rate cannot be negative."]
    if free_threshold is not None and free_threshold < 0:
        problems["free_shipping_threshold"] = ["The threshold cannot be negative."]
    if not 0 <= processing_days <= MAX_PROCESSING_DAYS:
        problems["processing_days"] = [f"Use 0 to {MAX_PROCESSING_DAYS} days."]
    return problems


def logo_filename(key: str, size: int) -> str:
    """The file name of one stored size of a shop logo."""
    return f"{key}-{size}.webp"


def logo_url(key: str | None, size: int) -> str | None:
    """The URL of the stored logo `key` at (at least) `size` pixels, or None."""
    if key is None:
        return None
    fitting = [stored for stored in sorted(LOGO_SIZES) if stored >= size]
    return "/media/shops/" + logo_filename(key, fitting[0] if fitting else max(LOGO_SIZES))


# A shop's fulfilment score: of its orders paid in the last SCORE_WINDOW_DAYS that are due by
# now, the share it kept: shipped within its processing days plus a day's grace, and not
# cancelled by the shop. Orders the buyer cancelled are not the shop's doing and do not count.
SCORE_WINDOW_DAYS = 90
SCORE_GRACE_DAYS = 1
MIN_SCORED_ORDERS = 5


def order_kept(
    *,
    paid_at: datetime,
    shipped_at: datetime | None,
    cancelled: bool,
    cancelled_by_buyer: bool,
    processing_days: int,
    now: datetime,
) -> bool | None:
    """Whether the shop kept a paid order: True shipped on time; False shipped late, cancelled
    by the shop (or the system), or not shipped past its ship-by day; None not due yet or
    cancelled by the buyer."""
    ship_by = paid_at + timedelta(days=processing_days + SCORE_GRACE_DAYS)
    if shipped_at is not None:
        return shipped_at <= ship_by
    if cancelled:
        return None if cancelled_by_buyer else False
    return False if now > ship_by else None


def fulfilment_score(due: int, kept: int) -> int | None:
    """The score in percent (rounded down, so 100 means every order was kept), or None when
    fewer than MIN_SCORED_ORDERS orders are due: too few to judge a shop by."""
    if due < MIN_SCORED_ORDERS:
        return None
    return 100 * min(kept, due) // due
