"""A hit must be justified: it names the hot list and entry it matched.

A hit is kept a year instead of 60 days, so the camera's bare word (``hit: true``) is refused;
the match is stored sealed and bound to its read; the compliance summary shows each camera's
hit rate; the review flags a camera whose rate is an outlier (``hit_rate_anomaly``), a finding
about a camera, not a search. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from alpr_guard.db import read_only_session
from alpr_guard.errors import KeyUnavailable
from alpr_guard.jobs import review
from alpr_guard.models import AuditEvent, Finding, PlateRead
from alpr_guard.record_chain import verify_records
from alpr_guard.runtime import Runtime
from alpr_guard.services.ingest import open_hit_ref
from alpr_guard.services.records_retention import expire_access_records
from alpr_guard.services.reports import compliance_summary, render_summary_html, summary_json
from tests.conftest import NOW, auth, read

AT = (NOW - timedelta(hours=1)).isoformat()


def _post(client: FlaskClient, tokens: dict[str, str], reads: list[dict[str, Any]]) -> Any:
    return client.post("/api/v1/reads", json={"reads": reads}, headers=auth(tokens["ingest"]))


def _stored(rt: Runtime) -> int:
    with read_only_session(rt.sessions) as session:
        return int(session.scalar(select(func.count()).select_from(PlateRead)) or 0)


def test_a_bare_hit_flag_is_refused_naming_the_field_and_nothing_is_stored(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    response = _post(
        client,
        tokens,
        [read(at=AT), read(at=AT, camera="c2", **{"hit": False}), {**read(at=AT), "hit": True}],
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]["fields"]) == ["reads[2].hit"]
    missing = _post(client, tokens, [{**read(at=AT), "hit": {"list": "SVS"}}])
    assert missing.status_code == 422
    assert list(missing.get_json()["error"]["details"]["fields"]) == ["reads[0].hit.entry"]
    assert _stored(rt) == 0


def test_a_hit_is_stored_with_its_match_sealed_and_bound_to_its_read(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    entry = "7XYZ999"  # hot-list entries are often plates: never stored in clear
    response = _post(
        client,
        tokens,
        [
            {**read(at=AT, plate="7XYZ999"), "hit": {"list": "SVS stolen", "entry": entry}},
            read(at=AT, camera="c2"),
        ],
    )
    assert response.status_code == 201, response.get_json()
    hit_id, plain_id = (uuid.UUID(i) for i in response.get_json()["ids"])
    with rt.sessions.begin() as session:
        rows = {
            r.id: r
            for r in session.execute(
                select(
                    PlateRead.id,
                    PlateRead.retention_class,
                    PlateRead.hit,
                    PlateRead.hit_ref,
                    PlateRead.observed_at,
                    PlateRead.camera_id,
                )
            )
        }
        hit, plain = rows[hit_id], rows[plain_id]
        assert (hit.retention_class, hit.hit) == ("hit", True)
        assert (plain.retention_class, plain.hit, plain.hit_ref) == ("unmatched", False, None)
        assert hit.hit_ref is not None and entry.encode() not in hit.hit_ref
        assert b"SVS" not in hit.hit_ref
        assert open_hit_ref(rt, hit.id, hit.observed_at, hit.camera_id, hit.hit_ref) == {
            "list": "SVS stolen",
            "entry": entry,
        }
        # Bound to its read: the same sealed value does not open as another read's match.
        try:
            open_hit_ref(rt, plain.id, plain.observed_at, plain.camera_id, hit.hit_ref)
        except KeyUnavailable:
            pass
        else:
            raise AssertionError("a hit reference opened as another read's")
        ingested = session.scalars(
            select(AuditEvent.details).where(AuditEvent.kind == "reads.ingested")
        ).one()
        assert entry not in ingested and "SVS" not in ingested


def _reads_of(camera: str, n: int, hits: int, start: int) -> list[dict[str, Any]]:
    return [
        read(
            plate=f"H{start + k:06d}",
            at=(NOW - timedelta(hours=1, seconds=k)).isoformat(),
            camera=camera,
            **({"hit": True} if k < hits else {}),
        )
        for k in range(n)
    ]


def test_a_camera_marking_every_read_a_hit_is_flagged_and_shown_in_the_summary(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    n = rt.settings.review.hit_rate.min_reads  # 500 in the California profile
    batch: list[dict[str, Any]] = []
    for i, camera in enumerate(("cam-a", "cam-b", "cam-c")):
        batch += _reads_of(camera, n, hits=i + 2, start=i * n)  # 0.4-0.8% hits
    batch += _reads_of("cam-all-hits", n, hits=n, start=3 * n)
    for start in range(0, len(batch), 1000):
        assert _post(client, tokens, batch[start : start + 1000]).status_code == 201
    # A camera with too few reads to judge is neither flagged nor a baseline.
    assert (
        _post(client, tokens, _reads_of("cam-small", 10, hits=10, start=9 * n)).status_code == 201
    )

    result = review.review_access(rt)
    assert result.by_rule.get("hit_rate_anomaly") == 1
    with read_only_session(rt.sessions) as session:
        finding = session.scalars(select(Finding).where(Finding.rule == "hit_rate_anomaly")).one()
        assert (finding.camera_id, finding.search_id, finding.status) == (
            "cam-all-hits",
            None,
            "open",
        )
        assert finding.severity == rt.settings.review.hit_rate.severity
    # A second run does not raise it again while it is open.
    assert "hit_rate_anomaly" not in review.review_access(rt).by_rule

    listed = client.get(
        "/api/v1/review/findings?rule=hit_rate_anomaly", headers=auth(tokens["auditor"])
    )
    assert listed.status_code == 200, listed.get_json()
    (shown,) = listed.get_json()["findings"]
    assert shown["camera_id"] == "cam-all-hits" and shown["search_id"] is None
    assert shown["matched"]["rate"] == 1.0 and shown["matched"]["cameras_compared"] == 3
    assert shown["matched"]["baseline_rate"] == 0.006

    with rt.sessions.begin() as session:
        summary = compliance_summary(session, rt, NOW - timedelta(days=1), NOW)
    rates = summary_json(summary)["hit_rate_by_camera"]
    assert isinstance(rates, dict)
    assert rates["cam-all-hits"] == {"reads": n, "hits": n, "rate": 1.0, "flagged": True}
    assert rates["cam-a"] == {"reads": n, "hits": 2, "rate": 0.004, "flagged": False}
    assert rates["cam-small"]["flagged"] is False
    assert "cam-all-hits" in render_summary_html(summary)

    resolved = client.post(
        f"/api/v1/review/findings/{shown['id']}/resolve",
        json={"verdict": "needs_follow_up", "note": "Camera config reviewed with the vendor"},
        headers=auth(tokens["auditor"]),
    )
    assert resolved.status_code == 200, resolved.get_json()
    assert resolved.get_json()["camera_id"] == "cam-all-hits"
    # Resolved, it expires with the access records (kept while it was open).
    later = NOW + timedelta(days=rt.settings.retention.access_records.days + 1)
    with rt.sessions.begin() as session:
        expired = expire_access_records(session, rt, later)
        assert expired.findings_deleted == 1
        assert session.scalar(select(func.count()).select_from(Finding)) == 0


def test_the_hit_rate_rule_needs_enough_cameras_to_compare(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    n = rt.settings.review.hit_rate.min_reads
    batch = _reads_of("cam-a", n, hits=2, start=0) + _reads_of("cam-all", n, hits=n, start=n)
    assert _post(client, tokens, batch).status_code == 201
    assert "hit_rate_anomaly" not in review.review_access(rt).by_rule


def test_a_finding_about_a_camera_needs_exactly_one_subject(rt: Runtime) -> None:
    """The schema refuses a finding naming neither a search nor a camera."""
    with pytest.raises(IntegrityError), rt.sessions.begin() as session:
        session.add(
            Finding(
                search_id=None,
                camera_id=None,
                rule="hit_rate_anomaly",
                severity="medium",
                matched="{}",
                status="open",
                created_at=NOW,
            )
        )
    with rt.sessions.begin() as session:
        session.execute(update(Finding).values(status="open"))  # the table is still usable


def test_a_finding_about_a_camera_is_bound_into_the_chain_like_any_other(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    """A camera's finding has no search to key it: it is stated in the chain by its own id, so
    editing, deleting or resolving it behind the review's back is named by audit verify, and
    its removal by retention is not."""
    n = rt.settings.review.hit_rate.min_reads
    batch: list[dict[str, Any]] = []
    for i, camera in enumerate(("cam-a", "cam-b", "cam-c")):
        batch += _reads_of(camera, n, hits=i + 2, start=i * n)
    batch += _reads_of("cam-all-hits", n, hits=n, start=3 * n)
    for start in range(0, len(batch), 1000):
        assert _post(client, tokens, batch[start : start + 1000]).status_code == 201
    assert review.review_access(rt).by_rule.get("hit_rate_anomaly") == 1

    def damage() -> list[str]:
        with read_only_session(rt.sessions) as session:
            result = verify_records(session, rt.keyring)
        return [d.describe() for d in result.damage]

    assert damage() == []
    with rt.sessions.begin() as session:
        finding = session.scalars(select(Finding).where(Finding.rule == "hit_rate_anomaly")).one()
        finding_id, matched = finding.id, finding.matched
    # Softening what the review saw is an edit; a resolution nobody recorded is a flip.
    with rt.sessions.begin() as session:
        session.execute(update(Finding).values(matched=matched.replace("1.0", "0.01")))
    assert [d.split(" (", 1)[0] for d in damage()] == [
        f"review_findings camera:{finding_id}/hit_rate_anomaly: edited"
    ]
    with rt.sessions.begin() as session:
        session.execute(update(Finding).values(matched=matched, status="resolved"))
    assert [d.split(" (", 1)[0] for d in damage()] == [
        f"review_findings camera:{finding_id}/hit_rate_anomaly: flipped"
    ]
    with rt.sessions.begin() as session:
        session.execute(update(Finding).values(status="open"))
    assert damage() == []

    resolved = client.post(
        f"/api/v1/review/findings/{finding_id}/resolve",
        json={"verdict": "misuse", "note": "Camera marked every read a hit; vendor fixed it"},
        headers=auth(tokens["auditor"]),
    )
    assert resolved.status_code == 200, resolved.get_json()
    assert damage() == []
    # Deleting it by hand is named; its removal by the access records' retention is not.
    with rt.sessions.begin() as session:
        row = session.get_one(Finding, finding_id)
        kept = {c.name: getattr(row, c.key) for c in Finding.__table__.columns}
        session.delete(row)
    assert [d.split(" (", 1)[0] for d in damage()] == [
        f"review_findings camera:{finding_id}/hit_rate_anomaly: deleted"
    ]
    with rt.sessions.begin() as session:
        session.execute(Finding.__table__.insert().values(**kept))
    assert damage() == []
    later = NOW + timedelta(days=rt.settings.retention.access_records.days + 1)
    with rt.sessions.begin() as session:
        assert expire_access_records(session, rt, later).findings_deleted == 1
    assert damage() == []
