"""Shop use cases: open a shop, load it for the public or for its staff, settings, staff,
logo. Services never commit: the unit of work at the edge does."""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from collections.abc import Collection
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts import service as accounts
from clipcart.accounts.models import User
from clipcart.core import events, images
from clipcart.core.config import get_settings
from clipcart.core.errors import (
    Conflict,
    FieldErrors,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
)
from clipcart.shops import domain
from clipcart.shops.models import Shop, ShopStaff
from clipcart.shops.schemas import ShopIn, ShopUpdateIn, StaffIn

SELLER_ACCOUNT_ROLE = "seller_staff"
LOGO_MAX_BYTES = 5 * 1024 * 1024


def _check_profile(
    errors: FieldErrors,
    *,
    name: str,
    description: str,
    country: str,
    return_policy: str,
    flat_rate: int,
    free_threshold: int | None,
    processing_days: int,
) -> None:
    errors.add("name", domain.name_problems(name))
    errors.add("description", domain.text_problems(description))
    errors.add("country", domain.country_problems(country))
    errors.add("return_policy", domain.text_problems(return_policy))
    shipping = domain.shipping_problems(
        flat_rate=flat_rate, free_threshold=free_threshold, processing_days=processing_days
    )
    for field, messages in shipping.items():
        errors.add(field, messages)


async def _grant_seller_role(user: User, *, session: AsyncSession) -> None:
    await accounts.grant_role(user, SELLER_ACCOUNT_ROLE, session=session)


async def open_shop(owner: User, shop_in: ShopIn, *, session: AsyncSession) -> Shop:
    """Open a shop owned by `owner` (who becomes its owner and a seller); 422/409 on problems."""
    errors = FieldErrors()
    handle = domain.normalize_handle(shop_in.handle)
    errors.add("handle", domain.handle_problems(handle))
    currency = shop_in.currency.strip().upper()
    country = shop_in.country.strip().upper()
    errors.add("currency", domain.currency_problems(currency))
    _check_profile(
        errors,
        name=shop_in.name.strip(),
        description=shop_in.description,
        country=country,
        return_policy=shop_in.return_policy,
        flat_rate=shop_in.shipping_flat_rate,
        free_threshold=shop_in.free_shipping_threshold,
        processing_days=shop_in.processing_days,
    )
    errors.raise_if_any()
    taken = await session.scalar(
        select(func.count()).select_from(Shop).where(Shop.handle == handle)
    )
    if taken:
        raise Conflict(
            "That shop handle is taken. Try another.",
            code="already_taken",
            data={"errors": [{"field": "handle", "message": "That shop handle is taken."}]},
        )
    shop = Shop(
        handle=handle,
        name=shop_in.name.strip(),
        description=shop_in.description.strip(),
        country=country,
        currency=currency,
        return_policy=shop_in.return_policy.strip(),
        shipping_flat_rate=shop_in.shipping_flat_rate,
        free_shipping_threshold=shop_in.free_shipping_threshold,
        processing_days=shop_in.processing_days,
    )
    session.add(shop)
    try:
        await session.flush()
    except IntegrityError as error:  # a concurrent request took the handle
        raise Conflict("That shop handle was just taken.", code="already_taken") from error
    session.add(ShopStaff(shop_id=shop.id, user_id=owner.id, role="owner"))
    await _grant_seller_role(owner, session=session)
    await session.flush()
    return shop


async def get_shop_by_handle(handle: str, *, session: AsyncSession) -> Shop:
    """The shop with this @handle (404 when there is none)."""
    shop = await session.scalar(select(Shop).where(Shop.handle == domain.normalize_handle(handle)))
    if shop is None:
        raise NotFound("There is no shop with that handle.", code="shop_not_found")
    return shop


async def get_shop(shop_id: uuid.UUID, *, session: AsyncSession) -> Shop:
    """The shop with this id (404 when there is none)."""
    shop = await session.get(Shop, shop_id)
    if shop is None:
        raise NotFound("There is no such shop.", code="shop_not_found")
    return shop


async def staff_role(
    user_id: uuid.UUID, shop_id: uuid.UUID, *, session: AsyncSession
) -> str | None:
    """The role `user_id` holds in the shop, or None when they are not staff."""
    role: str | None = await session.scalar(
        select(ShopStaff.role).where(ShopStaff.shop_id == shop_id, ShopStaff.user_id == user_id)
    )
    return role


async def is_shop_staff(user_id: uuid.UUID, shop_id: uuid.UUID, *, session: AsyncSession) -> bool:
    """True when the user works for the shop in any role."""
    return await staff_role(user_id, shop_id, session=session) is not None


