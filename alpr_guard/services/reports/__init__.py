"""Auditors' reports: the access-justification record and the compliance summary.

Civil Code 1798.90.52(a) requires a record of every access to the ALPR system: date and time,
the plate or other data used to query, the username and the user's organisation, and the
purpose. ``iter_access_rows`` turns the stored access records (``searches``, allowed and refused)
back into that record, one row per search, with the justification, case number, on-behalf-of
agency, outcome, reason code, result count and the access review's findings (docs/access-review.md).

Two forms:

* **full** (``full=True``): the plate used to query is unsealed for the auditor. Pulling it is
  its own audit event kind (``report.access_full``) so a reviewer can see who opened plates.
* **redacted** (the default, meant for release: public-records requests, a city council): the
  plate is replaced by its keyed term token (stable across the report, so repeated look-ups of
  one plate still show) and personal data typed into the justification or case number (SSNs,
  dates of birth, driver's licence numbers, phone numbers, emails, card numbers) is masked.
  The redacted form never unseals a plate at all.

Rows stream in keyset pages of the index ``(created_at, id)``, never the whole period in memory
(bench/report_export.py: 1M records at a flat RSS). ``compliance_summary`` answers "does the
system keep its promises" for a period: reads in and out per retention class, reads past their
window still stored (must be 0), searches, refusals, shares, findings, how old the data reached
by searches could be, and whether the audit chain verifies. Every report pulled is an audit
event (``report.access``, ``report.access_full``, ``report.summary``): auditors' own reads are
audited too.

The package's rooms: ``model`` (filters, rows, the summary's figures), ``redaction`` (masking
free text), ``queries`` (the keyset pages of access records), ``access`` (the access report's
rows and its audit event), ``summary`` (the compliance summary's aggregation), ``export`` (CSV
and JSON) and ``render`` (the HTML pages). Callers import from the package: these names are
its interface.
"""

from alpr_guard.services.reports.access import iter_access_rows, record_report_access
from alpr_guard.services.reports.export import (
    AGE_BASIS,
    FIELDS,
    access_media_type,
    csv_chunks,
    json_chunks,
    plate_field,
    report_meta,
    row_json,
    summary_json,
    write_csv,
    write_json,
)
from alpr_guard.services.reports.model import (
    ACCESS_FORMATS,
    AGE_BUCKETS,
    OUTCOMES,
    SUMMARY_FORMATS,
    UNREADABLE,
    AccessRow,
    ChainStatus,
    ComplianceSummary,
    Counts,
    FindingCounts,
    HoldCounts,
    RecipientShares,
    ReportFilter,
)
from alpr_guard.services.reports.queries import count_access_rows
from alpr_guard.services.reports.redaction import REDACTIONS, Redaction, redact_text
from alpr_guard.services.reports.render import (
    CHART_LIMIT,
    bar_chart,
    render_access_html,
    render_summary_html,
)
from alpr_guard.services.reports.summary import (
    compliance_summary,
    record_summary_access,
    stored_reads_by_age,
)

# The page size is not re-exported: it is read where the pages are (``queries.PAGE``), and a
# copy here would let a test shrink a value nothing reads.
__all__ = [
    "ACCESS_FORMATS",
    "AGE_BASIS",
    "AGE_BUCKETS",
    "CHART_LIMIT",
    "FIELDS",
    "OUTCOMES",
    "REDACTIONS",
    "SUMMARY_FORMATS",
    "UNREADABLE",
    "AccessRow",
    "ChainStatus",
    "ComplianceSummary",
    "Counts",
    "FindingCounts",
    "HoldCounts",
    "RecipientShares",
    "Redaction",
    "ReportFilter",
    "access_media_type",
    "bar_chart",
    "compliance_summary",
    "count_access_rows",
    "csv_chunks",
    "iter_access_rows",
    "json_chunks",
    "plate_field",
    "record_report_access",
    "record_summary_access",
    "redact_text",
    "render_access_html",
    "render_summary_html",
    "report_meta",
    "row_json",
    "stored_reads_by_age",
    "summary_json",
    "write_csv",
    "write_json",
]
