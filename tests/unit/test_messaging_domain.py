"""Pure messaging rules: cleaning text, its limits, pair keys and who may message whom."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from clipcart.messaging import domain


def test_clean_text_trims_and_removes_control_characters() -> None:
    assert domain.clean_text("  hi\x00 there\x07\r\n\tok \u202e ") == "hi there\n\tok"
    assert domain.clean_text("\x1b[31mred\x1b[0m") == "[31mred[0m"
    assert domain.clean_text("a\rb") == "a\nb"
    assert domain.clean_text("👩‍👩‍👧 family") == "👩‍👩‍👧 family"  # joiners kept in emoji
    assert domain.clean_text("می\u200cخواهم") == "می\u200cخواهم"  # and in Persian


@given(st.text())
def test_cleaned_text_never_holds_control_characters(text: str) -> None:
    cleaned = domain.clean_text(text)
    assert cleaned == cleaned.strip()
    assert not any(ord(char) < 0x20 and char not in "\t\n" for char in cleaned)
    assert "\x7f" not in cleaned


def test_text_limits() -> None:
    assert domain.text_problems("") == ["Write a message before sending."]
    assert domain.text_problems("x" * domain.MAX_TEXT) == []
    assert domain.text_problems("x" * (domain.MAX_TEXT + 1)) == [
        "Messages are at most 2,000 characters."
    ]


def test_preview_is_one_short_line() -> None:
    assert domain.preview("one\ntwo   three") == "one two three"
    long = domain.preview("word " * 100)
    assert len(long) == domain.PREVIEW_LENGTH and long.endswith("…")


def test_pair_keys_do_not_depend_on_who_starts() -> None:
    a, b, shop = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert domain.person_pair_key(a, b) == domain.person_pair_key(b, a)
    assert domain.shop_pair_key(a, shop) != domain.shop_pair_key(b, shop)
    assert len(domain.person_pair_key(a, b)) <= 90


def _refused(to_self: bool, blocked: bool, suspended: bool) -> tuple[int, str] | None:
    refused = domain.refusal(domain.Facts(to_self, blocked, suspended))
    return None if refused is None else refused[:2]


def test_refusals_in_order() -> None:
    assert _refused(False, False, False) is None
    assert _refused(True, True, True) == (422, "message_self")
    assert _refused(False, True, True) == (403, "blocked")
    assert _refused(False, False, True) == (403, "shop_suspended")


def test_an_order_is_shown_only_between_its_buyer_and_its_shop() -> None:
    buyer, other, shop, other_shop = (uuid.uuid4() for _ in range(4))
    facts = {"order_buyer_id": buyer, "order_shop_id": shop}
    assert domain.order_may_be_referenced(
        **facts, conversation_person_id=buyer, conversation_shop_id=shop
    )
    assert not domain.order_may_be_referenced(
        **facts, conversation_person_id=other, conversation_shop_id=shop
    )
    assert not domain.order_may_be_referenced(
        **facts, conversation_person_id=buyer, conversation_shop_id=other_shop
    )
    assert not domain.order_may_be_referenced(
        **facts, conversation_person_id=buyer, conversation_shop_id=None
    )
