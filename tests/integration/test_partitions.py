"""PostgreSQL time partitions (issue #3, scale): created ahead, dropped whole, stragglers swept."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from werkzeug.test import TestResponse

from alpr_guard.clock import FixedClock
from alpr_guard.db import lock_partitions, read_only_session
from alpr_guard.jobs.purge import purge_expired
from alpr_guard.runtime import Runtime
from alpr_guard.services import partitions
from alpr_guard.services.keys import days_between
from tests.conftest import NOW, auth, read, search_body

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


def where(rt: Runtime) -> dict[str, str]:
    """{read id: the partition that holds it}."""
    with read_only_session(rt.sessions) as session:
        rows = session.execute(text("SELECT id::text, tableoid::regclass::text FROM plate_reads"))
        return {r[0]: r[1] for r in rows}


def ingest(client: FlaskClient, tokens: dict[str, str], *reads: dict[str, object]) -> list[str]:
    response = client.post(
        "/api/v1/reads", json={"reads": list(reads)}, headers=auth(tokens["ingest"])
    )
    assert response.status_code == 201, response.get_json()
    return [str(i) for i in response.get_json()["ids"]]


def test_partitions_are_created_ahead_and_idempotently(rt: Runtime) -> None:
    with rt.sessions.begin() as session:
        created = partitions.ensure_partitions(session, NOW)
        assert partitions.ensure_partitions(session, NOW) == []
    assert "plate_reads_unmatched_p20261120" in created
    assert "plate_reads_unmatched_p20261127" in created  # a week ahead
    assert "plate_reads_unmatched_p20261118" in created  # and two days back
    assert {"plate_reads_hit_p202610", "plate_reads_hit_p202611", "plate_reads_hit_p202701"} <= set(
        created
    )


def test_reads_route_to_their_partition_and_a_new_partition_takes_its_rows_from_default(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    with rt.sessions.begin() as session:
        partitions.ensure_partitions(session, NOW)
    today, old, hit = ingest(
        client,
        tokens,
        read(at="2026-11-20T08:00:00+00:00"),
        read(at="2026-11-10T08:00:00+00:00", camera="cam-2"),
        read(at="2026-11-19T08:00:00+00:00", camera="cam-3", hit=True),
    )
    placed = where(rt)
    assert placed[today] == "plate_reads_unmatched_p20261120"
    assert placed[old] == "plate_reads_unmatched_default"
    assert placed[hit] == "plate_reads_hit_p202611"
    with rt.sessions.begin() as session:
        partitions.ensure_partitions(session, datetime(2026, 11, 10, tzinfo=UTC))
    assert where(rt)[old] == "plate_reads_unmatched_p20261110"


def test_purge_drops_expired_partitions_whole_and_sweeps_stragglers(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock
) -> None:
    with rt.sessions.begin() as session:
        partitions.ensure_partitions(session, NOW)
    ingest(
        client,
        tokens,
        *[
            read(plate=f"7ABC{n:03d}", at=f"2026-11-19T{n % 24:02d}:00:00+00:00", camera=f"c{n}")
            for n in range(40)
        ],
        read(at="2026-11-10T08:00:00+00:00", camera="late"),  # no partition: default
        read(at="2026-11-19T08:00:00+00:00", camera="hit", hit=True),
    )
    clock.set(datetime(2026, 11, 20, tzinfo=UTC) + timedelta(days=60))
    receipt = purge_expired(rt, trigger="test")
    assert receipt.partitions_dropped == 2  # 18th (empty) and 19th
    assert dict(receipt.deleted_by_class) == {"unmatched": 41, "hit": 0}
    with read_only_session(rt.sessions) as session:
        names = {p.name for p in partitions.list_partitions(session)}
    assert "plate_reads_unmatched_p20261119" not in names
    assert "plate_reads_unmatched_p20261120" in names  # not yet past its window
    assert set(where(rt).values()) == {"plate_reads_hit_p202611"}
    assert "day-2026-11-19" in receipt.keys_destroyed


def test_a_read_stored_under_a_longer_window_goes_with_its_partition(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock
) -> None:
    """The window in force governs: a read whose stored expiry came from a longer window (as
    if the config said 90 days when it was ingested) does not keep its day's partition."""
    with rt.sessions.begin() as session:
        partitions.ensure_partitions(session, NOW)
    _first, second = ingest(
        client,
        tokens,
        read(at="2026-11-19T08:00:00+00:00"),
        read(at="2026-11-19T09:00:00+00:00", camera="c2"),
    )
    # As if the window had been longer when this read was ingested.
    with rt.sessions.begin() as session:
        session.execute(
            text(
                "UPDATE plate_reads SET expires_at = expires_at + interval '30 days' WHERE id = :id"
            ),
            {"id": second},
        )
    clock.set(datetime(2026, 11, 20, tzinfo=UTC) + timedelta(days=60))
    receipt = purge_expired(rt, trigger="test")
    assert receipt.partitions_dropped == 2  # the empty 18th and the 19th
    assert dict(receipt.deleted_by_class) == {"unmatched": 2, "hit": 0}
    assert where(rt) == {}
    assert "day-2026-11-19" in receipt.keys_destroyed


def found_ids(client: FlaskClient, tokens: dict[str, str], plate: str, start: str) -> set[str]:
    body = search_body(plate=plate, **{"from": start, "to": "2026-11-20T12:00:00Z"})
    response = client.post("/api/v1/searches", json=body, headers=auth(tokens["officer"]))
    assert response.status_code == 200, response.get_json()
    return {r["id"] for r in response.get_json()["results"]}


