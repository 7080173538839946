"""Reports of videos, comments, users and products: fixed reasons, one open report each."""

from __future__ import annotations

import uuid
from typing import Any

from clipcart.social.models import Report
from tests.api.test_accounts_auth import API, assert_problem
from tests.api.test_social_comments import post_comment
from tests.api.test_social_likes import Person, PersonMaker, count_rows, make_video, person

__all__ = ["person"]


async def send_report(who: Person, **fields: Any) -> Any:
    """POST a report."""
    body = {"reason": "spam", "details": ""} | fields
    if "target_id" in body:
        body["target_id"] = str(body["target_id"])
    return await who.client.post(f"{API}/reports", json=body)


async def test_reports_each_kind_once_while_open(person: PersonMaker) -> None:
    creator, fan = await person("creator"), await person("fan")
    video_id = await make_video(creator)
    comment = await post_comment(creator, video_id, "buy now!!!")

    made = await send_report(
        fan, target_type="video", target_id=video_id, reason="scam_or_fraud", details=" fake "
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["target_type"], body["reason"], body["details"], body["status"]) == (
        "video",
        "scam_or_fraud",
        "fake",
        "open",
    )
    twice = await send_report(fan, target_type="video", target_id=video_id)
    assert_problem(twice, 409, "already_reported")
    # another person may report the same video
    assert (await send_report(creator, target_type="user", target_id=fan.id)).status_code == 201
    assert (
        await send_report(fan, target_type="comment", target_id=comment["id"], reason="harassment")
    ).status_code == 201
    assert (await send_report(fan, target_type="user", target_id=creator.id)).status_code == 201
    assert await count_rows(Report) == 4
    reasons = (await fan.client.get(f"{API}/reports/reasons")).json()
    assert "spam" in reasons and reasons["other"] == "Something else"


async def test_bad_reports_are_refused_and_nothing_is_stored(person: PersonMaker) -> None:
    creator, fan = await person("creator"), await person("fan")
    video_id = await make_video(creator)
    private = await make_video(creator, visibility="private")
    cases = [
        ({"target_type": "video", "target_id": video_id, "reason": "boring"}, 422, "bad_reason"),
        ({"target_type": "shoe", "target_id": video_id}, 422, "bad_target_type"),
        (
            {"target_type": "video", "target_id": video_id, "details": "x" * 1001},
            422,
            "validation_failed",
        ),
        ({"target_type": "video", "target_id": private}, 404, "video_not_found"),
        (
            {"target_type": "video", "target_id": video_id, "details": "a\x00b"},
            422,
            "validation_failed",
        ),
        ({"target_type": "comment", "target_id": uuid.uuid4()}, 404, "comment_not_found"),
        ({"target_type": "user", "target_id": uuid.uuid4()}, 404, "user_not_found"),
        ({"target_type": "product", "target_id": uuid.uuid4()}, 404, "product_not_found"),
        ({"target_type": "user", "target_id": fan.id}, 422, "validation_failed"),
    ]
    for fields, status, code in cases:
        assert_problem(await send_report(fan, **fields), status, code)
    missing_id = await fan.client.post(f"{API}/reports", json={"target_type": "video"})
    assert missing_id.status_code == 422
    assert await count_rows(Report) == 0
