"""The access records a report covers, read in keyset pages of the index ``(created_at, id)``
so a period is never held in memory whole (bench/report_export.py: 1M records at a flat RSS)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from alpr_guard.models import Finding, SearchRecord
from alpr_guard.services.reports.model import ReportFilter

# Rows per page. Read at call time (``queries.PAGE``), so a test can shrink it to force the
# keyset across ties.
PAGE = 2000


def keyset(since: datetime, after: tuple[datetime, uuid.UUID] | None) -> list[ColumnElement[bool]]:
    """Where the next page starts in (created_at, id) order. Past the first page the lower bound
    is the cursor alone, not ``since`` as well: SQLite ranges an index scan on one lower bound,
    and picking ``since`` would rescan the period from its start on every page (quadratic)."""
    if after is None:
        return [SearchRecord.created_at >= since]
    return [
        SearchRecord.created_at >= after[0],
        (SearchRecord.created_at > after[0])
        | ((SearchRecord.created_at == after[0]) & (SearchRecord.id > after[1])),
    ]


def _conditions(filters: ReportFilter, *, lower: bool = True) -> list[ColumnElement[bool]]:
    conditions = [SearchRecord.created_at < filters.until]
    if lower:
        conditions.append(SearchRecord.created_at >= filters.since)
    if filters.username is not None:
        conditions.append(SearchRecord.username == filters.username.strip().lower())
    if filters.agency is not None:
        conditions.append(SearchRecord.agency_ori == filters.agency.strip().upper())
    if filters.purpose is not None:
        conditions.append(SearchRecord.purpose == filters.purpose.strip())
    if filters.outcome is not None:
        conditions.append(SearchRecord.outcome == filters.outcome)
    return conditions


def count_access_rows(session: Session, filters: ReportFilter) -> int:
    """How many access records the filters match (the CLI's progress bar, the audit event)."""
    return int(
        session.scalar(select(func.count()).select_from(SearchRecord).where(*_conditions(filters)))
        or 0
    )


def _findings_of(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """Rule codes of the findings on one page's searches: one probe of the (search_id, rule)
    index per id (a join over the page's time range let SQLite scan every finding instead)."""
    found: dict[uuid.UUID, list[str]] = {}
    rows = (
        session.connection()
        .execute(select(Finding.search_id, Finding.rule).where(Finding.search_id.in_(ids)))
        .all()
    )
    for search_id, rule in rows:
        if search_id is not None:
            found.setdefault(search_id, []).append(rule)
    return found


def access_pages(
    session: Session, filters: ReportFilter, *, full: bool, release_between_pages: bool
) -> Iterator[tuple[Sequence[Any], dict[uuid.UUID, list[str]]]]:
    # In this order: ``access.iter_access_rows`` unpacks the rows by position.
    columns: list[Any] = [
        SearchRecord.id,
        SearchRecord.created_at,
        SearchRecord.username,
        SearchRecord.agency_ori,
        SearchRecord.on_behalf_of,
        SearchRecord.purpose,
        SearchRecord.justification,
        SearchRecord.case_number,
        SearchRecord.window_from,
        SearchRecord.window_to,
        SearchRecord.terms_token,
        SearchRecord.outcome,
        SearchRecord.reason_code,
        SearchRecord.rule,
        SearchRecord.result_count,
        # The redacted form never unseals the terms; their bytes are fetched only to check the
        # record against the audit event that states it.
        SearchRecord.terms_sealed,
        SearchRecord.user_id,
        SearchRecord.matched,
        SearchRecord.audit_seq,
    ]
    base = select(*columns).where(*_conditions(filters, lower=False))
    after: tuple[datetime, uuid.UUID] | None = None
    while True:
        stmt = base.where(*keyset(filters.since, after))
        # Core rows straight from the connection: no ORM machinery per row.
        page: Sequence[Any] = (
            session.connection()
            .execute(stmt.order_by(SearchRecord.created_at, SearchRecord.id).limit(PAGE))
            .all()
        )
        findings = _findings_of(session, [row[0] for row in page]) if page else {}
        if release_between_pages:
            # End the read transaction before handing rows out: on SQLite every transaction
            # takes the write lock, and an export must not hold searches and ingest off.
            session.rollback()
        if not page:
            return
        yield page, findings
        if len(page) < PAGE:
            return
        after = (page[-1][1], page[-1][0])
