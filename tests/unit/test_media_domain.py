"""Pure video rules: caption parsing, limits, tag ranges, geometry and byte ranges."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clipcart.media import domain
from clipcart.media.domain import CaptionPart, RangeNotSatisfiable, parse_byte_range


def test_caption_parts_keep_text_and_find_tags_and_mentions() -> None:
    parts = domain.parse_caption("New drop! #Summer_Haul by @Maya.Lee, see #café.")
    assert parts == [
        CaptionPart("text", "New drop! "),
        CaptionPart("hashtag", "#Summer_Haul", "summer_haul"),
        CaptionPart("text", " by "),
        CaptionPart("mention", "@Maya.Lee", "maya.lee"),
        CaptionPart("text", ", see "),
        CaptionPart("hashtag", "#café", "café"),
        CaptionPart("text", "."),
    ]


@pytest.mark.parametrize(
    "caption",
    ["email me at jo@example.com", "C# and F# are languages", "a#b", "## nothing", "@", "#"],
)
def test_things_that_are_not_tags_or_mentions(caption: str) -> None:
    assert domain.hashtags(caption) == []
    assert domain.mentions(caption) == []


def test_hashtags_and_mentions_are_distinct_lower_case_in_order() -> None:
    caption = "#B #a #b @Zed @zed @amy"
    assert domain.hashtags(caption) == ["b", "a"]
    assert domain.mentions(caption) == ["zed", "amy"]


@given(st.text(max_size=200))
def test_parsing_never_loses_text(caption: str) -> None:
    assert "".join(part.text for part in domain.parse_caption(caption)) == caption


def test_caption_and_duration_limits() -> None:
    assert domain.caption_problems("x" * 2200) == []
    assert domain.caption_problems("x" * 2201)
    assert domain.duration_problems(10, minimum=0.2, maximum=180) == []
    assert "limit is 180" in domain.duration_problems(200, minimum=0.2, maximum=180)[0]
    assert domain.duration_problems(float("nan"), minimum=0.2, maximum=180)
    assert domain.duration_problems(None, minimum=0.2, maximum=180)
    assert domain.duration_problems(0.1, minimum=0.2, maximum=180)


def test_tag_ranges_and_cover_times() -> None:
    assert domain.tag_range_problems(None, None, 10) == []
    assert domain.tag_range_problems(1, 5, 10) == []
    assert domain.tag_range_problems(5, 5, 10)
    assert domain.tag_range_problems(-1, None, 10)
    assert domain.tag_range_problems(11, None, 10)
    assert domain.tag_range_problems(2, 12, 10)
    assert domain.cover_time_problems(3, 10) == []
    assert domain.cover_time_problems(11, 10)
    assert domain.cover_time_problems(-1, 10)


@pytest.mark.parametrize(
    ("size", "fitted"),
    [((1920, 1080), (720, 404)), ((1080, 1920), (720, 1280)), ((320, 240), (720, 540))],
)
def test_letterbox_fit(size: tuple[int, int], fitted: tuple[int, int]) -> None:
    assert domain.fit_inside(*size, 720, 1280) == fitted


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-99", (0, 99)),
        ("bytes=100-", (100, 999)),
        ("bytes=-100", (900, 999)),
        ("bytes=-5000", (0, 999)),
        ("bytes=990-5000", (990, 999)),
        ("bytes=5-1", None),
        ("items=0-1", None),
        ("bytes=0-1,5-6", None),
        ("bytes=abc", None),
    ],
)
def test_byte_ranges(header: str | None, expected: tuple[int, int] | None) -> None:
    assert parse_byte_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_unsatisfiable_byte_ranges(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_byte_range(header, 1000)
