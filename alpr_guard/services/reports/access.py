"""The access-justification report (Civil Code 1798.90.52(a)): one row per stored access record,
the plate unsealed for the auditor (full form) or replaced by its keyed term token and the free
text redacted (the default, for release); and the auditor's own pull on the record."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy.orm import Session

from alpr_guard.audit import Actor
from alpr_guard.errors import KeyUnavailable
from alpr_guard.models import AuditEvent
from alpr_guard.record_chain import check_search_rows
from alpr_guard.services.deps import Deps
from alpr_guard.services.reports.model import UNREADABLE, AccessRow, ReportFilter
from alpr_guard.services.reports.queries import access_pages
from alpr_guard.services.reports.redaction import redact_text
from alpr_guard.vocabulary import AuditKind


def _bound_values(row: Sequence[Any]) -> list[object]:
    """A page row's values in ``record_chain.SEARCH_COLUMNS`` order."""
    (_, created_at, username, agency, on_behalf_of, purpose, justification, case_number) = row[:8]
    window_from, window_to, token, outcome, reason_code, rule, result_count, sealed = row[8:16]
    user_id, matched = row[16], row[17]
    return [
        created_at,
        user_id,
        username,
        agency,
        purpose,
        justification,
        case_number,
        on_behalf_of,
        window_from,
        window_to,
        sealed,
        token,
        outcome,
        reason_code,
        rule,
        matched,
        result_count,
    ]


def iter_access_rows(
    session: Session,
    rt: Deps,
    filters: ReportFilter,
    *,
    full: bool,
    release_between_pages: bool = False,
) -> Iterator[AccessRow]:
    """The access records matching ``filters``, oldest first, one keyset page at a time.

    ``full`` unseals the plate used to query; otherwise the row carries the term token and the
    free text is redacted (``redact_text``). With ``release_between_pages`` the session's
    transaction is rolled back after each page is read: pass it only for a session with nothing
    pending (record and commit the report's audit event first), as the API and CLI do.
    """
    unseal = rt.keyring.unseal
    loads = json.loads
    for page, findings in access_pages(
        session, filters, full=full, release_between_pages=release_between_pages
    ):
        checks = check_search_rows(
            session, rt.keyring, [(row[0], row[-1], _bound_values(row)) for row in page]
        )
        if release_between_pages:
            session.rollback()
        for (
            search_id,
            created_at,
            username,
            agency_ori,
            on_behalf_of,
            stored_purpose,
            stored_justification,
            stored_case,
            window_from,
            window_to,
            terms_token,
            outcome,
            reason_code,
            rule,
            result_count,
            sealed,
            _user_id,
            _matched,
            _audit_seq,
        ) in page:
            justification, case_number = stored_justification, stored_case
            purpose = stored_purpose
            if full:
                try:
                    terms = loads(unseal(sealed, search_id.bytes))
                    plate = str(terms["plate"]) if terms["plate"] is not None else ""
                    # The free text as typed (older records hold only the plate there).
                    if "justification" in terms:
                        justification = str(terms["justification"])
                        case_number = terms.get("case_number")
                        purpose = str(terms.get("purpose") or stored_purpose)
                except (KeyUnavailable, ValueError, KeyError, TypeError):
                    plate = UNREADABLE
            else:
                plate = terms_token
                justification = redact_text(stored_justification)
                case_number = redact_text(stored_case) if stored_case else stored_case
            rules = findings.get(search_id)
            yield AccessRow(
                search_id,
                created_at,
                username,
                agency_ori,
                on_behalf_of,
                purpose,
                justification,
                case_number,
                plate,
                window_from,
                window_to,
                outcome,
                reason_code,
                rule,
                result_count,
                tuple(sorted(rules)) if rules else (),
                checks.get(search_id, "verified"),
            )


def record_report_access(
    session: Session,
    rt: Deps,
    actor: Actor,
    filters: ReportFilter,
    full: bool,
    fmt: str,
    *,
    matching: int | None = None,
    reason: str | None = None,
) -> AuditEvent:
    """The auditor's own access is on the record (CJIS audit events):
    ``report.access_full`` when plates were unsealed, ``report.access`` for the redacted form.
    ``reason`` is the stated reason for a full export, recorded as given (callers pass its
    display copy). Callers commit it before the first row leaves."""
    details: dict[str, object] = {"filters": filters.as_details(), "format": fmt, "full": full}
    if matching is not None:
        details["matching_records"] = matching
    if reason is not None:
        details["reason"] = reason
    return rt.audit.append(
        session,
        AuditKind.REPORT_ACCESS_FULL if full else AuditKind.REPORT_ACCESS,
        actor,
        subject="report:access",
        details=details,
    )
