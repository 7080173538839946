"""Shops API under /api/v1/shops: open, mine, public page data, settings, logo, staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Response, UploadFile

from clipcart.accounts.dependencies import require_role, require_scope
from clipcart.accounts.models import User
from clipcart.core.routing import DbSession, make_router
from clipcart.shops import service
from clipcart.shops.domain import CATALOG_ROLES
from clipcart.shops.schemas import ShopIn, ShopOut, ShopUpdateIn, StaffIn, StaffOut

router = make_router(prefix="/api/v1/shops", tags=["shops"])

AccountReader = Annotated[User, Depends(require_scope("account:read"))]
CatalogWriter = Annotated[User, Depends(require_scope("catalog:write"))]
OWNER_ONLY = frozenset({"owner"})
Moderator = Annotated[User, Depends(require_role("moderator", "admin"))]


@router.post("", status_code=201)
async def open_shop(data: ShopIn, user: CatalogWriter, db: DbSession) -> ShopOut:
    """Open a shop; you become its owner."""
    return ShopOut.of(await service.open_shop(user, data, session=db))


@router.get("/mine")
async def my_shops(user: AccountReader, db: DbSession) -> list[ShopOut]:
    """The shops you work for."""
    return [ShopOut.of(shop) for shop in await service.list_shops_for_user(user, session=db)]


@router.get("/{handle}")
async def get_shop(handle: str, db: DbSession) -> ShopOut:
    """A shop by @handle."""
    return ShopOut.of(await service.get_shop_by_handle(handle, session=db))


@router.patch("/{handle}")
async def update_shop(
    handle: str, data: ShopUpdateIn, user: CatalogWriter, db: DbSession
) -> ShopOut:
    """Change the shop's settings (owner or manager)."""
    shop = await service.get_shop_for_staff(user, handle, session=db, roles=CATALOG_ROLES)
    return ShopOut.of(await service.update_shop(shop, data, session=db))


@router.put("/{handle}/logo")
async def put_logo(
    handle: str, user: CatalogWriter, db: DbSession, file: Annotated[UploadFile, File()]
) -> ShopOut:
    """Upload the shop's logo (JPEG, PNG, WebP or GIF; cropped square)."""
    shop = await service.get_shop_for_staff(user, handle, session=db, roles=CATALOG_ROLES)
    content = await file.read(service.LOGO_MAX_BYTES + 1)
    return ShopOut.of(await service.set_logo(shop, content, session=db))


@router.get("/{handle}/staff")
async def list_staff(handle: str, user: AccountReader, db: DbSession) -> list[StaffOut]:
    """The shop's staff (any staff member may look)."""
    shop = await service.get_shop_for_staff(user, handle, session=db)
    return [StaffOut.of(staff, who) for staff, who in await service.list_staff(shop, session=db)]


@router.post("/{handle}/staff", status_code=201)
async def add_staff(handle: str, data: StaffIn, user: CatalogWriter, db: DbSession) -> StaffOut:
    """Add someone by user handle as manager or fulfilment (owner only)."""
    shop = await service.get_shop_for_staff(user, handle, session=db, roles=OWNER_ONLY)
    staff = await service.add_staff(shop, data, session=db)
    return StaffOut.of(staff, data.user_handle.strip().removeprefix("@").lower())


@router.delete("/{handle}/staff/{user_handle}", status_code=204)
async def remove_staff(
    handle: str, user_handle: str, user: CatalogWriter, db: DbSession
) -> Response:
    """Take someone off the staff (owner only; the owner stays)."""
    shop = await service.get_shop_for_staff(user, handle, session=db, roles=OWNER_ONLY)
    await service.remove_staff(shop, user_handle, session=db)
    return Response(status_code=204)


@router.put("/{handle}/suspension")
async def suspend_shop(handle: str, user: Moderator, db: DbSession) -> ShopOut:
    """Suspend a shop (moderators): its product chips disappear from the feed at once."""
    shop = await service.get_shop_by_handle(handle, session=db)
    return ShopOut.of(await service.set_shop_status(shop, "suspended", session=db))


@router.delete("/{handle}/suspension")
async def lift_suspension(handle: str, user: Moderator, db: DbSession) -> ShopOut:
    """Lift a shop's suspension (moderators)."""
    shop = await service.get_shop_by_handle(handle, session=db)
    return ShopOut.of(await service.set_shop_status(shop, "active", session=db))
