"""Property: a replayed read (same camera, client read id and observation instant) is stored
once and answered with the id it was first stored under, whatever days, cameras, UTC offsets
and hit flags a batch mixes; a client id reused at another instant or by another camera is
another read.

Each example writes under cameras of its own, so examples share the test's database without
seeing each other's reads. On PostgreSQL the days' partitions exist, so the per-day replay
lookup runs against the partitions it prunes to.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alpr_guard.runtime import Runtime
from alpr_guard.services import partitions
from tests.conftest import HIT_REF, NOW, auth

# (days back, minute of the day, camera, client id, hit, offset in minutes)
read_strategy = st.tuples(
    st.integers(0, 9),
    st.integers(0, 1439),
    st.integers(0, 2),
    st.integers(0, 4),
    st.booleans(),
    st.sampled_from([0, -300, 570]),
)
Identity = tuple[object, object, datetime]


def post(client: FlaskClient, token: str, reads: list[dict[str, object]]) -> dict[str, object]:
    response = client.post("/api/v1/reads", json={"reads": reads}, headers=auth(token))
    assert response.status_code == 201, response.get_json()
    body: dict[str, object] = response.get_json()
    return body


def identity(r: dict[str, object]) -> Identity:
    return (r["camera_id"], r["client_read_id"], datetime.fromisoformat(str(r["observed_at"])))


def written(at: datetime, offset_minutes: int) -> str:
    """The instant as a camera in another zone would send it."""
    return at.astimezone(timezone(timedelta(minutes=offset_minutes))).isoformat()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(spec=st.lists(read_strategy, min_size=1, max_size=40), seed=st.integers(0, 2**16))
def test_each_read_is_stored_once_under_one_id(
    client: FlaskClient,
    tokens: dict[str, str],
    rt: Runtime,
    spec: list[tuple[int, int, int, int, bool, int]],
    seed: int,
) -> None:
    with rt.sessions.begin() as session:
        if partitions.is_partitioned(session):
            for at in (NOW - timedelta(days=8), NOW):  # each covers 2 days back, 7 ahead
                partitions.ensure_partitions(session, at)
    prefix = uuid.uuid4().hex[:8]
    day0 = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
    reads = []
    for days_back, minute, camera, client_id, hit, offset in spec:
        at = day0 - timedelta(days=days_back) + timedelta(minutes=minute)
        at = min(at, NOW - timedelta(seconds=1))
        reads.append(
            {
                "plate": "7ABC123",
                "observed_at": written(at, offset),
                "camera_id": f"{prefix}-cam-{camera}",
                "client_read_id": f"r-{client_id}",
                "hit": dict(HIT_REF) if hit else False,
            }
        )

    first = post(client, tokens["ingest"], reads)
    distinct = {identity(r) for r in reads}
    assert (first["accepted"], first["duplicates"]) == (len(distinct), len(reads) - len(distinct))
    ids = first["ids"]
    assert isinstance(ids, list)
    id_of = {identity(r): i for r, i in zip(reads, ids, strict=True)}
    assert all(id_of[identity(r)] == i for r, i in zip(reads, ids, strict=True))
    assert len(set(ids)) == len(distinct)

    # Replayed in any order, in another UTC offset, with hit flags changed: the stored reads
    # come back under their ids. Their client ids reused a second later, or by another camera
    # at the same instant, are new reads.
    rng = random.Random(seed)
    again = []
    for r in rng.sample(reads, k=rng.randint(1, len(reads))):
        instant = datetime.fromisoformat(str(r["observed_at"]))
        again.append(
            {
                **r,
                "observed_at": written(instant, rng.choice([0, -300, 570])),
                "hit": False if r["hit"] else dict(HIT_REF),
            }
            if rng.random() < 0.3
            else r
        )
    fresh = []
    for r in rng.sample(reads, k=rng.randint(0, min(4, len(reads)))):
        instant = datetime.fromisoformat(str(r["observed_at"]))
        if rng.random() < 0.5:
            fresh.append({**r, "observed_at": written(instant + timedelta(seconds=1), 0)})
        else:
            fresh.append({**r, "camera_id": f"{prefix}-cam-9"})
    fresh = [r for r in fresh if identity(r) not in id_of]  # a second later may be stored
    mixed = again + fresh
    rng.shuffle(mixed)
    second = post(client, tokens["ingest"], mixed)
    new_distinct = {identity(r) for r in fresh}
    assert second["accepted"] == len(new_distinct)
    assert second["duplicates"] == len(mixed) - len(new_distinct)
    second_ids = second["ids"]
    assert isinstance(second_ids, list)
    new_ids: dict[Identity, object] = {}
    for r, read_id in zip(mixed, second_ids, strict=True):
        if identity(r) in id_of:
            assert read_id == id_of[identity(r)]
        else:
            assert read_id not in ids
            assert new_ids.setdefault(identity(r), read_id) == read_id
    assert len(set(new_ids.values())) == len(new_distinct)
