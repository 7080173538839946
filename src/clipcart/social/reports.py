"""Reports of videos, comments, people and products, for the trust team to look at."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.catalog import service as catalog
from clipcart.core.errors import Conflict, NotFound, ValidationFailed
from clipcart.social import domain
from clipcart.social.comments import get_comment
from clipcart.social.models import Report
from clipcart.social.visibility import get_visible_video


async def _check_report_target(
    user: User, target_type: str, target_id: uuid.UUID, *, session: AsyncSession
) -> None:
    if target_type == "video":
        await get_visible_video(user, target_id, session=session)
    elif target_type == "comment":
        await get_comment(user, target_id, session=session)
    elif target_type == "user":
        if await session.get(User, target_id) is None:
            raise NotFound("There is no such account.", code="user_not_found")
    else:
        await catalog.get_product_for_viewer(user, target_id, session=session)


async def report(
    user: User,
    *,
    target_type: str,
    target_id: uuid.UUID,
    reason: str,
    details: str = "",
    session: AsyncSession,
) -> Report:
    """Report a video, comment, user or product for one of the fixed reasons."""
    if target_type not in domain.REPORT_TARGETS:
        raise ValidationFailed.field(
            "target_type", "Report a video, comment, user or product.", code="bad_target_type"
        )
    if reason not in domain.REPORT_REASONS:
        raise ValidationFailed.field(
            "reason", "Choose one of the listed reasons.", code="bad_reason"
        )
    problems = domain.details_problems(details)
    if problems:
        raise ValidationFailed.field("details", problems[0])
    if target_type == "user" and target_id == user.id:
        raise ValidationFailed.field("target_id", "You cannot report yourself.")
    await _check_report_target(user, target_type, target_id, session=session)
    already_open = select(Report.id).where(
        Report.reporter_id == user.id,
        Report.target_type == target_type,
        Report.target_id == target_id,
        Report.status == "open",
    )
    if await session.scalar(already_open) is not None:
        raise Conflict("You already reported this; we are looking at it.", code="already_reported")
    created = Report(
        reporter_id=user.id,
        target_type=target_type,
        target_id=target_id,
        reason=reason,
        details=details.strip(),
    )
    session.add(created)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:  # the same report sent twice at once
        raise Conflict(
            "You already reported this; we are looking at it.", code="already_reported"
        ) from error
    return created