def _check_role(role: str | None, roles: frozenset[str] | None) -> None:
    if role is None:
        # Outsiders get the same answer as for a shop that does not exist.
        raise NotFound("There is no shop with that handle.", code="shop_not_found")
    if roles is not None and role not in roles:
        raise Forbidden(
            "Your role in this shop does not allow that.",
            code="shop_role_required",
            data={"required_roles": sorted(roles), "role": role},
        )


async def get_shop_for_staff(
    user: User, handle: str, *, session: AsyncSession, roles: frozenset[str] | None = None
) -> Shop:
    """The shop `user` works for (404 to outsiders; 403 when their role is not in `roles`)."""
    shop = await session.scalar(select(Shop).where(Shop.handle == domain.normalize_handle(handle)))
    if shop is None:
        raise NotFound("There is no shop with that handle.", code="shop_not_found")
    _check_role(await staff_role(user.id, shop.id, session=session), roles)
    return shop


async def get_shop_by_id_for_staff(
    user: User, shop_id: uuid.UUID, *, session: AsyncSession, roles: frozenset[str] | None = None
) -> Shop:
    """Like get_shop_for_staff, by id."""
    shop = await session.get(Shop, shop_id)
    if shop is None:
        raise NotFound("There is no such shop.", code="shop_not_found")
    _check_role(await staff_role(user.id, shop.id, session=session), roles)
    return shop


async def list_shops_for_user(user: User, *, session: AsyncSession) -> list[Shop]:
    """The shops `user` works for, oldest first."""
    rows = await session.scalars(
        select(Shop)
        .join(ShopStaff, ShopStaff.shop_id == Shop.id)
        .where(ShopStaff.user_id == user.id)
        .order_by(Shop.created_at, Shop.id)
    )
    return list(rows.all())


async def update_shop(shop: Shop, shop_in: ShopUpdateIn, *, session: AsyncSession) -> Shop:
    """Change a shop's settings (422 listing every problem; nothing changes then)."""
    threshold = shop.free_shipping_threshold
    if shop_in.clear_free_shipping_threshold:
        threshold = None
    elif shop_in.free_shipping_threshold is not None:
        threshold = shop_in.free_shipping_threshold
    name = shop.name if shop_in.name is None else shop_in.name.strip()
    description = shop.description if shop_in.description is None else shop_in.description.strip()
    country = shop.country if shop_in.country is None else shop_in.country.strip().upper()
    policy = shop.return_policy if shop_in.return_policy is None else shop_in.return_policy.strip()
    flat_rate = (
        shop.shipping_flat_rate
        if shop_in.shipping_flat_rate is None
        else shop_in.shipping_flat_rate
    )
    days = shop.processing_days if shop_in.processing_days is None else shop_in.processing_days
    errors = FieldErrors()
    _check_profile(
        errors,
        name=name,
        description=description,
        country=country,
        return_policy=policy,
        flat_rate=flat_rate,
        free_threshold=threshold,
        processing_days=days,
    )
    errors.raise_if_any()
    shop.name, shop.description, shop.country, shop.return_policy = (
        name,
        description,
        country,
        policy,
    )
    shop.shipping_flat_rate, shop.free_shipping_threshold, shop.processing_days = (
        flat_rate,
        threshold,
        days,
    )
    await session.flush()
    return shop


# --- staff --------------------------------------------------------------------------------


async def list_staff(shop: Shop, *, session: AsyncSession) -> list[tuple[ShopStaff, str]]:
    """The shop's staff with their user handles, owner first."""
    rows = await session.execute(
        select(ShopStaff, User.handle)
        .join(User, User.id == ShopStaff.user_id)
        .where(ShopStaff.shop_id == shop.id)
        .order_by(ShopStaff.added_at, ShopStaff.user_id)
    )
    return [(staff, handle) for staff, handle in rows.all()]


async def add_staff(shop: Shop, staff_in: StaffIn, *, session: AsyncSession) -> ShopStaff:
    """Give someone (by user handle) a manager or fulfilment role in the shop."""
    if staff_in.role not in domain.STAFF_ROLES or staff_in.role == "owner":
        raise ValidationFailed.field("role", "Choose manager or fulfilment.")
    user = await accounts.get_user_by_handle(staff_in.user_handle, session=session)
    existing = await session.get(ShopStaff, (shop.id, user.id))
    if existing is not None:
        if existing.role == "owner":
            raise Conflict("The owner's role cannot be changed.", code="owner_role_fixed")
        existing.role = staff_in.role
        await session.flush()
        return existing
    staff = ShopStaff(shop_id=shop.id, user_id=user.id, role=staff_in.role)
    session.add(staff)
    await _grant_seller_role(user, session=session)
    await session.flush()
    return staff


