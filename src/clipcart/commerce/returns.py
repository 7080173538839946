"""Returns: a buyer asks to send (part of) a delivered order back within the return window;
the shop approves (or the job does after 48 h) or rejects; once the goods are back the lines'
paid share is refunded (key f"return:{id}") and the stock goes back on sale.

Services never commit. The refund is asked of the provider between transactions: the return is
committed as `returned` first, so a retry or the job finishes it and it is never paid twice."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.affiliate import service as affiliate
from clipcart.commerce import domain, fulfilment, orders, payment, reservations, return_photos
from clipcart.commerce.config import get_commerce_settings
from clipcart.commerce.models import Order, OrderLine, ReturnLine, ReturnRequest
from clipcart.core import clock
from clipcart.core.db import unit_of_work
from clipcart.core.errors import Conflict, NotFound, PayloadTooLarge, ValidationFailed
from clipcart.core.money import Money
from clipcart.core.pagination import paginate
from clipcart.ledger import service as ledger
from clipcart.notifications import service as notifications
from clipcart.shops.models import Shop

log = logging.getLogger(__name__)

REQUESTED, APPROVED, REJECTED, RETURNED, REFUNDED = (
    "requested", "approved", "rejected", "returned", "refunded",
)  # fmt: skip
RETURN_STATUSES = (REQUESTED, APPROVED, REJECTED, RETURNED, REFUNDED)
REASONS: dict[str, str] = {
    "damaged": "It arrived damaged",
    "wrong_item": "I received the wrong item",
    "not_as_described": "It is not as described",
    "does_not_fit": "It does not fit",
    "changed_mind": "I changed my mind",
    "other": "Something else",
}
DETAILS_MAX, NOTE_MAX = 2000, 500
PHOTOS_MAX = return_photos.PHOTOS_MAX
PHOTO_MAX_BYTES = return_photos.PHOTO_MAX_BYTES
photo_url = return_photos.photo_url  # where a return photo is served (pages use it from here)


# --- pure rules --------------------------------------------------------------------------


def beyond_lines_part(request: ReturnRequest, lines: list[ReturnLine]) -> int:
    """How much of a return's amount is not for its lines (see beyond_lines_refund)."""
    return max(0, request.amount - sum(line.amount for line in lines))


# --- asking for a return -----------------------------------------------------------------


@dataclass(frozen=True)
class ReturnLineIn:
    """How many of one order line to send back."""

    order_line_id: uuid.UUID
    quantity: int


async def _returned_so_far(
    order_id: uuid.UUID, session: AsyncSession
) -> dict[uuid.UUID, tuple[int, int]]:
    """Per order line: units and money in returns not rejected."""
    rows = await session.execute(
        select(ReturnLine.order_line_id, func.sum(ReturnLine.quantity), func.sum(ReturnLine.amount))
        .join(ReturnRequest, ReturnRequest.id == ReturnLine.return_id)
        .where(ReturnRequest.order_id == order_id, ReturnRequest.status != REJECTED)
        .group_by(ReturnLine.order_line_id)
    )
    return {line_id: (int(units), int(amount)) for line_id, units, amount in rows.all()}


def _check_window(order: Order) -> None:
    if order.status != domain.DELIVERED:
        raise Conflict(
            "You can ask for a return once the order is delivered.",
            code="order_wrong_state",
            data={"order_status": order.status},
        )
    deadline = fulfilment.return_deadline(order)
    if deadline is None or clock.now() > deadline:
        raise ValidationFailed.field(
            "order",
            "The return window for this order has closed.",
            code="return_window_closed",
        )


