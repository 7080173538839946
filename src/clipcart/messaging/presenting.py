"""The API shapes of conversations and messages as one viewer sees them (the pages use the
same ones), with product and order cards read in a few queries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts import service as accounts
from clipcart.catalog import service as catalog
from clipcart.commerce import orders
from clipcart.messaging import access, domain
from clipcart.messaging.access import ConversationView
from clipcart.messaging.models import Message
from clipcart.messaging.schemas import (
    ConversationOut,
    MessageOut,
    OrderCardOut,
    PartyOut,
    ProductCardOut,
)
from clipcart.shops import domain as shop_rules

AVATAR_SIZE = 96


def other_party(view: ConversationView) -> PartyOut:
    """The person or shop on the other side from the viewer."""
    if view.side == domain.SIDE_A and view.shop is not None:
        shop = view.shop
        return PartyOut(
            kind=domain.SHOP,
            id=shop.id,
            handle=shop.handle,
            name=shop.name,
            avatar_url=shop_rules.logo_url(shop.logo_key, AVATAR_SIZE),
            url=f"/shop/{shop.handle}",
        )
    person = view.other_person
    if person is None:  # the account was removed
        return PartyOut(
            kind=domain.PERSON,
            id=uuid.UUID(int=0),
            handle="",
            name="Deleted account",
            avatar_url=None,
            url="/inbox",
        )
    return PartyOut(
        kind=domain.PERSON,
        id=person.id,
        handle=person.handle,
        name=person.display_name,
        avatar_url=accounts.avatar_url(person, AVATAR_SIZE),
        url=f"/@{person.handle}",
    )


def can_send(view: ConversationView, *, blocked: bool) -> bool:
    """Whether the viewer may write here now: no block refuses it (see
    access.blocked_from_writing) and the shop written to is not suspended."""
    suspended = view.as_shop is None and view.shop is not None and view.shop.status != "active"
    return not (blocked or suspended)


async def conversations_out(
    viewer_id: uuid.UUID, views: Sequence[ConversationView], *, session: AsyncSession
) -> list[ConversationOut]:
    """Conversations as the viewer sees them in a list (their blocks read in two queries)."""
    refused = await access.refused_by_blocks(viewer_id, views, session=session)
    return [conversation_out(view, blocked=view.conversation.id in refused) for view in views]


def conversation_out(view: ConversationView, *, blocked: bool = False) -> ConversationOut:
    """A conversation from the viewer's side; `blocked` when a block refuses what they write."""
    conversation = view.conversation
    return ConversationOut(
        id=conversation.id,
        other=other_party(view),
        as_shop=view.as_shop.handle if view.as_shop else None,
        last_message_preview=conversation.last_preview,
        last_message_mine=conversation.last_sender_side == view.side,
        last_message_at=conversation.last_message_at,
        unread=view.unread,
        can_send=can_send(view, blocked=blocked),
    )


async def messages_out(
    view: ConversationView, messages: Sequence[Message], *, session: AsyncSession
) -> list[MessageOut]:
    """Messages as the viewer sees them, with their product and order cards."""
    products = await catalog.products_by_ids(
        {m.product_id for m in messages if m.product_id}, session=session
    )
    found = await orders.orders_by_ids(
        {m.order_id for m in messages if m.order_id}, session=session
    )
    order_cards = {
        order_id: OrderCardOut(
            id=order.id,
            number=order.number,
            status=order.status,
            url=f"/seller/{view.as_shop.handle}/orders/{order.id}"
            if view.as_shop
            else f"/orders/{order.id}",
        )
        for order_id, order in found.items()
    }
    senders = await accounts.users_by_ids({m.sender_id for m in messages}, session=session)
    result = []
    for message in messages:
        product = products.get(message.product_id) if message.product_id else None
        sender = senders.get(message.sender_id)
        result.append(
            MessageOut(
                id=message.id,
                seq=message.seq,
                text=message.text,
                mine=message.sender_side == view.side,
                sender_handle=sender.handle if sender else None,
                as_shop=message.sender_side == domain.SIDE_B and view.shop is not None,
                product=ProductCardOut(
                    id=product.id,
                    title=product.title,
                    available=product.status == "active" and product.shop.status == "active",
                    url=f"/p/{product.id}",
                )
                if product
                else None,
                order=order_cards.get(message.order_id) if message.order_id else None,
                client_id=message.client_id,
                created_at=message.created_at,
            )
        )
    return result
