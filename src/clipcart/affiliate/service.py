"""The affiliate program's use cases: what other domains and the web pages call. Services
never commit; the caller does. Collaborations and tags (collaborations.py), commissions
(commissions.py), the creator center's figures (reports.py) and samples (samples.py) live in
their own modules; this is the one module other domains import."""

from __future__ import annotations

from clipcart.affiliate.browse import showcase_product_ids
from clipcart.affiliate.collaborations import (
    Offer,
    authorise_tag,
    get_collaboration_for_staff,
    invitations_of,
    list_shop_collaborations,
    offer_for,
    offers_for,
    open_collaboration,
    rate_for_sale,
    update_collaboration,
)
from clipcart.affiliate.commissions import (
    Sale,
    SaleLine,
    commission_out,
    list_commissions,
    on_order_transition,
    record_commissions,
    sync_clawbacks,
)
from clipcart.affiliate.domain import Touch, credited_touch, rate_label
from clipcart.affiliate.samples import fulfil_samples

__all__ = [
    "Offer",
    "Sale",
    "SaleLine",
    "Touch",
    "authorise_tag",
    "commission_out",
    "credited_touch",
    "fulfil_samples",
    "get_collaboration_for_staff",
    "invitations_of",
    "list_commissions",
    "list_shop_collaborations",
    "offer_for",
    "offers_for",
    "on_order_transition",
    "open_collaboration",
    "rate_for_sale",
    "rate_label",
    "record_commissions",
    "showcase_product_ids",
    "sync_clawbacks",
    "update_collaboration",
]
