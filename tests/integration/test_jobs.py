"""The scheduler runs what the config says, and its jobs do their work."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy import select

from alpr_guard.clock import FixedClock
from alpr_guard.jobs.scheduler import build_scheduler, run_checkpoint, run_review
from alpr_guard.models import AuditEvent
from alpr_guard.runtime import Runtime


def test_scheduler_has_the_review_purge_and_checkpoint_jobs(rt: Runtime) -> None:
    scheduler = build_scheduler(rt)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "access_review",
        "retention_purge",
        "audit_checkpoint",
        "audit_head_checkpoint",
        "config_drift",
        "auth_housekeeping",
    }
    # The head checkpoint runs every audit.checkpoint_interval_seconds (default one minute).
    assert "interval[0:01:00]" in str(jobs["audit_head_checkpoint"].trigger)
    assert "hour='2'" in str(jobs["access_review"].trigger)
    assert "hour='3'" in str(jobs["retention_purge"].trigger)
    assert "minute='30'" in str(jobs["retention_purge"].trigger)
    assert "minute='0'" in str(jobs["audit_checkpoint"].trigger)
    # The drift check runs at start and every 24 hours whatever the config's schedules say.
    assert str(jobs["config_drift"].trigger) == "interval[1 day, 0:00:00]"
    assert jobs["config_drift"].args == (rt,)


def test_a_review_schedule_that_never_fires_does_not_switch_the_drift_check_off(
    rt: Runtime,
) -> None:
    never = dataclasses.replace(
        rt.settings, review=dataclasses.replace(rt.settings.review, schedule="0 0 31 2 *")
    )
    scheduler = build_scheduler(dataclasses.replace(rt, settings=never))
    drift = scheduler.get_job("config_drift")
    review = scheduler.get_job("access_review")
    assert drift is not None and review is not None
    assert review.trigger.get_next_fire_time(None, rt.clock.now()) is None  # 31 February
    assert drift.next_run_time == rt.clock.now()  # at once, then daily
    assert drift.trigger.get_next_fire_time(None, rt.clock.now()) is not None


def test_jobs_write_their_records(rt: Runtime, clock: FixedClock) -> None:
    clock.advance(timedelta(minutes=10))
    run_review(rt)
    run_checkpoint(rt)
    with rt.sessions() as session:
        kinds = session.scalars(select(AuditEvent.kind)).all()
    assert "review.completed" in kinds and "audit.checkpoint" in kinds
    directory = rt.settings.audit.checkpoint_dir
    assert directory is not None and len(list(directory.glob("checkpoint-*.json"))) == 1
