"""The served model keeps its video ids as integers: the ids saved by training come back as the
same UUIDs, and similar_to answers with them."""

from __future__ import annotations

import uuid

import numpy as np
import scipy.sparse as sp

from clipcart.recs.collaborative import ItemModel, ModelParams
from clipcart.recs.serving import ServedModel, video_ints_of


def saved_ids(videos: list[uuid.UUID]) -> np.ndarray:
    """The id array as training saves it (16 bytes per video)."""
    return np.frombuffer(b"".join(video.bytes for video in videos), dtype=np.uint8).reshape(-1, 16)


def test_saved_ids_read_back_as_the_same_uuids() -> None:
    videos = [uuid.uuid4() for _ in range(50)] + [uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)]
    assert [uuid.UUID(int=value) for value in video_ints_of(saved_ids(videos))] == videos
    assert video_ints_of(saved_ids([])) == []


def test_similar_to_names_videos_by_their_uuids() -> None:
    videos = [uuid.uuid4() for _ in range(4)]
    weights = sp.csr_matrix(  # item 0 points at 2 (strongly) and 3
        np.array([[0, 0, 2, 1], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], dtype=np.float32)
    )
    model = ItemModel(
        n_items=4,
        params=ModelParams(transition_weight=0.0),
        weights=weights,
        transitions=sp.csr_matrix((4, 4), dtype=np.float32),
        popularity=np.ones(4),
    )
    ints = video_ints_of(saved_ids(videos))
    served = ServedModel(
        model=model,
        video_ints=ints,
        index_of={value: index for index, value in enumerate(ints)},
        trained_at="",
    )
    similar = served.similar_to([uuid.uuid4(), videos[0]], [1.0, 1.0], k=3)
    assert [video for video, _ in similar] == [videos[2], videos[3]]
    assert all(isinstance(video, uuid.UUID) for video, _ in similar)
    assert similar[0][1] > similar[1][1] > 0
