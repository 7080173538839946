"""Idempotency-Key for POSTs that create money movements: the first answer is stored and
replayed, the same key with another body is a 422, a duplicate still in flight is a 409.

The claim is committed before the work starts (so a concurrent duplicate sees it); the stored
answer is written in the request's final transaction, together with the work. A request that
fails releases its claim so the client may retry; a claim left by a crashed process may be
taken over after `idempotency_lock_seconds`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, cast

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import (
    JSON,
    Exists,
    Integer,
    String,
    Table,
    UniqueConstraint,
    bindparam,
    delete,
    exists,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from clipcart.core import clock
from clipcart.core.config import get_settings
from clipcart.core.db import Base, IdMixin, TimestampMixin, insert_for
from clipcart.core.errors import BadRequest, Conflict, ValidationFailed
from clipcart.core.ids import new_id

IN_PROGRESS = "in_progress"
COMPLETED = "completed"
MAX_KEY_LENGTH = 255
REPLAY_HEADER = "Idempotent-Replayed"


class IdempotencyRecord(IdMixin, TimestampMixin, Base):
    """One Idempotency-Key of one caller: what was asked, and the answer once there is one."""

    __tablename__ = "idempotency_keys"

    owner_id: Mapped[uuid.UUID]
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    locked_at: Mapped[datetime]
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[Any | None] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("owner_id", "key"),)


def fingerprint(method: str, path: str, body: Any) -> str:
    """A hash of what was asked: method, path and the body as canonical JSON."""
    canonical = json.dumps(jsonable_encoder(body), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{method.upper()} {path}\n{canonical}".encode()).hexdigest()


_KEYS = cast(Table, IdempotencyRecord.__table__)


@functools.cache
def _claim(dialect: str) -> Any:
    """The claim, written unless the key is taken: built once per database (every order and
    payment claims a key; building a statement costs about as much as running it)."""
    return insert_for(dialect)(_KEYS).on_conflict_do_nothing().returning(_KEYS.c.id)


# Built once, like the claim: the answer stored for a claimed key.
_ANSWER = (
    update(IdempotencyRecord)
    .where(IdempotencyRecord.id == bindparam("record_id"))
    .values(
        state=COMPLETED,
        response_status=bindparam("answer_status"),
        response_body=bindparam("answer_body"),
    )
)


def key_used() -> Exists:
    """Whether a caller used a key before (bound as `owner_id` and `key`), as a clause to read
    along with something else: a replay must get the stored answer, not a fresh one."""
    return exists().where(
        IdempotencyRecord.owner_id == bindparam("owner_id"),
        IdempotencyRecord.key == bindparam("key"),
    )


def check_key(key: str | None) -> str:
    """The key, or a 400 when it is missing or malformed."""
    if not key or not key.strip():
        raise BadRequest(
            "Send an Idempotency-Key header (a random string, one per operation).",
            code="idempotency_key_required",
        )
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise BadRequest(
            f"The Idempotency-Key must be at most {MAX_KEY_LENGTH} printable characters.",
            code="idempotency_key_invalid",
        )
    return key


async def claim(
    *, owner_id: uuid.UUID, key: str, request_hash: str, session: AsyncSession
) -> IdempotencyRecord:
    """Claim `key` for this request and COMMIT the claim; the stored record when it was already
    answered (state completed). 422 for another body, 409 while another request holds it."""
    key = check_key(key)
    now = clock.now()
    values: dict[str, Any] = {
        "id": new_id(),
        "created_at": now,
        "owner_id": owner_id,
        "key": key,
        "request_hash": request_hash,
        "state": IN_PROGRESS,
        "locked_at": now,
    }
    inserted = await session.execute(_claim(session.get_bind().dialect.name), values)
    if inserted.first() is not None:
        # Ours: what was just written, without reading it back.
        await session.commit()
        return IdempotencyRecord(**values)
    record = await session.scalar(
        select(IdempotencyRecord)
        .where(IdempotencyRecord.owner_id == owner_id, IdempotencyRecord.key == key)
        .execution_options(populate_existing=True)
    )
    assert record is not None
    if record.request_hash != request_hash:
        await session.rollback()
        raise ValidationFailed(
            "This Idempotency-Key was used for a different request. Use a new key.",
            code="idempotency_key_reused",
        )
    if record.state == IN_PROGRESS:
        stale = now - timedelta(seconds=get_settings().idempotency_lock_seconds)
        taken = await session.execute(
            update(IdempotencyRecord)
            .where(
                IdempotencyRecord.id == record.id,
                IdempotencyRecord.state == IN_PROGRESS,
                IdempotencyRecord.locked_at < stale,
            )
            .values(locked_at=now)
        )
        if getattr(taken, "rowcount", 0) != 1:
            await session.rollback()
            raise Conflict(
                "A request with this Idempotency-Key is still being processed. Retry shortly.",
                code="idempotency_key_in_flight",
                headers={"Retry-After": "1"},
            )
        record.locked_at = now
    await session.commit()
    return record


async def release(record_id: uuid.UUID, *, session: AsyncSession) -> None:
    """Forget an unanswered claim (its request failed), so the client may retry; commits."""
    await session.rollback()
    await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.id == record_id, IdempotencyRecord.state == IN_PROGRESS
        )
    )
    await session.commit()


def replay(record: IdempotencyRecord) -> JSONResponse:
    """The stored answer, marked as a replay."""
    return JSONResponse(
        record.response_body,
        status_code=record.response_status or 200,
        headers={REPLAY_HEADER: "true"},
    )


async def run_idempotent(
    *,
    owner_id: uuid.UUID,
    key: str | None,
    request_hash: str,
    status_code: int,
    work: Callable[[], Awaitable[Any]],
    session: AsyncSession,
) -> JSONResponse:
    """Run `work` once per (owner, key): store its answer in the same transaction, replay it."""
    record = await claim(
        owner_id=owner_id, key=check_key(key), request_hash=request_hash, session=session
    )
    if record.state == COMPLETED:
        return replay(record)
    record_id = record.id
    try:
        result = await work()
    except BaseException:
        await release(record_id, session=session)
        raise
    body = jsonable_encoder(result)
    await session.execute(
        _ANSWER, {"record_id": record_id, "answer_status": status_code, "answer_body": body}
    )
    return JSONResponse(body, status_code=status_code)