async def request_return(
    order: Order,
    *,
    buyer: User,
    lines_in: list[ReturnLineIn],
    reason: str,
    details: str = "",
    photos: list[bytes] | None = None,
    session: AsyncSession,
) -> ReturnRequest:
    """The buyer's return request for a delivered order inside its window (lock the order
    first): 409 before delivery, 422 after the window or for more than was bought."""
    _check_window(order)
    if reason not in REASONS:
        raise ValidationFailed.field("reason", "Choose why you are sending it back.")
    details = details.strip()
    if len(details) > DETAILS_MAX:
        raise ValidationFailed.field("details", f"Use at most {DETAILS_MAX} characters.")
    photos = photos or []
    if len(photos) > PHOTOS_MAX:
        raise ValidationFailed.field("photos", f"Add at most {PHOTOS_MAX} photos.")
    if any(len(content) > PHOTO_MAX_BYTES for content in photos):
        raise PayloadTooLarge("Use photos under 10 MB each.", code="photo_too_large")
    wanted: dict[uuid.UUID, int] = {}
    for line_in in lines_in:
        if line_in.quantity <= 0:
            raise ValidationFailed.field("lines", "Each quantity must be at least 1.")
        wanted[line_in.order_line_id] = wanted.get(line_in.order_line_id, 0) + line_in.quantity
    if not wanted:
        raise ValidationFailed.field("lines", "Choose what you are sending back.")
    lines = {line.id: line for line in await orders.list_order_lines(order.id, session=session)}
    so_far = await _returned_so_far(order.id, session)
    planned: list[tuple[OrderLine, int, int]] = []
    for line_id, count in wanted.items():
        line = lines.get(line_id)
        if line is None:
            raise ValidationFailed.field("lines", "That item is not part of this order.")
        before, paid_before = so_far.get(line.id, (0, 0))
        if before + count > line.quantity:
            left = line.quantity - before
            raise ValidationFailed.field(
                "lines",
                f"You can send back at most {left} of {line.title}."
                if left
                else f"{line.title} is already being returned.",
                code="return_too_many",
            )
        amount = domain.line_share(
            line_total=line.total,
            line_quantity=line.quantity,
            before=before,
            count=count,
            paid_before=paid_before,
        )
        planned.append((line, count, amount))
    asked = {line.id: count for line, count, _ in planned}
    everything_back = all(
        so_far.get(line.id, (0, 0))[0] + asked.get(line.id, 0) >= line.quantity
        for line in lines.values()
    )
    beyond = domain.beyond_lines_refund(
        reason=reason,
        everything_back=everything_back,
        order_total=order.total,
        line_totals=sum(line.total for line in lines.values()),
        refunded_beyond=order.refunded - sum(line.refunded for line in lines.values()),
    )
    keys = await return_photos.store_photos(photos)
    settings = get_commerce_settings()
    request = ReturnRequest(
        order_id=order.id,
        status=REQUESTED,
        reason=reason,
        details=details,
        photo_keys=keys,
        answer_due_at=clock.now() + timedelta(hours=settings.return_answer_hours),
        amount=sum(amount for _, _, amount in planned) + beyond,
    )
    session.add(request)
    await session.flush()
    for line, count, amount in planned:
        session.add(
            ReturnLine(return_id=request.id, order_line_id=line.id, quantity=count, amount=amount)
        )
    await session.flush()
    await fulfilment.notify_shop(
        order,
        kind="return_requested",
        title=f"Return requested for order {order.number}",
        body=f"{REASONS[reason]}. Answer within {settings.return_answer_hours} hours, "
        "or it is approved automatically.",
        page="returns",
        session=session,
    )
    return request


# --- reading -----------------------------------------------------------------------------


async def get_return_for_staff(
    viewer: User, return_id: uuid.UUID, *, session: AsyncSession, lock: bool = False
) -> tuple[ReturnRequest, Order]:
    """A return of an order of a shop `viewer` works for (404 otherwise), with the order."""
    statement = select(ReturnRequest).where(ReturnRequest.id == return_id)
    if lock:
        statement = statement.with_for_update()
    request = await session.scalar(statement.execution_options(populate_existing=True))
    if request is None:
        raise NotFound("There is no such return.", code="return_not_found")
    try:
        order = await orders.get_order_for_staff(
            viewer, request.order_id, session=session, roles=fulfilment.FULFILMENT_ROLES
        )
    except NotFound as error:
        raise NotFound("There is no such return.", code="return_not_found") from error
    return request, order


async def get_return_for(
    viewer: User, return_id: uuid.UUID, *, session: AsyncSession
) -> tuple[ReturnRequest, Order]:
    """A return that `viewer` may see: of an order they bought, of a shop they work for, or any
    for an admin (404 otherwise), with the order."""
    request = await session.get(ReturnRequest, return_id)
    if request is None:
        raise NotFound("There is no such return.", code="return_not_found")
    try:
        order = await orders.get_order_for(viewer, request.order_id, session=session)
    except NotFound as error:
        raise NotFound("There is no such return.", code="return_not_found") from error
    return request, order


