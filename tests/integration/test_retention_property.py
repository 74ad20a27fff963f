"""Property: for any set of reads and any purge instant, the dry run and the real run agree,
exactly the reads past their class's window go, and no surviving read loses its key.

SQLite only (each example builds a fresh database); the PostgreSQL path of the same service is
covered by the example-based tests in test_retention.py and test_partitions.py.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from alpr_guard.api.parsing import parse_read_batch
from alpr_guard.clock import FixedClock
from alpr_guard.crypto import KeyRing
from alpr_guard.db import read_only_session
from alpr_guard.jobs.purge import purge_expired
from alpr_guard.models import DataKeyRecord, PlateRead
from alpr_guard.runtime import build_runtime
from alpr_guard.services.agencies import AgencyInput, upsert_agency
from alpr_guard.services.ingest import record_reads
from alpr_guard.services.principals import SYSTEM, add_user, authenticate
from alpr_guard.services.retention import plan_purge
from alpr_guard.services.sealed_reads import read_aad
from alpr_guard.settings import load_settings
from tests.conftest import HIT_REF, OPERATING_ORI, Backend, write_config

BASE = datetime(2026, 1, 1, tzinfo=UTC)
WINDOWS = {False: timedelta(days=60), True: timedelta(days=365)}

reads_strategy = st.lists(
    st.tuples(st.integers(0, 120 * 24 * 60), st.booleans()), min_size=1, max_size=25
)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(reads=reads_strategy, purge_after_minutes=st.integers(0, 500 * 24 * 60))
def test_the_purge_deletes_exactly_what_has_expired(
    backend: Backend,
    tmp_path_factory: pytest.TempPathFactory,
    reads: list[tuple[int, bool]],
    purge_after_minutes: int,
) -> None:
    workdir: Path = tmp_path_factory.mktemp("prop")
    clock = FixedClock(BASE)
    rt = build_runtime(
        load_settings(write_config(workdir / "cfg", backend.fresh_url(workdir))), clock=clock
    )
    try:
        with rt.sessions.begin() as session:
            upsert_agency(
                session, rt, AgencyInput(OPERATING_ORI, "PD", "local", "CA", True), SYSTEM
            )
            token = add_user(
                session, rt, username="cam", role="ingest", agency_ori=OPERATING_ORI
            ).token
        with rt.sessions.begin() as session:
            camera = authenticate(session, rt, token)
        observed = {}
        # Cameras write as they see: the clock follows the reads.
        for n, (minute, hit) in enumerate(sorted(reads)):
            at = BASE + timedelta(minutes=minute)
            clock.set(at + timedelta(seconds=1))
            batch = parse_read_batch(
                {
                    "reads": [
                        {
                            "plate": f"P{n}",
                            "observed_at": at.isoformat(),
                            "camera_id": "c",
                            "hit": dict(HIT_REF) if hit else False,
                        }
                    ]
                },
                10,
            )
            with rt.sessions.begin() as session:
                (read_id,) = record_reads(session, rt, camera, batch).ids
            observed[read_id] = (at, hit, f"P{n}")

        cutoff = BASE + timedelta(minutes=purge_after_minutes)
        clock.set(max(cutoff, clock.now()))
        cutoff = clock.now()
        expired = {i for i, (at, hit, _p) in observed.items() if at + WINDOWS[hit] <= cutoff}
        expected = {
            "unmatched": sum(1 for i in expired if not observed[i][1]),
            "hit": sum(1 for i in expired if observed[i][1]),
        }
        with read_only_session(rt.sessions) as session:
            plan = plan_purge(session, rt)
        assert dict(plan.deleted_by_class) == expected
        receipt = purge_expired(rt, trigger="property")
        assert dict(receipt.deleted_by_class) == expected
        assert receipt.keys_destroyed == plan.keys

        with read_only_session(rt.sessions) as session:
            rows = session.execute(
                select(PlateRead.id, PlateRead.key_id, PlateRead.plate_ct, PlateRead.observed_at)
            ).all()
            destroyed = set(
                session.scalars(
                    select(DataKeyRecord.key_id).where(DataKeyRecord.destroyed_at.is_not(None))
                )
            )
        assert {r.id for r in rows} == set(observed) - expired
        for row in rows:  # every survivor still decrypts to its own plate
            assert row.key_id not in destroyed
            key = rt.keyring.data_key(row.key_id)
            clear = KeyRing.decrypt(
                key, row.plate_ct, read_aad(row.id, row.key_id, row.observed_at, "c")
            )
            assert clear.decode() == observed[row.id][2]
        for key_id in destroyed:
            assert rt.keyring.store.get(key_id) is None
        assert all(isinstance(i, uuid.UUID) for i in observed)
    finally:
        rt.dispose()
