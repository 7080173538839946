"""Money pages: balances, statement, payouts and the automatic payout setting, for a creator
(/studio/money) and for a shop's owner or manager (/seller/{handle}/money).

They call the same ledger service as the API; a payout form carries a one-time key used as its
Idempotency-Key, so a double submit pays out once."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.core import idempotency
from clipcart.core.errors import AppError, ValidationFailed
from clipcart.core.money import Money
from clipcart.core.routing import DbSession, make_router
from clipcart.ledger import service as ledger
from clipcart.ledger.domain import Owner
from clipcart.ledger.schemas import PayoutScheduleIn
from clipcart.shops import service as shops
from clipcart.shops.models import Shop
from clipcart.web import charts
from clipcart.web.flash import flash
from clipcart.web.forms import (
    FORM_ERROR,
    FormErrors,
    errors_from_app_error,
    see_other,
)
from clipcart.web.templating import render
from clipcart.web.viewer import SignedInViewer

router = make_router(include_in_schema=False)

MONEY_ROLES = frozenset({"owner", "manager"})
DEFAULT_CURRENCY = "USD"
CHART_WIDTH, CHART_HEIGHT = 320, 120
PAYOUT_FIELDS = {"amount", "destination"}
SCHEDULE_FIELDS = {"frequency", "minimum", "destination"}


@dataclass(frozen=True)
class MoneyPlace:
    """Whose money a page shows and where its forms post."""

    owner: Owner
    base_path: str
    shop: Shop | None
    currency: str | None


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def parse_major(text: str, currency: str, field: str) -> Money:
    """An amount typed in major units ("25" or "25.50"); a field error otherwise."""
    cleaned = text.replace(",", "").strip().lstrip("$€£¥")
    try:
        amount = Money.from_decimal(Decimal(cleaned), currency)
    except (InvalidOperation, ValueError) as error:
        raise ValidationFailed.field(field, "Enter an amount like 25.00.") from error
    if amount.amount < 0:
        raise ValidationFailed.field(field, "Enter an amount above zero.")
    return amount


def balance_chart(history: list[tuple[date, int]], currency: str) -> dict[str, Any]:
    """An SVG line of the balance per day, scaled to the chart box (pure, for the template)."""
    return charts.line_chart(
        history,
        formatter=lambda amount: Money(amount, currency).format(),
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
    )


async def _creator_place(viewer: User) -> MoneyPlace:
    return MoneyPlace(Owner.creator(viewer.id), "/studio/money", None, None)


async def _seller_place(viewer: User, handle: str, session: AsyncSession) -> MoneyPlace:
    shop = await shops.get_shop_for_staff(viewer, handle, session=session, roles=MONEY_ROLES)
    return MoneyPlace(Owner.shop(shop.id), f"/seller/{shop.handle}/money", shop, shop.currency)


async def _page(
    request: Request,
    viewer: User,
    place: MoneyPlace,
    session: AsyncSession,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    schedule_errors: FormErrors | None = None,
    status: int = 200,
) -> HTMLResponse:
    balances = await ledger.list_payee_balances(place.owner, session=session)
    currencies = [balance.currency for balance in balances]
    wanted = request.query_params.get("currency", "").upper() or (values or {}).get("currency")
    currency = (
        wanted
        if wanted in currencies
        else (place.currency or (currencies[0] if currencies else DEFAULT_CURRENCY))
    )
    balance = next((item for item in balances if item.currency == currency), None)
    statement = await ledger.get_payee_statement(
        place.owner,
        currency,
        cursor=request.query_params.get("cursor") or None,
        limit=25,
        session=session,
    )
    payouts = await ledger.list_payouts(place.owner, limit=20, session=session)
    schedule = await ledger.get_payout_schedule(place.owner, currency, session=session)
    history = await ledger.get_balance_history(place.owner, currency, days=30, session=session)
    minimum = ledger.minimum_payout_for(currency)
    context = {
        "place": place,
        "shop": place.shop,
        "section": "money",
        "currency": currency,
        "currencies": currencies,
        "balance": balance,
        "money": lambda amount, cur=currency: Money(amount, cur).format(),
        "minimum": minimum,
        "statement": statement,
        "payouts": payouts.items,
        "schedule": schedule,
        "schedule_minimum": str(Money(schedule.minimum, currency).to_decimal())
        if schedule.minimum
        else "",
        "chart": balance_chart(history, currency),
        "request_key": uuid.uuid4().hex,
        "values": values or {},
        "errors": errors or {},
        "schedule_errors": schedule_errors or {},
    }
    return render(request, "money/money.html", context, viewer=viewer, status_code=status, tab="me")


PlaceLoader = Callable[[], Awaitable[MoneyPlace]]


async def _after_rollback(viewer: User, load: PlaceLoader, session: AsyncSession) -> MoneyPlace:
    # The idempotency claim commits and a failed request rolls back, which expires what the
    # session loaded: read the viewer and the shop again before rendering them.
    await session.refresh(viewer)
    return await load()


async def _request_payout(
    request: Request, viewer: User, load: PlaceLoader, session: AsyncSession
) -> Response:
    place = await load()
    form = await request.form()
    values = {name: _text(form, name) for name in ("amount", "currency", "destination", "key")}
    try:
        currency = ledger.payee_money(0, values["currency"] or DEFAULT_CURRENCY).currency
        values["currency"] = currency
        amount = parse_major(values["amount"], currency, "amount")
        body = {"amount": amount.amount, "currency": currency, "destination": values["destination"]}

        async def work() -> dict[str, str]:
            payout = await ledger.create_payout(
                payee=place.owner,
                amount=amount,
                destination=values["destination"] or None,
                requested_by=viewer.id,
                session=session,
            )
            return {"payout_id": str(payout.id)}

        answer = await idempotency.run_idempotent(
            owner_id=viewer.id,
            key=values["key"] or uuid.uuid4().hex,
            request_hash=idempotency.fingerprint("POST", request.url.path, body),
            status_code=201,
            work=work,
            session=session,
        )
    except AppError as error:
        problems = errors_from_app_error(error, known_fields=PAYOUT_FIELDS)
        if error.code == "idempotency_key_reused":
            problems = {FORM_ERROR: "This form was already sent. Reload the page to try again."}
        place = await _after_rollback(viewer, load, session)
        return await _page(
            request, viewer, place, session, values=values, errors=problems, status=error.status
        )
    response = see_other(f"{place.base_path}?currency={currency}")
    if answer.headers.get(idempotency.REPLAY_HEADER):
        flash(response, "That payout was already requested.", kind="info")
    else:
        flash(response, f"Payout of {amount.format()} requested. It is on its way to your bank.")
    return response


async def _save_schedule(
    request: Request, viewer: User, load: PlaceLoader, session: AsyncSession
) -> Response:
    place = await load()
    form = await request.form()
    values = {
        name: _text(form, name) for name in ("frequency", "minimum", "currency", "destination")
    }
    try:
        currency = ledger.payee_money(0, values["currency"] or DEFAULT_CURRENCY).currency
        if values["frequency"] not in ("off", "daily", "weekly"):
            raise ValidationFailed.field("frequency", "Choose off, daily or weekly.")
        minimum = parse_major(values["minimum"] or "0", currency, "minimum")
        await ledger.set_payout_schedule(
            place.owner,
            PayoutScheduleIn(
                currency=currency,
                frequency=values["frequency"],
                minimum=minimum.amount,
                destination=values["destination"] or None,
            ),
            session=session,
        )
    except AppError as error:
        problems = errors_from_app_error(error, known_fields=SCHEDULE_FIELDS)
        place = await _after_rollback(viewer, load, session)
        return await _page(
            request,
            viewer,
            place,
            session,
            values=values,
            schedule_errors=problems,
            status=error.status,
        )
    response = see_other(f"{place.base_path}?currency={currency}")
    message = {
        "off": "Automatic payouts are off.",
        "daily": "Your available balance will be paid out every day.",
        "weekly": "Your available balance will be paid out every week.",
    }[values["frequency"]]
    flash(response, message)
    return response


@router.get("/studio/money", response_class=HTMLResponse)
async def creator_money(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """A creator's commissions: balances, statement, payouts."""
    return await _page(request, viewer, await _creator_place(viewer), session)


