"""Every HTML page of ClipCart, in one router the app includes."""

from __future__ import annotations

from fastapi import APIRouter

from clipcart.web import (
    account_pages,
    affiliate_pages,
    cart_pages,
    checkout_pages,
    feed_pages,
    import_pages,
    message_pages,
    money_pages,
    notification_pages,
    order_pages,
    pages,
    security_pages,
    seller_order_pages,
    seller_pages,
    seller_promotion_pages,
    shop_pages,
    social_pages,
    video_pages,
    welcome_pages,
)

router = APIRouter(include_in_schema=False)
router.include_router(pages.router)
router.include_router(message_pages.router)
router.include_router(account_pages.router)
router.include_router(security_pages.router)
router.include_router(shop_pages.router)
router.include_router(seller_pages.router)
router.include_router(import_pages.router)
router.include_router(video_pages.router)
router.include_router(feed_pages.router)
router.include_router(money_pages.router)
router.include_router(affiliate_pages.router)
router.include_router(social_pages.router)
router.include_router(cart_pages.router)
router.include_router(checkout_pages.router)
router.include_router(order_pages.router)
router.include_router(seller_order_pages.router)
router.include_router(seller_promotion_pages.router)
router.include_router(notification_pages.router)
router.include_router(welcome_pages.router)
