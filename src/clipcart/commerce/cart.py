"""Carts: a signed-in buyer's or a visitor's (merged into the buyer's at log-in), items grouped
by shop, quantities limited by stock and per-buyer limits, saved for later."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.commerce import domain
from clipcart.commerce.buyables import (
    Buyable,
    bought_before,
    check_quantity,
    first_images,
    load_buyables,
    load_buyables_and_deals,
    shop_ref,
    unit_price,
)
from clipcart.commerce.models import Cart, CartItem
from clipcart.commerce.promotion_models import FlashDeal
from clipcart.commerce.schemas import (
    CartItemOut,
    CartOut,
    CartShopOut,
)
from clipcart.core import clock
from clipcart.core.db import dialect_insert
from clipcart.core.errors import NotFound, ValidationFailed
from clipcart.core.ids import new_id
from clipcart.core.money import Money
from clipcart.shops.models import Shop
from clipcart.shops.schemas import MoneyOut

MAX_CART_LINES = 100


@dataclass(frozen=True)
class CartOwner:
    """Whose cart: a signed-in user's, else a visitor's (by the visitor cookie)."""

    user_id: uuid.UUID | None = None
    visitor_id: uuid.UUID | None = None


# --- carts -------------------------------------------------------------------------------


async def find_cart(owner: CartOwner, *, session: AsyncSession, lock: bool = False) -> Cart | None:
    """The owner's cart if they have one (`lock`: until commit, so that two requests of one
    buyer, a double tap on Add, change it one after the other)."""
    if owner.user_id is not None:
        condition = Cart.user_id == owner.user_id
    elif owner.visitor_id is not None:
        condition = Cart.visitor_id == owner.visitor_id
    else:
        return None
    statement = select(Cart).where(condition)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    cart: Cart | None = await session.scalar(statement)
    return cart


async def get_or_create_cart(owner: CartOwner, *, session: AsyncSession, lock: bool = True) -> Cart:
    """The owner's cart, made on first use (a concurrent first use finds the same one)."""
    cart = await find_cart(owner, session=session, lock=lock)
    if cart is None:
        now = clock.now()
        await session.execute(
            dialect_insert(session, Cart)
            .values(
                id=new_id(),
                user_id=owner.user_id,
                visitor_id=None if owner.user_id else owner.visitor_id,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing()
        )
        cart = await find_cart(owner, session=session, lock=lock)
        assert cart is not None
    return cart


async def _items(cart_id: uuid.UUID, session: AsyncSession) -> list[CartItem]:
    rows = await session.scalars(
        select(CartItem)
        .where(CartItem.cart_id == cart_id)
        .order_by(CartItem.created_at, CartItem.id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def merge_visitor_cart(
    user_id: uuid.UUID, visitor_id: uuid.UUID, *, session: AsyncSession
) -> int:
    """Move a visitor's cart into the user's (quantities added, capped by stock) and delete
    it; how many lines moved."""
    visitor_cart = await find_cart(CartOwner(visitor_id=visitor_id), session=session, lock=True)
    if visitor_cart is None:
        return 0
    moved = await _items(visitor_cart.id, session)
    if moved:
        cart = await get_or_create_cart(CartOwner(user_id=user_id), session=session)
        existing = {item.variant_id: item for item in await _items(cart.id, session)}
        buyables = await load_buyables([item.variant_id for item in moved], session=session)
        for item in moved:
            buyable = buyables.get(item.variant_id)
            if buyable is None or not buyable.on_sale:
                continue
            mine = existing.get(item.variant_id)
            wanted = item.quantity + (mine.quantity if mine else 0)
            quantity = min(wanted, max(buyable.variant.stock, mine.quantity if mine else 0))
            if mine is not None:
                mine.quantity = max(1, quantity)
                mine.source = mine.source or item.source
            elif quantity > 0:
                session.add(_copy(item, cart.id, quantity))
    await session.execute(delete(Cart).where(Cart.id == visitor_cart.id))
    await session.flush()
    return len(moved)


def _copy(item: CartItem, cart_id: uuid.UUID, quantity: int) -> CartItem:
    return CartItem(
        cart_id=cart_id,
        variant_id=item.variant_id,
        product_id=item.product_id,
        shop_id=item.shop_id,
        quantity=quantity,
        saved_for_later=item.saved_for_later,
        source=dict(item.source or {}),
    )


async def add_item(
    owner: CartOwner,
    variant_id: uuid.UUID,
    quantity: int,
    *,
    source: Mapping[str, Any] | None,
    session: AsyncSession,
) -> CartItem:
    """Add `quantity` of a variant (to its line when there is one), within stock and the
    per-buyer limit (422 on "quantity" saying how many are possible)."""
    buyable = (await load_buyables([variant_id], session=session)).get(variant_id)
    if buyable is None or not buyable.on_sale:
        raise NotFound("That product is not for sale.", code="variant_not_found")
    cart = await get_or_create_cart(owner, session=session)
    item = await session.scalar(
        select(CartItem).where(CartItem.cart_id == cart.id, CartItem.variant_id == variant_id)
    )
    total = quantity + (item.quantity if item else 0)
    bought = 0
    if owner.user_id is not None and buyable.product.max_per_buyer is not None:
        bought = (await bought_before(owner.user_id, [buyable.product.id], session=session)).get(
            buyable.product.id, 0
        )
    check_quantity(buyable, total, bought=bought)
    if item is None:
        lines = await session.scalar(
            select(func.count()).select_from(CartItem).where(CartItem.cart_id == cart.id)
        )
        if (lines or 0) >= MAX_CART_LINES:
            raise ValidationFailed.field(
                "variant_id", f"A cart holds at most {MAX_CART_LINES} products."
            )
        item = CartItem(
            cart_id=cart.id,
            variant_id=variant_id,
            product_id=buyable.product.id,
            shop_id=buyable.shop.id,
            quantity=total,
            saved_for_later=False,
            source=dict(source or {}),
        )
        session.add(item)
    else:
        item.quantity = total
        item.saved_for_later = False
        if source:
            item.source = dict(source)
    cart.updated_at = clock.now()
    await session.flush()
    return item


async def _own_item(owner: CartOwner, item_id: uuid.UUID, session: AsyncSession) -> CartItem:
    cart = await find_cart(owner, session=session, lock=True)
    item = None
    if cart is not None:
        item = await session.scalar(
            select(CartItem).where(CartItem.id == item_id, CartItem.cart_id == cart.id)
        )
    if item is None:
        raise NotFound("That item is not in your cart.", code="cart_item_not_found")
    return item


async def update_item(
    owner: CartOwner,
    item_id: uuid.UUID,
    *,
    quantity: int | None,
    saved_for_later: bool | None,
    session: AsyncSession,
) -> CartItem:
    """Change a line's quantity (within limits) or move it to/from saved for later."""
    item = await _own_item(owner, item_id, session)
    if quantity is not None and quantity != item.quantity:
        buyable = (await load_buyables([item.variant_id], session=session)).get(item.variant_id)
        if buyable is None:
            raise NotFound("That product is not for sale.", code="variant_not_found")
        bought = 0
        if owner.user_id is not None and buyable.product.max_per_buyer is not None:
            bought = (await bought_before(owner.user_id, [item.product_id], session=session)).get(
                item.product_id, 0
            )
        check_quantity(buyable, quantity, bought=bought)
        item.quantity = quantity
    if saved_for_later is not None:
        item.saved_for_later = saved_for_later
    item.updated_at = clock.now()
    await session.flush()
    return item


async def remove_item(owner: CartOwner, item_id: uuid.UUID, *, session: AsyncSession) -> None:
    """Take a line out of the cart."""
    item = await _own_item(owner, item_id, session)
    await session.delete(item)
    await session.flush()


async def checkout_items(
    user_id: uuid.UUID, *, session: AsyncSession
) -> list[tuple[uuid.UUID, int, dict[str, Any]]]:
    """The cart's lines to check out (not saved for later): (variant_id, quantity, source)."""
    cart = await find_cart(CartOwner(user_id=user_id), session=session)
    if cart is None:
        return []
    return [
        (item.variant_id, item.quantity, dict(item.source or {}))
        for item in await _items(cart.id, session)
        if not item.saved_for_later
    ]


# Built once (every checkout runs it): the buyer's cart items (bound as `user_id`) of the
# variants bound as `variant_ids`, saved-for-later copies left alone.
_REMOVE_BOUGHT = (
    delete(CartItem)
    .where(
        CartItem.cart_id.in_(select(Cart.id).where(Cart.user_id == bindparam("user_id"))),
        CartItem.variant_id.in_(bindparam("variant_ids", expanding=True)),
        CartItem.saved_for_later.is_(False),
    )
    .execution_options(synchronize_session=False)
)


async def remove_bought(
    user_id: uuid.UUID, variant_ids: Collection[uuid.UUID], *, session: AsyncSession
) -> None:
    """Take bought variants out of the buyer's cart (saved-for-later copies stay)."""
    if not variant_ids:
        return
    await session.execute(
        _REMOVE_BOUGHT, {"user_id": user_id, "variant_ids": list(set(variant_ids))}
    )


# --- reading -----------------------------------------------------------------------------


def _money(amount: int, currency: str) -> MoneyOut:
    return MoneyOut.of(Money(amount, currency))


async def describe_cart(owner: CartOwner, *, session: AsyncSession) -> CartOut:
    """The cart grouped by shop, with prices (deal prices while live), stock and totals."""
    cart = await find_cart(owner, session=session)
    items = await _items(cart.id, session) if cart is not None else []
    variant_ids = [item.variant_id for item in items]
    buyables, deals = await load_buyables_and_deals(variant_ids, session=session)
    images = await first_images({item.product_id for item in items}, session=session)
    bought: dict[uuid.UUID, int] = {}
    if owner.user_id is not None:
        bought = await bought_before(
            owner.user_id,
            {b.product.id for b in buyables.values() if b.product.max_per_buyer is not None},
            session=session,
        )
    groups: dict[uuid.UUID, list[CartItemOut]] = {}
    shops: dict[uuid.UUID, Shop] = {}
    saved: list[CartItemOut] = []
    currencies: set[str] = set()
    count = 0
    for item in items:
        buyable = buyables.get(item.variant_id)
        if buyable is None:
            continue
        out = _item_out(item, buyable, deals.get(item.variant_id), images, bought)
        if item.saved_for_later:
            saved.append(out)
            continue
        shops[buyable.shop.id] = buyable.shop
        groups.setdefault(buyable.shop.id, []).append(out)
        currencies.add(buyable.product.currency)
        count += item.quantity
    shop_outs = []
    for shop_id, outs in groups.items():
        currency = outs[0].line_total.currency
        subtotal = sum(out.line_total.amount for out in outs if out.available)
        shop_outs.append(
            CartShopOut(
                shop=shop_ref(shops[shop_id]), items=outs, subtotal=_money(subtotal, currency)
            )
        )
    total = None
    if len(currencies) == 1:
        total = _money(sum(shop.subtotal.amount for shop in shop_outs), currencies.pop())
    return CartOut(shops=shop_outs, saved_for_later=saved, item_count=count, subtotal=total)


def _item_out(
    item: CartItem,
    buyable: Buyable,
    deal: FlashDeal | None,
    images: Mapping[uuid.UUID, str],
    bought: Mapping[uuid.UUID, int],
) -> CartItemOut:
    currency = buyable.product.currency
    price = unit_price(buyable, deal)
    problem = None
    if not buyable.on_sale:
        problem = f"{buyable.title} is not for sale any more."
    else:
        allowed = domain.quantity_allowed(
            requested=item.quantity,
            stock=buyable.variant.stock,
            max_per_buyer=buyable.product.max_per_buyer,
            bought_before=bought.get(buyable.product.id, 0),
        )
        if allowed < item.quantity:
            problem = domain.quantity_limit_message(
                title=buyable.title,
                stock=buyable.variant.stock,
                max_per_buyer=buyable.product.max_per_buyer,
                bought_before=bought.get(buyable.product.id, 0),
            )
    return CartItemOut(
        id=item.id,
        variant_id=item.variant_id,
        product_id=item.product_id,
        shop=shop_ref(buyable.shop),
        product_title=buyable.title,
        variant_title=buyable.variant_title,
        image_url=images.get(item.product_id),
        unit_price=_money(price, currency),
        regular_price=_money(buyable.variant.price, currency),
        flash_deal=deal is not None,
        quantity=item.quantity,
        stock_left=buyable.variant.stock,
        line_total=_money(price * item.quantity, currency),
        saved_for_later=item.saved_for_later,
        available=buyable.on_sale and buyable.variant.stock > 0,
        problem=problem,
    )
