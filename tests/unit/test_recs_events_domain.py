"""Pure rules of the event log: codes, the clock window, views, parsing a batch."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clipcart.core.errors import PayloadTooLarge, ValidationFailed
from clipcart.recs import domain
from clipcart.recs.schemas import MAX_BATCH, EventIn, event_adapter
from clipcart.recs.service import parse_batch

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_type_and_surface_codes_are_unique_small_and_cover_the_schema() -> None:
    assert len(set(domain.EVENT_TYPE_CODES.values())) == len(domain.EVENT_TYPE_CODES)
    assert all(0 < code < 32_768 for code in domain.EVENT_TYPE_CODES.values())
    assert len(set(domain.SURFACE_CODES.values())) == len(domain.SURFACE_CODES)
    schema = json.dumps(event_adapter.json_schema())
    for name in domain.EVENT_TYPE_CODES:
        assert f'"{name}"' in schema
    for name in domain.SURFACE_CODES:
        assert f'"{name}"' in schema
    assert domain.EVENT_TYPE_NAMES[domain.EVENT_TYPE_CODES["watch"]] == "watch"


@pytest.mark.parametrize(
    ("offset", "problem"),
    [
        (timedelta(0), None),
        (timedelta(hours=1), None),
        (timedelta(hours=1, microseconds=1), "future"),
        (-timedelta(days=7), None),
        (-timedelta(days=7, microseconds=1), "past"),
        (timedelta(days=400), "future"),
    ],
)
def test_the_clock_window(offset: timedelta, problem: str | None) -> None:
    reason = domain.clock_problem(NOW + offset, now=NOW)
    assert (reason is None) if problem is None else (reason is not None and problem in reason)


def test_only_impressions_with_a_video_count_as_views() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    impression, watch = domain.EVENT_TYPE_CODES["impression"], domain.EVENT_TYPE_CODES["watch"]
    events: list[tuple[int, uuid.UUID | None]] = [
        (impression, first),
        (impression, first),
        (watch, first),
        (impression, second),
    ]
    events.append((impression, None))
    assert domain.count_views(events) == {first: 2, second: 1}
    assert domain.count_views([]) == {}


def test_error_locations_read_as_field_names() -> None:
    assert (
        domain.describe_error(("watch", "watch_ms"), "Field required") == "watch_ms: Field required"
    )
    assert domain.describe_error((), "Input should be an object") == "Input should be an object"


def _event(**fields: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": "impression",
        "occurred_at": NOW.isoformat(),
        "video_id": str(uuid.uuid4()),
        **fields,
    }


def test_parse_batch_keeps_the_good_and_explains_the_bad() -> None:
    body = json.dumps({"events": [_event(), _event(type="watch"), _event(position=-1)]})
    valid, rejected = parse_batch(body.encode())
    assert [index for index, _ in valid] == [0]
    assert [(r.index, r.reason) for r in rejected] == [
        (1, "watch_ms: Field required"),
        (2, "position: Input should be greater than or equal to 0"),
    ]


def test_parse_batch_refuses_bodies_that_are_not_a_batch() -> None:
    for body in (b"", b"[]", b'{"events": {}}', b'{"events": []}', b"\xff"):
        with pytest.raises(ValidationFailed):
            parse_batch(body)
    with pytest.raises(PayloadTooLarge):
        parse_batch(json.dumps({"events": [_event()] * (MAX_BATCH + 1)}).encode())
    with pytest.raises(PayloadTooLarge):
        parse_batch(json.dumps({"events": [1] * (MAX_BATCH + 1)}).encode())


def test_unknown_fields_are_ignored_and_zones_normalised() -> None:
    event: EventIn = event_adapter.validate_python(
        _event(occurred_at="2026-11-24T13:00:00+01:00", extra="x")
    )
    assert event.occurred_at == NOW
    assert not hasattr(event, "extra")


_uuids = st.uuids().map(str)
_events = st.one_of(
    st.builds(lambda v: _event(video_id=v), _uuids),
    st.builds(
        lambda v, w, d, c: _event(type="watch", video_id=v, watch_ms=w, duration_ms=d, completed=c),
        _uuids,
        st.integers(0, 86_400_000),
        st.integers(0, 86_400_000),
        st.booleans(),
    ),
    st.builds(
        lambda p, v: _event(type="add_to_cart", product_id=p, variant_id=v, video_id=None),
        _uuids,
        _uuids,
    ),
    st.builds(
        lambda c: _event(type="visit", share_code=c),
        st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
    ),
)


@given(st.lists(_events, min_size=1, max_size=20))
def test_any_valid_batch_parses_whole_and_in_order(events: list[dict[str, Any]]) -> None:
    valid, rejected = parse_batch(json.dumps({"events": events}).encode())
    assert rejected == []
    assert [str(event.id) for _, event in valid] == [event["id"] for event in events]
    assert [event.type for _, event in valid] == [event["type"] for event in events]
