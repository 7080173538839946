"""The Inbox tab's notifications page: list (newest first), open one, mark read."""

from __future__ import annotations

import uuid

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from clipcart.core.routing import DbSession, make_router
from clipcart.messaging import service as messaging
from clipcart.notifications import service as notifications
from clipcart.web.flash import flash
from clipcart.web.forms import safe_next, see_other
from clipcart.web.templating import render
from clipcart.web.viewer import SignedInViewer

router = make_router(include_in_schema=False)


@router.get("/notifications", response_class=HTMLResponse)
async def notification_list(
    request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Your notifications, unread ones marked, a page at a time."""
    rows, next_cursor = await notifications.list_notifications(
        viewer, session=session, cursor=request.query_params.get("cursor") or None, limit=30
    )
    unread = await notifications.unread_count(viewer.id, session=session)
    unread_messages = await messaging.unread_total(viewer, session=session)
    return render(
        request,
        "commerce/notifications.html",
        {
            "notifications": rows,
            "next_cursor": next_cursor,
            "unread": unread,
            "unread_messages": unread_messages,
        },
        viewer=viewer,
        tab="inbox",
    )


@router.post("/notifications/read-all", response_class=HTMLResponse)
async def read_all(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """Mark every notification read."""
    marked = await notifications.mark_all_read(viewer, session=session)
    response = see_other("/notifications")
    flash(response, "Everything is marked read." if marked else "Nothing new to mark.")
    return response


@router.post("/notifications/{notification_id}/open", response_class=HTMLResponse)
async def open_notification(
    notification_id: uuid.UUID, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Mark the notification read and go where it points (its order, its return...)."""
    notification = await notifications.mark_read(viewer, notification_id, session=session)
    return see_other(safe_next(notification.link, default="/notifications"))
