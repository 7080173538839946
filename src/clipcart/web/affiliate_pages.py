"""Affiliate pages: the creator center (/studio/affiliate: figures and charts per video and
per product, balances, commissions with their evidence, samples, products open to the creator)
and the shop side (/seller/{handle}/affiliate: collaborations, creators selling the shop's
products with the same figures, sample requests). They call the same services as the API."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.affiliate import browse, domain, reports, samples, service
from clipcart.affiliate.schemas import CollaborationIn, CollaborationUpdateIn, SampleIn
from clipcart.catalog import service as catalog
from clipcart.core.errors import AppError
from clipcart.core.money import Money
from clipcart.core.routing import DbSession, make_router
from clipcart.ledger import service as ledger
from clipcart.ledger.domain import Owner
from clipcart.shops import service as shops
from clipcart.shops.models import Shop
from clipcart.web import charts
from clipcart.web.flash import flash
from clipcart.web.forms import see_other
from clipcart.web.shop_pages import browse_categories
from clipcart.web.templating import render
from clipcart.web.viewer import SignedInViewer

router = make_router(include_in_schema=False)

MANAGING_ROLES = frozenset({"owner", "manager"})
SPARK_WIDTH, SPARK_HEIGHT = 120, 32
STATUS_LABELS = {
    domain.AWAITING_PAYMENT: "Awaiting payment",
    domain.PENDING: "Pending",
    domain.AVAILABLE: "Available",
    domain.VOID: "Void",
    domain.CLAWED_BACK: "Clawed back",
}
SAMPLE_LABELS = {
    domain.REQUESTED: "Requested",
    domain.APPROVED: "Approved",
    domain.DECLINED: "Declined",
    domain.FULFILLED: "Posted",
    domain.MISSED: "Deadline missed",
}
FILTER_FIELDS = ("min_rate", "max_price", "min_sales", "min_shop_score")
SHOP_SCORE_CHOICES = (95, 90, 80)  # the creator center's "shop score" filter, in percent


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _int(text: str) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _charts(report: reports.Report) -> dict[str, Any]:
    """The report's daily charts, and a sparkline per row."""

    def money(amount: int) -> str:
        return Money(amount, report.currency).format()

    total = report.total
    sparks: dict[uuid.UUID, dict[str, object]] = {}
    for rows in report.rows.values():
        for row in rows:
            name = "views" if row.figures.views else "gmv"
            sparks[row.id] = charts.line_chart(
                row.figures.series(name, report.days),
                formatter=money if name == "gmv" else str,
                width=SPARK_WIDTH,
                height=SPARK_HEIGHT,
            )
    return {
        "views": charts.line_chart(total.series("views", report.days)),
        "taps": charts.bar_chart(total.series("taps", report.days)),
        "gmv": charts.bar_chart(total.series("gmv", report.days), formatter=money),
        "commission": charts.line_chart(total.running("commission", report.days), formatter=money),
        "sparks": sparks,
        "money": money,
    }


async def _balance(owner: Owner, currency: str, session: AsyncSession) -> dict[str, str]:
    balances = {b.currency: b for b in await ledger.list_payee_balances(owner, session=session)}
    found = balances.get(currency)
    return {
        "pending": Money(found.pending if found else 0, currency).format(),
        "available": Money(found.available if found else 0, currency).format(),
    }


# --- the creator center ------------------------------------------------------------------


