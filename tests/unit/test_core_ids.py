"""Public ids are UUIDv7 (opaque, time-ordered); tokens are random and stored only as hashes."""

from __future__ import annotations

import itertools
import string
import time
import uuid

from clipcart.core.ids import hash_token, new_id, new_token


def test_new_id_is_a_version_7_rfc_9562_uuid() -> None:
    value = new_id()
    assert isinstance(value, uuid.UUID)
    assert value.version == 7
    assert value.variant == uuid.RFC_4122


def test_new_id_embeds_the_current_unix_time_in_milliseconds() -> None:
    before = int(time.time() * 1000)
    value = new_id()
    after = int(time.time() * 1000)
    assert before <= value.int >> 80 <= after


def test_new_ids_are_unique_and_strictly_increasing() -> None:
    ids = [new_id() for _ in range(20_000)]  # many share a millisecond
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert all(earlier < later for earlier, later in itertools.pairwise(ids))
    # the text form sorts the same way (what SQLite and logs compare)
    assert [str(value) for value in ids] == sorted(str(value) for value in ids)


def test_new_ids_increase_across_time() -> None:
    first = new_id()
    time.sleep(0.005)
    assert new_id() > first


def test_hash_token_is_sha256_hex_and_stable() -> None:
    assert hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    token = new_token()
    assert hash_token(token) == hash_token(token)
    assert hash_token(token) != hash_token(token + "x")
    assert hash_token(token) != token


def test_new_token_is_256_random_bits_url_safe_with_prefix() -> None:
    tokens = {new_token("cc_") for _ in range(2_000)}
    assert len(tokens) == 2_000
    alphabet = set(string.ascii_letters + string.digits + "-_")
    for token in tokens:
        assert token.startswith("cc_")
        body = token.removeprefix("cc_")
        assert len(body) == 43  # 32 bytes, base64url without padding
        assert set(body) <= alphabet
