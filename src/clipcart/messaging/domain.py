"""Pure messaging rules: cleaning a message's text, its limits, and who may message whom."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

MAX_TEXT = 2000
PREVIEW_LENGTH = 120
# (limit, window in seconds) per sender: plenty for a conversation, too few for a spam script.
SEND_RATE_LIMIT: tuple[int, int] = (20, 60)
NOTIFICATION_KIND = "new_messages"

PERSON, SHOP = "person", "shop"
SIDE_A, SIDE_B = "a", "b"  # a: the person who is always a person; b: a person or a shop

# Control characters (not tab or line breaks), and the bidirectional embeddings, overrides and
# isolates that can make a message read differently from what it says. Joiners stay: emoji and
# Persian need them.
_UNWANTED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str) -> str:
    """The text as stored: line breaks made \\n, control characters and bidirectional
    overrides removed, trimmed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNWANTED.sub("", text).strip()


def text_problems(cleaned: str) -> list[str]:
    """What is wrong with a cleaned message text (empty list when it is fine)."""
    if not cleaned:
        return ["Write a message before sending."]
    if len(cleaned) > MAX_TEXT:
        return [f"Messages are at most {MAX_TEXT:,} characters."]
    return []


def preview(cleaned: str) -> str:
    """The start of a message on one line, for the conversation list."""
    flat = " ".join(cleaned.split())
    if len(flat) <= PREVIEW_LENGTH:
        return flat
    return flat[: PREVIEW_LENGTH - 1].rstrip() + "…"


def person_pair_key(first: uuid.UUID, second: uuid.UUID) -> str:
    """The one key of a conversation between two people, whoever starts it."""
    low, high = sorted((first, second))
    return f"u:{low}:{high}"


def shop_pair_key(person_id: uuid.UUID, shop_id: uuid.UUID) -> str:
    """The one key of a conversation between a person and a shop."""
    return f"s:{shop_id}:{person_id}"


@dataclass(frozen=True)
class Facts:
    """What is known about a message about to be sent, for `refusal`."""

    to_self: bool  # the person messages themself or a shop they work for
    blocked: bool  # either person blocked the other
    shop_suspended: bool  # the shop side is suspended and the sender writes to it


def refusal(facts: Facts) -> tuple[int, str, str] | None:
    """Why this message may not be sent, as (status, code, message), or None when it may."""
    if facts.to_self:
        return 422, "message_self", "You cannot message yourself or a shop you work for."
    if facts.blocked:
        return 403, "blocked", "You cannot message this person."
    if facts.shop_suspended:
        return 403, "shop_suspended", "This shop is suspended and cannot be messaged."
    return None


def order_may_be_referenced(
    *,
    order_buyer_id: uuid.UUID,
    order_shop_id: uuid.UUID,
    conversation_person_id: uuid.UUID,
    conversation_shop_id: uuid.UUID | None,
) -> bool:
    """An order may be shown only in the conversation between its buyer and its shop."""
    return conversation_shop_id == order_shop_id and conversation_person_id == order_buyer_id