@router.post("/studio/money/payouts", response_class=HTMLResponse)
async def creator_payout(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """Ask for a payout of a creator's available commissions."""
    return await _request_payout(request, viewer, lambda: _creator_place(viewer), session)


@router.post("/studio/money/schedule", response_class=HTMLResponse)
async def creator_schedule(
    request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Change a creator's automatic payouts."""
    return await _save_schedule(request, viewer, lambda: _creator_place(viewer), session)


@router.get("/seller/{handle}/money", response_class=HTMLResponse)
async def seller_money(
    handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """A shop's money (owner and manager): balances, statement, payouts."""
    return await _page(request, viewer, await _seller_place(viewer, handle, session), session)


@router.post("/seller/{handle}/money/payouts", response_class=HTMLResponse)
async def seller_payout(
    handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Ask for a payout of the shop's available balance."""
    await _seller_place(viewer, handle, session)  # 404/403 before reading the form
    return await _request_payout(
        request, viewer, lambda: _seller_place(viewer, handle, session), session
    )


@router.post("/seller/{handle}/money/schedule", response_class=HTMLResponse)
async def seller_schedule(
    handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Change the shop's automatic payouts."""
    await _seller_place(viewer, handle, session)  # 404/403 before reading the form
    return await _save_schedule(
        request, viewer, lambda: _seller_place(viewer, handle, session), session
    )
