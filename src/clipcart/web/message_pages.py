"""Messages pages: the inbox (yours, and a tab per shop you work for), a conversation's thread
with a send form that works without JavaScript, and the form that starts a conversation from a
profile, a product or an order."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from clipcart.accounts.models import User
from clipcart.catalog import service as catalog
from clipcart.commerce import orders
from clipcart.core.errors import AppError, NotFound
from clipcart.core.routing import DbSession, make_router
from clipcart.messaging import access, domain, presenting, service
from clipcart.messaging.schemas import RAW_TEXT_MAX, ConversationStartIn, MessageIn
from clipcart.notifications import service as notifications
from clipcart.shops import service as shops
from clipcart.shops.models import Shop
from clipcart.web.forms import FORM_ERROR, FormErrors, errors_from_app_error, see_other
from clipcart.web.templating import render
from clipcart.web.viewer import SignedInViewer

router = make_router(include_in_schema=False)

THREAD_PAGE = 50
MESSAGE_FIELDS = {"text"}


def _text(source: Any, name: str, limit: int = RAW_TEXT_MAX) -> str:
    value = source.get(name)
    return value[:limit] if isinstance(value, str) else ""


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@router.get("/inbox", response_class=HTMLResponse)
async def inbox(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """Your conversations, newest activity first; `?shop=` shows a shop's inbox to its staff."""
    staffed = await shops.list_shops_for_user(viewer, session=session)
    handle = _text(request.query_params, "shop", 100)
    shop = await service.get_shop_inbox(viewer, handle, session=session) if handle else None
    views, next_cursor = await service.list_conversations(
        viewer,
        shop=shop,
        cursor=request.query_params.get("cursor") or None,
        limit=30,
        session=session,
    )
    unread_by_shop = await service.unread_by_shop(staffed, session=session)
    return render(
        request,
        "messages/inbox.html",
        {
            "unread_notifications": await notifications.unread_count(viewer.id, session=session),
            "conversations": await presenting.conversations_out(viewer.id, views, session=session),
            "next_cursor": next_cursor,
            "shop": shop,
            "staffed": staffed,
            "unread_by_shop": unread_by_shop,
        },
        viewer=viewer,
        tab="inbox",
    )


async def _blocked_from(viewer: User, recipient: User | Shop, *, session: DbSession) -> bool:
    """True when a block would refuse a first message from the viewer to `recipient`."""
    if isinstance(recipient, Shop):
        return await access.blocked_from_starting(
            viewer.id, to_user=None, to_shop=recipient, session=session
        )
    return await access.blocked_from_starting(
        viewer.id, to_user=recipient, to_shop=None, session=session
    )


async def _thread_page(
    request: Request,
    viewer: User,
    view: service.ConversationView,
    *,
    session: DbSession,
    errors: FormErrors | None = None,
    text: str = "",
    status_code: int = 200,
) -> Response:
    cursor = request.query_params.get("cursor") or None
    messages, older = await service.list_messages(
        view, cursor=cursor, limit=THREAD_PAGE, session=session
    )
    shown = await presenting.messages_out(view, list(reversed(messages)), session=session)
    blocked = await access.blocked_from_writing(viewer.id, view, session=session)
    return render(
        request,
        "messages/thread.html",
        {
            "conversation": presenting.conversation_out(view, blocked=blocked),
            "blocked": blocked,
            "messages": shown,
            "older_cursor": older,
            "errors": errors or {},
            "text": text,
            "client_id": uuid.uuid4(),
            "max_text": domain.MAX_TEXT,
            "back": f"/inbox?shop={view.as_shop.handle}" if view.as_shop else "/inbox",
        },
        viewer=viewer,
        tab="inbox",
        status_code=status_code,
    )


