"""The collaborative model, trained from the event log by the job (and `clipcart train`), served
from memory and swapped when a new one lands: people who liked A also liked B, so a viewer who
likes A gets B from the "similar" source."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from clipcart.core.db import unit_of_work
from clipcart.recs import serving, training
from tests.api.test_accounts_auth import new_client, signup
from tests.api.test_feed_engine import creators, event, page, send, topic_videos


@pytest.fixture(autouse=True)
def fresh_model_holder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serving, "CHECK_SECONDS", 0.0)
    serving.holder.forget()


async def test_a_trained_model_serves_similar_videos_and_is_swapped_live(
    app: Any, client: httpx.AsyncClient
) -> None:
    await creators(app, "maker_a", "maker_b", "maker_c")
    first = await topic_videos("maker_a", "craft", 2)
    pair = await topic_videos("maker_b", "pottery", 2)
    await topic_videos("maker_c", "travel", 4, hours_old=1)
    # Five people who liked the first craft video also liked pottery.
    for number in range(5):
        async with new_client(app) as fan:
            await signup(fan, f"fan{number}")
            await send(fan, *(event("like", video_id=video) for video in (first[0], *pair)))
    async with unit_of_work() as session:
        assert serving.holder.current() is None  # nothing trained yet
        report = await training.train(session=session)
    assert report is not None and report.users == 5 and report.interactions == 15
    model = serving.holder.current()
    assert model is not None
    similar = [video for video, _ in model.similar_to([first[0]], [1.0], k=5)]
    assert set(similar[:2]) == set(pair)

    await signup(client, "viewer")
    cold = await page(client, limit=8)
    assert not any("similar" in item["why"]["sources"] for item in cold)  # no history yet
    await send(client, event("like", video_id=first[0]))
    # The next page: pottery (similar) beside the other craft video (same topic and creator),
    # never two by one creator in a row, and not the liked video again.
    warm = {item["video"]["id"]: item for item in await page(client, limit=4)}
    assert str(first[0]) not in warm
    assert {str(video) for video in pair} <= set(warm)
    assert all("similar" in warm[str(video)]["why"]["sources"] for video in pair)

    # Retraining publishes a new model; the serving process swaps it in without a restart.
    async with unit_of_work() as session:
        assert await training.train(session=session) is not None
    assert serving.holder.current() is not model