@router.get("/studio/affiliate", response_class=HTMLResponse)
async def creator_center(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """The creator center: figures, charts, balances, commissions, samples and offers."""
    query = request.query_params
    filters = browse.OfferFilters(
        category_id=_int(query.get("category_id", "")),
        min_rate_bp=(_int(query.get("min_rate", "")) or 0) * 100 or None,
        max_price=(_int(query.get("max_price", "")) or 0) * 100 or None,
        min_sales=_int(query.get("min_sales", "")),
        min_shop_score=_int(query.get("min_shop_score", "")),
        sort=str(query.get("sort")) if query.get("sort") in browse.SORTS else "commission",
    )
    report = await reports.creator_report(viewer, session=session)
    commissions = await service.list_commissions(creator_id=viewer.id, limit=50, session=session)
    offers = await browse.browse_offers(viewer.id, filters, session=session)
    own_samples = await samples.list_samples(creator_id=viewer.id, session=session)
    titles = {
        product.id: product.title
        for product in (
            await catalog.products_by_ids({s.product_id for s in own_samples}, session=session)
        ).values()
    }
    context = {
        "report": report,
        "charts": _charts(report),
        "balance": await _balance(Owner.creator(viewer.id), report.currency, session),
        "commissions": [service.commission_out(row) for row in commissions],
        "status_labels": STATUS_LABELS,
        "offers": offers,
        "filters": {key: query.get(key, "") for key in FILTER_FIELDS},
        "shop_scores": SHOP_SCORE_CHOICES,
        "categories": browse_categories(),
        "selected_category": filters.category_id,
        "sort": filters.sort,
        "sorts": browse.SORTS,
        "samples": own_samples,
        "sample_labels": SAMPLE_LABELS,
        "titles": titles,
    }
    return render(request, "affiliate/creator_center.html", context, viewer=viewer, tab="me")


@router.post("/studio/affiliate/showcase", response_class=HTMLResponse)
async def creator_showcase(
    request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Add a product open to the creator to their showcase (or take it off)."""
    form = await request.form()
    response = see_other("/studio/affiliate#offers")
    try:
        product_id = uuid.UUID(_text(form, "product_id"))
        if _text(form, "remove"):
            await browse.remove_from_showcase(viewer.id, product_id, session=session)
            flash(response, "Taken off your showcase.")
        else:
            await browse.add_to_showcase(viewer.id, product_id, session=session)
            flash(response, "Added to your showcase: it shows on your profile.")
    except (ValueError, AppError) as error:
        await session.rollback()
        flash(response, getattr(error, "message", "Choose a product."), kind="error")
    return response


@router.post("/studio/affiliate/samples", response_class=HTMLResponse)
async def creator_sample(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """Ask for a free sample of a product open to the creator."""
    form = await request.form()
    response = see_other("/studio/affiliate#samples")
    try:
        data = SampleIn(product_id=uuid.UUID(_text(form, "product_id")))
        await samples.request_sample(viewer.id, data, session=session)
        flash(response, "Sample requested. The shop will answer here.")
    except (ValueError, AppError) as error:
        await session.rollback()
        flash(response, getattr(error, "message", "Choose a product."), kind="error")
    return response


# --- the shop side -----------------------------------------------------------------------


async def _shop(viewer: User, handle: str, session: AsyncSession) -> Shop:
    return await shops.get_shop_for_staff(viewer, handle, session=session, roles=MANAGING_ROLES)


@router.get("/seller/{handle}/affiliate", response_class=HTMLResponse)
async def shop_affiliate(
    handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Collaborations, the creators selling the shop's products, and sample requests."""
    shop = await _shop(viewer, handle, session)
    report = await reports.shop_report(shop.id, session=session)
    collaborations = await service.list_shop_collaborations(shop, session=session)
    products, _ = await catalog.list_products(
        catalog.ProductFilters(shop_id=shop.id), limit=100, session=session
    )
    titles = {product.id: product.title for product in products}
    requests = await samples.list_samples(shop=shop, session=session)
    context = {
        "shop": shop,
        "section": "affiliate",
        "report": report,
        "charts": _charts(report),
        "collaborations": collaborations,
        "rate_label": domain.rate_label,
        "products": [(p.id, p.title) for p in products if p.status == "active"],
        "titles": titles,
        "samples": requests,
        "sample_labels": SAMPLE_LABELS,
    }
    return render(request, "affiliate/shop.html", context, viewer=viewer, tab="me")


@router.post("/seller/{handle}/affiliate/collaborations", response_class=HTMLResponse)
async def shop_open_collaboration(
    handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Open a product to creators from the shop page's form (rate in percent)."""
    shop = await _shop(viewer, handle, session)
    form = await request.form()
    response = see_other(f"/seller/{shop.handle}/affiliate")
    try:
        rate = float(_text(form, "rate") or "0")
        invited = [h.strip().lstrip("@") for h in _text(form, "creators").split(",") if h.strip()]
        ends_on = _text(form, "ends_on")
        data = CollaborationIn(
            product_id=uuid.UUID(_text(form, "product_id")),
            kind="targeted" if invited else "open",
            rate_bp=round(rate * 100),
            ends_at=datetime.combine(date.fromisoformat(ends_on), time.max, tzinfo=UTC)
            if ends_on
            else None,
            creators=[{"handle": h} for h in invited],
        )
        await service.open_collaboration(shop, data, session=session)
        flash(response, f"Opened to creators at {domain.rate_label(data.rate_bp)}.")
    except (ValueError, ValidationError, AppError) as error:
        await session.rollback()
        message = error.message if isinstance(error, AppError) else "Check the product and rate."
        flash(response, message, kind="error")
    return response


@router.post("/seller/{handle}/affiliate/collaborations/{collaboration_id}")
async def shop_change_collaboration(
    handle: str,
    collaboration_id: uuid.UUID,
    request: Request,
    viewer: SignedInViewer,
    session: DbSession,
) -> Response:
    """Pause, resume, or change the rate of a collaboration (new tags only)."""
    shop = await _shop(viewer, handle, session)
    form = await request.form()
    response = see_other(f"/seller/{shop.handle}/affiliate")
    try:
        collaboration = await service.get_collaboration_for_staff(
            viewer, collaboration_id, session=session
        )
        status = _text(form, "status") or None
        rate = _text(form, "rate")
        change = CollaborationUpdateIn(
            status=status,
            rate_bp=round(float(rate) * 100) if rate else None,
        )
        await service.update_collaboration(collaboration, change, session=session)
        flash(response, "Collaboration updated.")
    except (ValueError, ValidationError, AppError) as error:
        await session.rollback()
        message = error.message if isinstance(error, AppError) else "Check the rate."
        flash(response, message, kind="error")
    return response


@router.post("/seller/{handle}/affiliate/samples/{sample_id}")
async def shop_decide_sample(
    handle: str, sample_id: uuid.UUID, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Approve or decline a sample request."""
    shop = await _shop(viewer, handle, session)
    form = await request.form()
    response = see_other(f"/seller/{shop.handle}/affiliate#samples")
    try:
        sample = await samples.get_sample_for_shop_staff(viewer.id, sample_id, session=session)
        approve = _text(form, "decision") == "approve"
        await samples.decide_sample(sample, approve=approve, session=session)
        flash(
            response,
            "Sample approved: the creator has 14 days to post." if approve else "Declined.",
        )
    except AppError as error:
        await session.rollback()
        flash(response, error.message, kind="error")
    return response
