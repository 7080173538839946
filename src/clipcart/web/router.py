"""Every HTML page of ClipCart, in one router the app includes."""

from __future__ import annotations

from fastapi import APIRouter

from clipcart.web import account_pages, pages, security_pages

router = APIRouter(include_in_schema=False)
router.include_router(pages.router)
router.include_router(account_pages.router)
router.include_router(security_pages.router)