async def return_lines(
    return_ids: list[uuid.UUID], *, session: AsyncSession
) -> dict[uuid.UUID, list[ReturnLine]]:
    """The lines of several returns."""
    grouped: dict[uuid.UUID, list[ReturnLine]] = {return_id: [] for return_id in return_ids}
    if return_ids:
        rows = await session.scalars(select(ReturnLine).where(ReturnLine.return_id.in_(return_ids)))
        for line in rows:
            grouped[line.return_id].append(line)
    return grouped


async def list_order_returns(order_id: uuid.UUID, *, session: AsyncSession) -> list[ReturnRequest]:
    """The returns of one order, oldest first."""
    rows = await session.scalars(
        select(ReturnRequest)
        .where(ReturnRequest.order_id == order_id)
        .order_by(ReturnRequest.created_at, ReturnRequest.id)
    )
    return list(rows)


async def list_shop_returns(
    shop: Shop,
    *,
    session: AsyncSession,
    status: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[ReturnRequest], str | None]:
    """The shop's returns, newest first (one status, or all)."""
    statement = (
        select(ReturnRequest)
        .join(Order, Order.id == ReturnRequest.order_id)
        .where(Order.shop_id == shop.id)
    )
    if status is not None:
        statement = statement.where(ReturnRequest.status == status)
    rows, next_cursor = await paginate(
        session,
        statement,
        order_by=[ReturnRequest.created_at, ReturnRequest.id],
        cursor=cursor,
        limit=limit,
    )
    return rows, next_cursor


# --- the shop's decisions ----------------------------------------------------------------


def _require(request: ReturnRequest, *statuses: str) -> None:
    if request.status not in statuses:
        raise Conflict(
            f"This return is {request.status}.",
            code="return_wrong_state",
            data={"return_status": request.status},
        )


async def _tell_buyer(
    order: Order, title: str, body: str, *, kind: str, session: AsyncSession
) -> None:
    await notifications.notify(
        order.buyer_id, kind=kind, title=title, body=body, link=f"/orders/{order.id}",
        session=session,
    )  # fmt: skip


async def approve_return(
    request: ReturnRequest, order: Order, *, actor: User | None, session: AsyncSession
) -> ReturnRequest:
    """Accept a requested return (actor None: approved automatically after the deadline)."""
    _require(request, REQUESTED)
    request.status, request.decided_at = APPROVED, clock.now()
    request.decided_by = actor.id if actor else None
    if actor is None:
        hours = get_commerce_settings().return_answer_hours
        request.decision_note = f"Approved automatically: the shop did not answer in {hours} h."
    await _tell_buyer(
        order,
        f"Return approved for order {order.number}",
        "Send the items back; we refund you as soon as the shop receives them.",
        kind="return_approved",
        session=session,
    )
    return request


async def reject_return(
    request: ReturnRequest, order: Order, *, actor: User, note: str, session: AsyncSession
) -> ReturnRequest:
    """Refuse a requested return, telling the buyer why (422 without a reason)."""
    note = " ".join(note.split())
    if not note:
        raise ValidationFailed.field("note", "Tell the buyer why the return is refused.")
    if len(note) > NOTE_MAX:
        raise ValidationFailed.field("note", f"Use at most {NOTE_MAX} characters.")
    _require(request, REQUESTED)
    request.status, request.decided_at, request.decided_by = REJECTED, clock.now(), actor.id
    request.decision_note = note
    await _tell_buyer(
        order,
        f"Return refused for order {order.number}",
        note,
        kind="return_rejected",
        session=session,
    )
    return request


async def receive_return(request: ReturnRequest, *, session: AsyncSession) -> ReturnRequest:
    """The goods came back: the stock goes on sale again; the refund follows after commit
    (refund_return). Receiving a return whose refund is still due changes nothing."""
    if request.status == RETURNED:
        return request
    _require(request, APPROVED)
    lines = {
        line.id: line for line in await orders.list_order_lines(request.order_id, session=session)
    }
    for item in (await return_lines([request.id], session=session))[request.id]:
        await reservations.return_stock(lines[item.order_line_id], item.quantity, session=session)
    request.status = RETURNED
    return request


