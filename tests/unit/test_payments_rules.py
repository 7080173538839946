"""Pure payment rules: webhook signatures and the forward-only intent states."""

from __future__ import annotations

import pytest

from clipcart.payments import domain, signatures


def test_signature_round_trip_and_tolerance() -> None:
    body = b'{"id":"evt_1"}'
    header = signatures.sign("s3cret", 1_000, body)
    assert signatures.verify(header, body, secret="s3cret", now=1_300, tolerance=300) == 1_000
    with pytest.raises(signatures.SignatureError):
        signatures.verify(header, body, secret="s3cret", now=1_301, tolerance=300)
    with pytest.raises(signatures.SignatureError):
        signatures.verify(header, body + b" ", secret="s3cret", now=1_000, tolerance=300)
    with pytest.raises(signatures.SignatureError):
        signatures.verify(header, body, secret="other", now=1_000, tolerance=300)
    for bad in (None, "", "v1=abc", "t=1000", "t=x,v1=abc"):
        with pytest.raises(signatures.SignatureError):
            signatures.verify(bad, body, secret="s3cret", now=1_000, tolerance=300)


def test_intents_only_move_forward() -> None:
    assert domain.may_move(domain.PROCESSING, domain.AUTHORISED)
    assert not domain.may_move(domain.CAPTURED, domain.AUTHORISED)
    assert not domain.may_move(domain.CAPTURED, domain.FAILED)
    assert domain.may_move(domain.REQUIRES_ACTION, domain.CANCELLED)
    assert not domain.may_move(domain.REFUNDED, domain.CAPTURED)
    assert not domain.may_move(domain.FAILED, domain.AUTHORISED)
    assert domain.refunded_status(100, 0) == domain.CAPTURED
    assert domain.refunded_status(100, 40) == domain.PARTIALLY_REFUNDED
    assert domain.refunded_status(100, 100) == domain.REFUNDED
