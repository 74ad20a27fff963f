"""Hot-list hit rates per camera: for the compliance summary and the access review's
``hit_rate_anomaly`` rule (``policy.hit_rates``)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from alpr_guard.models import Finding, PlateRead
from alpr_guard.policy.hit_rates import RULE, CameraHitRate, HitRateRules, hit_rate_outliers
from alpr_guard.vocabulary import FindingStatus


def camera_hit_rates(session: Session, since: datetime, until: datetime) -> list[CameraHitRate]:
    """Reads and hits per camera among the stored reads observed in [since, until)."""
    rows = session.execute(
        select(
            PlateRead.camera_id,
            func.count(),
            func.sum(case((PlateRead.hit.is_(True), 1), else_=0)),
        )
        .where(PlateRead.observed_at >= since, PlateRead.observed_at < until)
        .group_by(PlateRead.camera_id)
        .order_by(PlateRead.camera_id)
    ).all()
    return [CameraHitRate(str(camera), int(n), int(hits or 0)) for camera, n, hits in rows]


def hit_rate_findings(
    session: Session, rules: HitRateRules, until: datetime, now: datetime
) -> list[dict[str, Any]]:
    """New ``hit_rate_anomaly`` finding rows (not inserted) for the cameras that are outliers
    over the window ending at ``until``. A camera with an open finding, or one raised within
    the window, is not flagged again."""
    since = until - timedelta(days=rules.window_days)
    outliers = hit_rate_outliers(camera_hit_rates(session, since, until), rules)
    if not outliers:
        return []
    recent = set(
        session.scalars(
            select(Finding.camera_id).where(
                Finding.rule == RULE,
                Finding.camera_id.in_([o.camera.camera_id for o in outliers]),
                or_(Finding.status == FindingStatus.OPEN, Finding.created_at >= since),
            )
        )
    )
    return [
        {
            "search_id": None,
            "camera_id": o.camera.camera_id,
            "rule": RULE,
            "severity": rules.severity,
            "matched": json.dumps(
                {
                    "camera_id": o.camera.camera_id,
                    "reads": o.camera.reads,
                    "hits": o.camera.hits,
                    "rate": round(o.camera.rate, 6),
                    "baseline_rate": round(o.baseline, 6),
                    "cameras_compared": o.compared,
                    "from": since.isoformat(),
                    "to": until.isoformat(),
                },
                sort_keys=True,
            ),
            "status": FindingStatus.OPEN,
            "created_at": now,
        }
        for o in outliers
        if o.camera.camera_id not in recent
    ]