@router.get("/inbox/new", response_class=HTMLResponse)
async def compose(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """The first message to a person (`?to=`) or a shop (`?shop=`), with an optional product
    (`?product=`) or order (`?order=`) card."""
    values = {name: _text(request.query_params, name, 200) for name in _COMPOSE_FIELDS}
    return await _compose_page(request, viewer, values, session=session)


_COMPOSE_FIELDS = ("to", "shop", "product", "order", "text")


async def _compose_page(
    request: Request,
    viewer: User,
    values: dict[str, str],
    *,
    session: DbSession,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    recipient: User | Shop
    if values["shop"]:
        recipient = await service.get_shop(values["shop"], session=session)
    elif values["to"]:
        recipient = await service.get_person(values["to"], session=session)
    else:
        raise NotFound("Choose someone to message from their profile.", code="user_not_found")
    product = None
    product_id = _uuid(values["product"])
    if product_id is not None:
        try:
            product = await catalog.get_product_for_viewer(viewer, product_id, session=session)
        except NotFound:
            product = None
    order = None
    order_id = _uuid(values["order"])
    if order_id is not None:
        try:
            order = await orders.get_order_for(viewer, order_id, session=session)
        except NotFound:
            order = None
    return render(
        request,
        "messages/compose.html",
        {
            "recipient": recipient,
            "is_shop": isinstance(recipient, Shop),
            "blocked": await _blocked_from(viewer, recipient, session=session),
            "product": product,
            "order": order,
            "values": values,
            "errors": errors or {},
            "client_id": _uuid(_text(request.query_params, "client_id")) or uuid.uuid4(),
            "max_text": domain.MAX_TEXT,
        },
        viewer=viewer,
        tab="inbox",
        status_code=status_code,
    )


@router.post("/inbox/new", response_class=HTMLResponse)
async def start(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """Send the first message, then show the conversation."""
    form = await request.form()
    values = {name: _text(form, name) for name in _COMPOSE_FIELDS}
    product_id, order_id = _uuid(values["product"]), _uuid(values["order"])
    message_in = ConversationStartIn(
        text=values["text"],
        product_id=product_id,
        order_id=order_id,
        client_id=_uuid(_text(form, "client_id")),
    )
    try:
        await service.check_send_rate(viewer.id, limiter=request.app.state.rate_limiter)
        to_shop = (
            await service.get_shop(values["shop"], session=session) if values["shop"] else None
        )
        to_user = (
            await service.get_person(values["to"], session=session)
            if values["to"] and to_shop is None
            else None
        )
        view, _ = await service.start_conversation(
            viewer, to_user=to_user, to_shop=to_shop, message_in=message_in, session=session
        )
    except AppError as error:
        errors = errors_from_app_error(error, known_fields=MESSAGE_FIELDS)
        _card_errors(errors, error)
        return await _compose_page(
            request, viewer, values, session=session, errors=errors, status_code=error.status
        )
    return see_other(f"/inbox/{view.conversation.id}#latest")


def _card_errors(errors: FormErrors, error: AppError) -> None:
    """Problems with a product or order card are told in words, above the form."""
    for item in error.data.get("errors") or []:
        if isinstance(item, dict) and item.get("field") in {"product_id", "order_id"}:
            errors.setdefault(FORM_ERROR, str(item.get("message")))


@router.get("/inbox/{conversation_id}", response_class=HTMLResponse)
async def thread(
    conversation_id: uuid.UUID, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """The conversation, oldest message at the top; opening it marks it read."""
    view = await service.get_conversation_for(viewer, conversation_id, session=session)
    await service.mark_read(viewer, view, session=session)
    return await _thread_page(request, viewer, view, session=session)


@router.post("/inbox/{conversation_id}", response_class=HTMLResponse)
async def send(
    conversation_id: uuid.UUID, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Send a message, then show the conversation again at its newest message."""
    form = await request.form()
    text = _text(form, "text")
    view = await service.get_conversation_for(viewer, conversation_id, session=session)
    try:
        await service.check_send_rate(viewer.id, limiter=request.app.state.rate_limiter)
        await service.send_message(
            viewer,
            conversation_id,
            MessageIn(text=text, client_id=_uuid(_text(form, "client_id"))),
            session=session,
        )
    except AppError as error:
        errors = errors_from_app_error(error, known_fields=MESSAGE_FIELDS)
        return await _thread_page(
            request,
            viewer,
            view,
            session=session,
            errors=errors,
            text=text,
            status_code=error.status,
        )
    return see_other(f"/inbox/{conversation_id}#latest")