async def refund_return(return_id: uuid.UUID) -> int:
    """Refund a received return (key f"return:{id}": never twice) and record it on the lines,
    the order (refunded once every line is) and the return. Opens its own transactions; how
    much was refunded now."""
    async with unit_of_work() as session:
        request = await session.get(ReturnRequest, return_id)
        if request is None or request.status != RETURNED:
            return 0
        order = await orders.get_order(request.order_id, session=session)
        amounts, beyond = await _refund_amounts(request, order, session)
        await _claim_for_lines(order, amounts, session)
    total = sum(amounts.values()) + beyond
    if total > 0:
        await payment.refund_order_amount(
            order, Money(total, order.currency), key=f"return:{return_id}", actor=None
        )
    async with unit_of_work() as session:
        order = await orders.get_order(order.id, session=session, lock=True)
        request = await session.get(ReturnRequest, return_id, populate_existing=True)
        if request is None or request.status != RETURNED:
            return 0  # recorded by a concurrent retry
        lines = await orders.list_order_lines(order.id, session=session)
        for line in lines:
            line.refunded += amounts.get(line.id, 0)
        order.refunded += total
        request.status, request.refunded_at = REFUNDED, clock.now()
        if order.status != domain.REFUNDED and domain.is_fully_refunded(
            [line.total for line in lines], [line.refunded for line in lines]
        ):
            await orders.record_transition(
                order, domain.REFUNDED, actor_id=None, note="Every item returned", session=session
            )
            if order.refunded < order.total:
                # What was not refunded (shipping) is the shop's now: nothing else is pending.
                await ledger.release_order_funds(
                    order_ref=domain.order_ref(order.id), session=session
                )
        if total > 0:
            await fulfilment.notify_refund(order, total, session=session)
        await affiliate.sync_clawbacks(
            order.id, order_ref=domain.order_ref(order.id), session=session
        )
    return total


async def _claim_for_lines(
    order: Order, amounts: dict[uuid.UUID, int], session: AsyncSession
) -> None:
    """Tell the ledger which lines the coming refund is for, before it is asked for, so it
    claws back exactly those lines' commissions (committed with the refund's plan)."""
    if order.payment_intent_id is None or not any(amounts.values()):
        return
    lines = {line.id: line for line in await orders.list_order_lines(order.id, session=session)}
    await ledger.claim_line_refunds(
        order_ref=domain.order_ref(order.id),
        claims={
            str(line_id): lines[line_id].refunded + amount for line_id, amount in amounts.items()
        },
        session=session,
    )


async def _refund_amounts(
    request: ReturnRequest, order: Order, session: AsyncSession
) -> tuple[dict[uuid.UUID, int], int]:
    """Per order line, what this return refunds, and what it refunds beyond the lines
    (shipping), never past what is left of the line or order."""
    lines = {line.id: line for line in await orders.list_order_lines(order.id, session=session)}
    order_left = order.total - order.refunded
    amounts: dict[uuid.UUID, int] = {}
    items = (await return_lines([request.id], session=session))[request.id]
    for item in items:
        line = lines[item.order_line_id]
        amount = min(item.amount, line.total - line.refunded, order_left)
        amounts[line.id] = max(0, amount)
        order_left -= amounts[line.id]
    return amounts, max(0, min(beyond_lines_part(request, items), order_left))


# --- jobs --------------------------------------------------------------------------------


async def returns_due_for_approval(*, session: AsyncSession, limit: int = 200) -> list[uuid.UUID]:
    """Requested returns the shop did not answer in time."""
    rows = await session.scalars(
        select(ReturnRequest.id)
        .where(ReturnRequest.status == REQUESTED, ReturnRequest.answer_due_at <= clock.now())
        .order_by(ReturnRequest.answer_due_at, ReturnRequest.id)
        .limit(limit)
    )
    return list(rows)


async def auto_approve(return_id: uuid.UUID, *, session: AsyncSession) -> bool:
    """Approve one unanswered return if it is (still) due; whether it was."""
    request = await session.scalar(
        select(ReturnRequest)
        .where(ReturnRequest.id == return_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if request is None or request.status != REQUESTED:
        return False
    if clock.as_utc(request.answer_due_at) > clock.now():
        return False
    order = await orders.get_order(request.order_id, session=session)
    await approve_return(request, order, actor=None, session=session)
    return True


async def returns_with_refund_due(*, session: AsyncSession, limit: int = 100) -> list[uuid.UUID]:
    """Returns received but not yet refunded (a crash or a provider outage stopped them)."""
    rows = await session.scalars(
        select(ReturnRequest.id)
        .where(ReturnRequest.status == RETURNED)
        .order_by(ReturnRequest.updated_at, ReturnRequest.id)
        .limit(limit)
    )
    return list(rows)
