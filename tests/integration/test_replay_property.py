"""Property: a replayed read (same camera, client read id and observation time) is stored once
and answered with the id it was first stored under, whatever days, cameras and hit flags a
batch mixes; a client id reused at another time or by another camera is another read.

Each example writes under cameras of its own, so examples share the test's database without
seeing each other's reads.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import NOW, auth

# (days back, minute of the day, camera, client id, hit)
read_strategy = st.tuples(
    st.integers(0, 9), st.integers(0, 1439), st.integers(0, 2), st.integers(0, 4), st.booleans()
)


def post(client: FlaskClient, token: str, reads: list[dict[str, object]]) -> dict[str, object]:
    response = client.post("/api/v1/reads", json={"reads": reads}, headers=auth(token))
    assert response.status_code == 201, response.get_json()
    body: dict[str, object] = response.get_json()
    return body


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(spec=st.lists(read_strategy, min_size=1, max_size=40), seed=st.integers(0, 2**16))
def test_each_read_is_stored_once_under_one_id(
    client: FlaskClient,
    tokens: dict[str, str],
    spec: list[tuple[int, int, int, int, bool]],
    seed: int,
) -> None:
    prefix = uuid.uuid4().hex[:8]
    day0 = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
    reads = []
    for days_back, minute, camera, client_id, hit in spec:
        at = day0 - timedelta(days=days_back) + timedelta(minutes=minute)
        at = min(at, NOW - timedelta(seconds=1))
        reads.append(
            {
                "plate": "7ABC123",
                "observed_at": at.isoformat(),
                "camera_id": f"{prefix}-cam-{camera}",
                "client_read_id": f"r-{client_id}",
                "hit": hit,
            }
        )

    def identity(r: dict[str, object]) -> tuple[object, object, object]:
        return (r["camera_id"], r["client_read_id"], r["observed_at"])

    first = post(client, tokens["ingest"], reads)
    distinct = {identity(r) for r in reads}
    assert (first["accepted"], first["duplicates"]) == (len(distinct), len(reads) - len(distinct))
    ids = first["ids"]
    assert isinstance(ids, list)
    id_of = {identity(r): i for r, i in zip(reads, ids, strict=True)}
    assert all(id_of[identity(r)] == i for r, i in zip(reads, ids, strict=True))
    assert len(set(ids)) == len(distinct)

    # Replayed in any order, mixed with new reads and with hit flags changed: the stored ones
    # come back under their ids, the new ones are stored.
    rng = random.Random(seed)
    again = [
        {**r, "hit": not r["hit"]} if rng.random() < 0.3 else r
        for r in rng.sample(reads, k=rng.randint(1, len(reads)))
    ]
    fresh = [
        {**r, "observed_at": str(r["observed_at"]).replace(":00+", ":01+"), "client_read_id": "new"}
        for r in rng.sample(reads, k=rng.randint(0, min(3, len(reads))))
    ]
    mixed = again + fresh
    rng.shuffle(mixed)
    second = post(client, tokens["ingest"], mixed)
    new_distinct = {identity(r) for r in fresh}
    assert second["accepted"] == len(new_distinct)
    assert second["duplicates"] == len(mixed) - len(new_distinct)
    second_ids = second["ids"]
    assert isinstance(second_ids, list)
    for r, read_id in zip(mixed, second_ids, strict=True):
        if identity(r) in id_of:
            assert read_id == id_of[identity(r)]
        else:
            assert read_id not in ids