def test_search_reads_each_key_from_its_partition_or_its_class_default(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    with rt.sessions.begin() as session:
        partitions.ensure_partitions(session, NOW)
    ids = ingest(
        client,
        tokens,
        read(at="2026-11-20T08:00:00+00:00"),  # today's partition
        read(at="2026-11-12T08:00:00+00:00", camera="c2"),  # no partition: default
        read(at="2026-11-19T08:00:00+00:00", camera="c3", hit=True),  # the month's partition
        read(plate="7ZZZ999", at="2026-11-19T09:00:00+00:00", camera="c4"),
    )
    with rt.sessions() as session:
        days = days_between(datetime(2026, 11, 12, tzinfo=UTC), NOW)
        _, tables = partitions.keys_and_tables_for_search(session, rt, days)
        session.rollback()
    assert tables["day-2026-11-20"] == "plate_reads_unmatched_p20261120"
    assert tables["day-2026-11-12"] == "plate_reads_unmatched_default"
    assert tables["hit-2026-11"] == "plate_reads_hit_p202611"
    assert tables["held"] == "plate_reads_held"
    assert found_ids(client, tokens, "7ABC123", "2026-11-12T00:00:00Z") == set(ids[:3])

    # The day gets its partition (its row moves out of DEFAULT): the search follows it.
    with rt.sessions.begin() as session:
        partitions.ensure_partitions(session, datetime(2026, 11, 12, tzinfo=UTC))
    assert where(rt)[ids[1]] == "plate_reads_unmatched_p20261112"
    assert found_ids(client, tokens, "7ABC123", "2026-11-12T00:00:00Z") == set(ids[:3])


def test_partition_changes_wait_for_a_search_that_chose_its_partitions(rt: Runtime) -> None:
    """A search holds the partition lock shared from choosing its tables until it ends; a
    drop (or a creation) holds it exclusively, so it cannot pull a table from under it."""
    with rt.sessions.begin() as session:
        partitions.ensure_partitions(session, NOW)
    days = days_between(datetime(2026, 11, 18, tzinfo=UTC), NOW)
    with rt.sessions() as search:
        _, tables = partitions.keys_and_tables_for_search(search, rt, days)
        assert tables  # the search now holds the lock until its transaction ends
        with rt.sessions() as purge:
            purge.execute(text("SET LOCAL lock_timeout = '300ms'"))
            part = next(
                p
                for p in partitions.list_partitions(purge)
                if p.name == "plate_reads_unmatched_p20261118"
            )
            with pytest.raises(OperationalError, match="lock timeout"):
                partitions.drop_partition(purge, part, NOW + timedelta(days=365))
            purge.rollback()
        search.rollback()
    with rt.sessions.begin() as purge:  # with the search gone, the drop goes through
        part = next(
            p
            for p in partitions.list_partitions(purge)
            if p.name == "plate_reads_unmatched_p20261118"
        )
        assert partitions.drop_partition(purge, part, NOW + timedelta(days=365)) == 0


class SearchInThread:
    """A search posted from another thread, so this one can hold and release locks while it
    waits, and a search that never returns fails the test instead of hanging it."""

    def __init__(self, client: FlaskClient, tokens: dict[str, str]) -> None:
        self.response: TestResponse | None = None
        self.seconds = 0.0
        self._thread = threading.Thread(target=self._run, args=(client, tokens["officer"]))
        self._thread.start()

    def _run(self, client: FlaskClient, token: str) -> None:
        started = time.monotonic()
        self.response = client.post("/api/v1/searches", json=search_body(), headers=auth(token))
        self.seconds = time.monotonic() - started

    def waiting(self) -> bool:
        return self._thread.is_alive()

    def join(self, seconds: float) -> TestResponse:
        self._thread.join(seconds)
        assert not self._thread.is_alive(), f"the search did not answer within {seconds} s"
        assert self.response is not None
        return self.response


def one_read_in_its_partition(client: FlaskClient, tokens: dict[str, str], rt: Runtime) -> str:
    with rt.sessions.begin() as session:
        partitions.ensure_partitions(session, NOW)
    (stored,) = ingest(client, tokens, read(at="2026-11-19T08:00:00+00:00"))
    return stored


def test_a_search_waits_for_partition_maintenance_no_longer_than_the_audit_timeout(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    """Maintenance holds the partition lock exclusively: a search waits for it at most
    ``database.audit_timeout_ms`` and then fails closed, releasing nothing; once maintenance
    ends, the same search answers."""
    stored = one_read_in_its_partition(client, tokens, rt)
    timeout_s = rt.settings.database.audit_timeout_ms / 1000
    with rt.sessions() as maintenance:
        lock_partitions(maintenance, shared=False)
        search = SearchInThread(client, tokens)
        try:
            response = search.join(timeout_s + 5)
        finally:
            maintenance.rollback()  # lets a search that hangs finish after the test failed
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"]["code"] == "audit_unavailable"
    assert "results" not in body
    assert search.seconds >= timeout_s * 0.9  # it did wait for maintenance first
    assert found_ids(client, tokens, "7ABC123", "2026-11-13T00:00:00Z") == {stored}


def test_a_search_that_waited_for_partition_maintenance_then_answers(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    stored = one_read_in_its_partition(client, tokens, rt)
    timeout_s = rt.settings.database.audit_timeout_ms / 1000
    with rt.sessions() as maintenance:
        lock_partitions(maintenance, shared=False)
        search = SearchInThread(client, tokens)
        time.sleep(timeout_s / 4)
        still_waiting = search.waiting()
        maintenance.rollback()
    response = search.join(timeout_s + 5)
    assert still_waiting
    assert response.status_code == 200, response.get_json()
    assert [r["id"] for r in response.get_json()["results"]] == [stored]
    assert search.seconds >= timeout_s / 4