async def remove_staff(shop: Shop, user_handle: str, *, session: AsyncSession) -> None:
    """Take someone off the shop's staff (the owner cannot be removed)."""
    user = await accounts.get_user_by_handle(user_handle, session=session)
    existing = await session.get(ShopStaff, (shop.id, user.id))
    if existing is None:
        raise NotFound("That person is not on this shop's staff.", code="staff_not_found")
    if existing.role == "owner":
        raise Conflict("The owner cannot be removed from the shop.", code="owner_role_fixed")
    await session.delete(existing)
    await session.flush()
    # The seller role says "works for a shop" (the pages' Seller center link): it goes with
    # the last shop.
    if await session.scalar(select(ShopStaff.shop_id).where(ShopStaff.user_id == user.id)) is None:
        await accounts.revoke_role(user, SELLER_ACCOUNT_ROLE, session=session)


async def staff_ids_by_shop(
    shop_ids: Collection[uuid.UUID], *, session: AsyncSession
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """The user ids of each shop's staff, for several shops in one query."""
    staff: dict[uuid.UUID, set[uuid.UUID]] = {shop_id: set() for shop_id in shop_ids}
    if shop_ids:
        rows = await session.execute(
            select(ShopStaff.shop_id, ShopStaff.user_id).where(
                ShopStaff.shop_id.in_(list(shop_ids))
            )
        )
        for shop_id, user_id in rows:
            staff[shop_id].add(user_id)
    return staff


# --- logo ---------------------------------------------------------------------------------


def logo_directory() -> Path:
    """Where shop logo files are stored."""
    return get_settings().resolved_media_root / "shops"


def _write_files(directory: Path, names_and_content: dict[str, bytes]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in names_and_content.items():
        final = directory / name
        partial = final.with_suffix(".part")
        partial.write_bytes(content)
        os.replace(partial, final)  # never serve a half-written file


def _delete_logo_files(directory: Path, key: str) -> None:
    for size in domain.LOGO_SIZES:
        (directory / domain.logo_filename(key, size)).unlink(missing_ok=True)


async def set_logo(shop: Shop, content: bytes, *, session: AsyncSession) -> Shop:
    """Check and re-encode an uploaded logo (square WebP) and make it the shop's logo."""
    if len(content) > LOGO_MAX_BYTES:
        raise PayloadTooLarge("Use an image under 5 MB.", code="logo_too_large")
    rendered = await asyncio.to_thread(
        images.render_square, content, domain.LOGO_SIZES, field="logo", code="logo_invalid"
    )
    key = secrets.token_hex(16)
    directory = logo_directory()
    files = {domain.logo_filename(key, size): data for size, data in rendered.files.items()}
    await asyncio.to_thread(_write_files, directory, files)
    previous, shop.logo_key = shop.logo_key, key
    await session.flush()
    if previous:
        events.after_commit(session, lambda: _delete_logo_files(directory, previous))
    return shop


async def shops_by_ids(
    shop_ids: Collection[uuid.UUID], *, session: AsyncSession
) -> dict[uuid.UUID, Shop]:
    """The shops with these ids, by id, read in one query (unknown ids are left out)."""
    wanted = set(shop_ids)
    if not wanted:
        return {}
    rows = await session.scalars(select(Shop).where(Shop.id.in_(wanted)))
    return {shop.id: shop for shop in rows}


SHOP_STATUSES = ("active", "suspended")


async def set_shop_status(shop: Shop, status: str, *, session: AsyncSession) -> Shop:
    """Suspend a shop (its products stop being shown and sold) or lift the suspension."""
    if status not in SHOP_STATUSES:
        raise ValidationFailed.field("status", "Choose active or suspended.")
    shop.status = status
    await session.flush()
    return shop


async def record_fulfilment_scores(
    tallies: dict[uuid.UUID, tuple[int, int]], *, session: AsyncSession
) -> int:
    """Set every shop's fulfilment score from its (orders due, orders kept) tally; shops not
    in `tallies` had no orders due. How many shops' scores changed."""
    changed = 0
    for shop in await session.scalars(select(Shop)):
        due, kept = tallies.get(shop.id, (0, 0))
        score = domain.fulfilment_score(due, kept)
        if (shop.fulfilment_score, shop.fulfilment_orders) != (score, due):
            shop.fulfilment_score, shop.fulfilment_orders = score, due
            changed += 1
    await session.flush()
    return changed
