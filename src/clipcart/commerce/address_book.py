"""A buyer's address book: saved shipping addresses validated for their country, the default
one, and the snapshot an order keeps. Services never commit."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.commerce.address_rules import FIELDS, validate_address
from clipcart.commerce.models import Address
from clipcart.core.errors import Conflict, FieldErrors, NotFound

MAX_ADDRESSES = 50

AddressFields = BaseModel | Mapping[str, Any]


def _as_fields(address_in: AddressFields) -> dict[str, str]:
    raw = address_in.model_dump() if isinstance(address_in, BaseModel) else dict(address_in)
    return {field: "" if raw.get(field) is None else str(raw[field]) for field in FIELDS}


def _raise_errors(errors: dict[str, str]) -> None:
    collected = FieldErrors()
    for field in FIELDS:
        if field in errors:
            collected.add(field, [errors[field]])
    collected.raise_if_any()


def validate_inline(fields: AddressFields) -> dict[str, str]:
    """An unsaved address (checkout) normalised; 422 listing every field's problem."""
    clean, errors = validate_address(_as_fields(fields))
    _raise_errors(errors)
    return clean


async def list_addresses(user: User, *, session: AsyncSession) -> list[Address]:
    """The user's addresses, the default first, then newest first."""
    rows = await session.scalars(
        select(Address)
        .where(Address.user_id == user.id)
        .order_by(Address.is_default.desc(), Address.created_at.desc(), Address.id.desc())
    )
    return list(rows.all())


async def get_address_for(user: User, address_id: uuid.UUID, *, session: AsyncSession) -> Address:
    """One of the user's own addresses (404 for anyone else's)."""
    address = await session.get(Address, address_id)
    if address is None or address.user_id != user.id:
        raise NotFound("There is no such address in your address book.", code="address_not_found")
    return address


async def default_address(user_id: uuid.UUID, *, session: AsyncSession) -> Address | None:
    """The user's default address, else their newest, else None."""
    address: Address | None = await session.scalar(
        select(Address)
        .where(Address.user_id == user_id)
        .order_by(Address.is_default.desc(), Address.created_at.desc(), Address.id.desc())
        .limit(1)
    )
    return address


async def _clear_default(user_id: uuid.UUID, *, session: AsyncSession) -> None:
    await session.execute(
        update(Address)
        .where(Address.user_id == user_id, Address.is_default.is_(True))
        .values(is_default=False)
        .execution_options(synchronize_session="fetch")
    )


async def save_address(
    user: User, address_in: AddressFields, *, session: AsyncSession, make_default: bool = False
) -> Address:
    """Save a new address (422 listing every field's problem); the first one is the default."""
    clean = validate_inline(address_in)
    count = await session.scalar(
        select(func.count()).select_from(Address).where(Address.user_id == user.id)
    )
    if (count or 0) >= MAX_ADDRESSES:
        raise Conflict(
            f"Your address book is full ({MAX_ADDRESSES}). Delete an address first.",
            code="address_book_full",
        )
    wants_default = make_default or bool(
        getattr(address_in, "is_default", False)
        if isinstance(address_in, BaseModel)
        else dict(address_in).get("is_default")
    )
    is_default = wants_default or not count
    if is_default:
        await _clear_default(user.id, session=session)
    address = Address(user_id=user.id, is_default=is_default, **clean)
    session.add(address)
    await session.flush()
    return address


async def update_address(
    user: User, address_id: uuid.UUID, changes: AddressFields, *, session: AsyncSession
) -> Address:
    """Change some fields of one of the user's addresses (validated as a whole)."""
    address = await get_address_for(user, address_id, session=session)
    given = (
        changes.model_dump(exclude_unset=True) if isinstance(changes, BaseModel) else dict(changes)
    )
    merged = {field: getattr(address, field) for field in FIELDS}
    merged.update(
        {key: value for key, value in given.items() if key in FIELDS and value is not None}
    )
    clean = validate_inline(merged)
    for field, value in clean.items():
        setattr(address, field, value)
    if given.get("is_default"):
        await set_default_address(user, address.id, session=session)
    await session.flush()
    return address


async def set_default_address(
    user: User, address_id: uuid.UUID, *, session: AsyncSession
) -> Address:
    """Make one of the user's addresses the default."""
    address = await get_address_for(user, address_id, session=session)
    await _clear_default(user.id, session=session)
    address.is_default = True
    await session.flush()
    return address


async def delete_address(user: User, address_id: uuid.UUID, *, session: AsyncSession) -> None:
    """Delete one of the user's addresses; the newest other one becomes the default."""
    address = await get_address_for(user, address_id, session=session)
    was_default = address.is_default
    await session.delete(address)
    await session.flush()
    if was_default:
        successor = await default_address(user.id, session=session)
        if successor is not None:
            successor.is_default = True
            await session.flush()


def address_snapshot(address: Address | Mapping[str, Any]) -> dict[str, str]:
    """The address as an order keeps it (Order.ship_to): later edits do not move it."""
    if isinstance(address, Address):
        return {field: str(getattr(address, field) or "") for field in FIELDS}
    return {field: str(address.get(field) or "") for field in FIELDS}
