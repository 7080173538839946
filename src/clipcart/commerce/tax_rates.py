"""The tax rate table: which rate applies to a ship-to address, the admin's edits, and a
starter table for the demo. Services never commit."""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.commerce.address_rules import COUNTRY_NAMES
from clipcart.commerce.pricing import TaxTerms
from clipcart.commerce.promotion_models import TaxRate
from clipcart.core.errors import FieldErrors, NotFound

# (country, region, basis points, name, included in the price): US state sales taxes are
# added at checkout; European and Chinese VAT is already in the shop's prices.
DEFAULT_TAX_RATES: tuple[tuple[str, str, int, str, bool], ...] = (
    ("US", "CA", 725, "Sales tax", False),
    ("US", "NY", 400, "Sales tax", False),
    ("US", "TX", 625, "Sales tax", False),
    ("US", "WA", 650, "Sales tax", False),
    ("US", "FL", 600, "Sales tax", False),
    ("US", "IL", 625, "Sales tax", False),
    ("GB", "", 2000, "VAT", True),
    ("DE", "", 1900, "MwSt.", True),
    ("FR", "", 2000, "TVA", True),
    ("CN", "", 1300, "VAT", True),
)


def _terms(rate: TaxRate) -> TaxTerms:
    return TaxTerms(rate_bp=rate.rate_bp, included_in_price=rate.included_in_price, name=rate.name)


# Built once (every quote and checkout asks): the country's own rate and its region's.
_COUNTRY_AND_REGION_RATES = select(TaxRate).where(
    TaxRate.country == bindparam("country"),
    TaxRate.region.in_(bindparam("regions", expanding=True)),
)


async def tax_terms_for(country: str, region: str, *, session: AsyncSession) -> TaxTerms | None:
    """The rate for the region of the country, else the country's own, else None."""
    country = country.strip().upper()
    region = region.strip()
    rows = await session.scalars(
        _COUNTRY_AND_REGION_RATES, {"country": country, "regions": sorted({region, ""})}
    )
    by_region = {rate.region: rate for rate in rows.all()}
    for key in (region, ""):
        if key in by_region:
            return _terms(by_region[key])
    return None


async def set_tax_rate(
    country: str,
    region: str,
    *,
    rate_bp: int,
    name: str,
    included_in_price: bool,
    session: AsyncSession,
) -> TaxRate:
    """Create or change the rate of a country (region '') or of one of its regions."""
    country = country.strip().upper()
    region = " ".join(region.split())
    if country == "US":
        region = region.upper()
    name = " ".join(name.split()) or "Tax"
    errors = FieldErrors()
    if country not in COUNTRY_NAMES:
        errors.add("country", ["Give a 2-letter country code, like US or GB."])
    if len(region) > 100:
        errors.add("region", ["Keep the region under 101 characters."])
    if not 0 <= rate_bp <= 10000:
        errors.add("rate_bp", ["Give a rate in basis points from 0 to 10000 (725 = 7.25%)."])
    if len(name) > 40:
        errors.add("name", ["Keep the name under 41 characters."])
    errors.raise_if_any()
    rate = await session.scalar(
        select(TaxRate).where(TaxRate.country == country, TaxRate.region == region)
    )
    if rate is None:
        rate = TaxRate(country=country, region=region)
        session.add(rate)
    rate.rate_bp, rate.name, rate.included_in_price = rate_bp, name, included_in_price
    await session.flush()
    return rate


async def list_tax_rates(*, session: AsyncSession, country: str | None = None) -> list[TaxRate]:
    """The table, by country then region (one country's when given)."""
    query = select(TaxRate).order_by(TaxRate.country, TaxRate.region)
    if country:
        query = query.where(TaxRate.country == country.strip().upper())
    return list((await session.scalars(query)).all())


async def delete_tax_rate(
    *,
    session: AsyncSession,
    rate_id: uuid.UUID | None = None,
    country: str | None = None,
    region: str = "",
) -> None:
    """Remove a rate, by id or by country and region (404 when there is none)."""
    if rate_id is not None:
        rate = await session.get(TaxRate, rate_id)
    else:
        rate = await session.scalar(
            select(TaxRate).where(
                TaxRate.country == (country or "").strip().upper(),
                TaxRate.region == region.strip(),
            )
        )
    if rate is None:
        raise NotFound("There is no such tax rate.", code="tax_rate_not_found")
    await session.delete(rate)
    await session.flush()


async def ensure_default_tax_rates(*, session: AsyncSession) -> int:
    """Add the starter rates that are missing (existing rows are left alone); how many."""
    existing = {
        (country, region)
        for country, region in (await session.execute(select(TaxRate.country, TaxRate.region)))
    }
    added = 0
    for country, region, rate_bp, name, included in DEFAULT_TAX_RATES:
        if (country, region) in existing:
            continue
        session.add(
            TaxRate(
                country=country,
                region=region,
                rate_bp=rate_bp,
                name=name,
                included_in_price=included,
            )
        )
        added += 1
    if added:
        await session.flush()
    return added
