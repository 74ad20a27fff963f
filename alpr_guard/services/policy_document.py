"""The published usage and privacy policy, rendered from the configuration in force.

Civil Code 1798.90.51(b) and .53(b) require a published policy; the engine enforces one. Both
come from the same settings here: purposes, retention and destruction, sharing restrictions and
monitoring are derived from the values the engine enforces (and the agency registry), and only
what the engine cannot know (job titles and training, the custodian, accuracy measures, sharing
purposes, the public-comment meeting) comes from the ``[policy]`` section. The document carries
the hash of the enforced configuration (the one ``config.policy`` audit events record) and the
date that configuration took effect, read from the audit chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alpr_guard.errors import NotFound
from alpr_guard.models import Agency, AuditEvent
from alpr_guard.policy.sharing import decide_recipient
from alpr_guard.services.agencies import facts
from alpr_guard.services.deps import Deps
from alpr_guard.services.rendering import PdfWriter, render_template
from alpr_guard.settings import PolicyElements, Settings
from alpr_guard.vocabulary import AuditKind

FORMATS = ("html", "md", "pdf")
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "pdf": "application/pdf",
}
# Where each element sits in California's statute; other jurisdictions cite their own statute
# in the document's header (jurisdiction.statute).
_CA_CITES = {
    "purposes": "Civil Code 1798.90.51(b)(2)(A), 1798.90.53(b)(2)",
    "access": "Civil Code 1798.90.51(b)(2)(B), 1798.90.53(b)(2)",
    "monitoring": "Civil Code 1798.90.51(b)(2)(C), 1798.90.52, 1798.90.53(b)(2)",
    "sharing": "Civil Code 1798.90.51(b)(2)(D), 1798.90.55(b)",
    "custodian": "Civil Code 1798.90.51(b)(2)(E), 1798.90.53(b)(2)",
    "accuracy": "Civil Code 1798.90.51(b)(2)(F), 1798.90.53(b)(2)",
    "retention": "Civil Code 1798.90.51(b)(2)(G), 1798.90.53(b)(2)",
    "comment": "Civil Code 1798.90.55(a)",
}
_KIND_NAMES = {
    "state": "state agencies",
    "local": "local agencies",
    "tribal": "tribal agencies",
    "federal": "federal agencies",
    "private": "private entities",
}
_CLASS_NAMES = {
    "unmatched": "Reads that matched no hot list",
    "hit": "Reads that matched a hot list",
    "access_records": "Access records (searches, shares, review findings)",
    "audit_events": "Audit log events",
}


@dataclass(frozen=True)
class Section:
    key: str
    heading: str
    cite: str | None
    paragraphs: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    table: tuple[tuple[str, ...], ...] = ()  # first row is the header


@dataclass(frozen=True)
class PolicyDocument:
    title: str
    agency: str
    jurisdiction: str
    statute: str
    sha256: str
    effective_at: datetime | None  # None: this configuration has not been started yet
    sections: tuple[Section, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "agency": self.agency,
            "jurisdiction": self.jurisdiction,
            "statute": self.statute,
            "policy_sha256": self.sha256,
            "effective_at": self.effective_at.isoformat() if self.effective_at else None,
            "sections": [
                {
                    "key": s.key,
                    "heading": s.heading,
                    "cite": s.cite,
                    "paragraphs": list(s.paragraphs),
                    "items": list(s.items),
                    "table": [list(row) for row in s.table],
                }
                for s in self.sections
            ],
        }


def policy_sha256(settings: Settings) -> str:
    """The hash ``config.policy`` audit events record for this configuration."""
    return hashlib.sha256(settings.policy_json.encode()).hexdigest()


def effective_at(session: Session, settings: Settings) -> datetime | None:
    """When this configuration took effect: the ``config.policy`` event that recorded its hash
    (one is appended only when the hash changes), or None if the latest recorded differs."""
    row = session.execute(
        select(AuditEvent.occurred_at, AuditEvent.details)
        .where(AuditEvent.kind == AuditKind.CONFIG_POLICY)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    if row is None or json.loads(row.details).get("sha256") != policy_sha256(settings):
        return None
    occurred: datetime = row.occurred_at
    return occurred


def describe_cron(expr: str) -> str:
    fields = expr.split()
    if len(fields) == 5 and fields[0].isdigit() and fields[1].isdigit() and fields[2:] == ["*"] * 3:
        return f"every day at {int(fields[1]):02d}:{int(fields[0]):02d} UTC"
    return f"on the schedule '{expr}' (cron, UTC)"


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def build_policy(session: Session, rt: Deps) -> PolicyDocument:
    """The policy document for the configuration in force; NotFound if ``[policy]`` is unset."""
    s = rt.settings
    elements = s.policy
    if elements is None:
        raise NotFound(
            "no usage and privacy policy is configured: add a [policy] section to the config"
        )
    cites = _CA_CITES if s.jurisdiction.home_state == "CA" else {}
    sections = (
        _purposes(s, cites),
        _access(s, elements, cites),
        _monitoring(s, cites),
        _sharing(session, rt, elements, cites),
        Section(
            "custodian",
            "Custodian",
            cites.get("custodian"),
            (
                f"The official custodian responsible for this system and this policy is the "
                f"{elements.custodian_title}.",
                *((f"Contact: {elements.contact}.",) if elements.contact else ()),
            ),
        ),
        Section(
            "accuracy",
            "Accuracy of the data and correction of errors",
            cites.get("accuracy"),
            ("Before any action is taken on a hit:",),
            elements.accuracy_measures,
        ),
        _retention(s, cites),
        Section(
            "comment",
            "Public comment",
            cites.get("comment"),
            (
                f"This programme was presented for public comment at "
                f"{elements.public_comment_body} on "
                f"{elements.public_comment_date.isoformat()}.",
            ),
        ),
    )
    return PolicyDocument(
        title="Automated License Plate Recognition (ALPR) Usage and Privacy Policy",
        agency=s.instance.operating_agency_name,
        jurisdiction=s.jurisdiction.name,
        statute=s.jurisdiction.statute,
        sha256=policy_sha256(s),
        effective_at=effective_at(session, s),
        sections=sections,
    )


def _purposes(s: Settings, cites: dict[str, str]) -> Section:
    allowed = tuple(p for p in s.purposes if not p.prohibited)
    prohibited = tuple(p for p in s.purposes if p.prohibited)
    rows: list[tuple[str, ...]] = [("Code", "Purpose", "Status", "Authority")]
    rows += [(p.code, p.description, "authorised", p.statute) for p in allowed]
    rows += [(p.code, p.description, "prohibited", p.statute) for p in prohibited]
    return Section(
        "purposes",
        "Authorised purposes",
        cites.get("purposes"),
        (
            "Plate data is collected to check reads against hot lists and may be searched only "
            "for one of the authorised purposes below. Every search names its purpose; a search "
            "for a prohibited or unlisted purpose is refused before any data is read, and the "
            "refusal is recorded.",
            *(
                (
                    f"These are the only purposes {s.jurisdiction.statute} permits; no other "
                    "may be added.",
                )
                if s.jurisdiction.closed_purposes
                else ()
            ),
        ),
        table=tuple(rows),
    )


def _sign_in(s: Settings) -> str:
    """How people sign in, as enforced: stated from the settings, never restated by hand."""
    a = s.auth
    if a.oidc is None:
        return f"Sign-in tokens of people expire after {a.human_token_hours} hours."
    mfa = "with a second factor " if a.oidc.require_mfa else ""
    return (
        f"People sign in at the agency's identity provider {mfa}and are signed out after "
        f"{a.session_idle_minutes} minutes without activity and {a.session_absolute_hours} "
        f"hours in any case; {a.lockout_failures} failed attempts within "
        f"{a.lockout_window_minutes} minutes lock the account or address until an "
        f"administrator unlocks it; an account unused for {a.dormant_days} days is disabled."
    )


def _access(s: Settings, elements: PolicyElements, cites: dict[str, str]) -> Section:
    rows: list[tuple[str, ...]] = [("Job title", "System role", "Required training")]
    rows += [(g.job_title, g.role, "; ".join(g.training)) for g in elements.access]
    return Section(
        "access",
        "Who may use the system, and their training",
        cites.get("access"),
        (
            "Only employees holding one of the job titles below are given an account, with the "
            "role shown, after completing the training listed. Officers search; supervisors "
            "share data and place legal holds; auditors review use; administrators manage "
            "accounts and configuration and cannot search. Cameras write reads with their own "
            "credentials and cannot read anything back.",
            _sign_in(s),
        ),
        table=tuple(rows),
    )


def _monitoring(s: Settings, cites: dict[str, str]) -> Section:
    b = s.review.behaviour
    h = s.review.hit_rate
    return Section(
        "monitoring",
        "How use is monitored and audited",
        cites.get("monitoring"),
        (
            "Security: plate numbers are encrypted at rest under keys held outside the "
            "database, one key per day of reads (per month for hits); access is by role, with "
            "a personal account for every user; no plate appears in logs, error messages or "
            "addresses.",
            "Every search, allowed or refused, is recorded with its date and time, the plate "
            "queried (encrypted), the user and their agency, the purpose, the justification and "
            "the case number. Records are bound into a tamper-evident, hash-chained audit log "
            "whose head is signed and kept outside the database.",
            f"A search may cover at most {_days(s.search.max_window_days)}. Justifications are "
            "screened before the search runs; a search whose justification names a prohibited "
            "purpose is refused.",
            f"An automated access review runs {describe_cron(s.review.schedule)} and flags, for "
            "an auditor to resolve:",
        ),
        (
            f"the same user searching the same plate {b.repeated_min_searches} or more times "
            f"within {_days(b.repeated_window_days)} without a case number "
            f"(severity {b.severities['repeated_target_no_case']});",
            f"a day with more than {b.spike_factor:g} times the user's and their peers' usual "
            f"volume over {_days(b.spike_baseline_days)}, and at least {b.spike_min_searches} "
            f"searches (severity {b.severities['volume_spike']});",
            f"searches at hours holding under {b.off_hours_max_share:.0%} of a user's past "
            f"searches, once they have {b.off_hours_min_history} "
            f"(severity {b.severities['off_hours']});",
            "justifications that the screening rules mark for review;",
            *(
                (
                    "justifications the screening rules pass but a statistical model, trained "
                    "on labelled justifications, finds likely to serve a prohibited purpose "
                    f"(a probability of {so.threshold:.0%} or more; severity {so.severity}); "
                    + (
                        "the model only flags, it never refuses a search;"
                        if so.refuse_from is None
                        else f"from a probability of {so.refuse_from:.0%} the search is refused "
                        "before it runs, as a prohibited purpose;"
                    ),
                )
                if (so := s.second_opinion) is not None
                else ()
            ),
            f"a camera that marks at least {h.min_rate:.0%} of its reads over "
            f"{_days(h.window_days)} as hot-list hits, more than {h.factor:g} times the median "
            f"of the other cameras (once it has {h.min_reads} reads; severity {h.severity}), "
            "since a hit is kept longer;",
            "a configuration in force that differs from the configuration file, from the policy "
            "on record or from the last policy an auditor approved, checked when the scheduler "
            "starts and every 24 hours (severity high): every change to this policy is recorded "
            "with what changed, and is flagged until an auditor approves it.",
        ),
    )


def _sharing(
    session: Session, rt: Deps, elements: PolicyElements, cites: dict[str, str]
) -> Section:
    s = rt.settings
    rules = s.sharing
    kinds = " and ".join(_KIND_NAMES[k] for k in rules.allowed_kinds)
    where = f"in {s.jurisdiction.name}" if rules.home_state_only else "in any state"
    restrictions = [
        f"Recipients must be {kinds} {where}, listed in the agency registry and vetted.",
        "The registry's recorded kind and jurisdiction decide, never an agency identifier's "
        "first letters; an agency not in the registry is refused.",
    ]
    refused = [name for kind, name in _KIND_NAMES.items() if kind not in rules.allowed_kinds]
    if refused:
        restrictions.append(f"Never shared with {', '.join(refused)}.")
    if rules.home_state_only and rules.allow_out_of_state_with_attestation:
        restrictions.append(
            f"An agency outside {s.jurisdiction.name} may receive data only while a signed "
            "written declaration (attestation) it has given is in force."
        )
    if rules.require_attestation:
        restrictions.append("Every recipient must have a signed declaration in force.")
    prohibited = [p.description for p in s.purposes if p.prohibited]
    if prohibited:
        restrictions.append(
            "Nothing is shared for a prohibited purpose: " + "; ".join(prohibited) + "."
        )
    now = rt.clock.now()
    eligible = []
    for agency in session.scalars(select(Agency).order_by(Agency.name)):
        decision = decide_recipient(
            facts(agency),
            rules=rules,
            home_state=s.jurisdiction.home_state,
            now=now,
            ori=agency.ori,
        )
        if decision.allowed and agency.ori != s.instance.operating_agency:
            eligible.append(agency.name)
    return Section(
        "sharing",
        "Sharing: purposes, process and restrictions",
        cites.get("sharing"),
        (
            "Plate data is not sold. It may be shared only for these purposes: "
            + "; ".join(elements.sharing_purposes)
            + ".",
            "Process: a supervisor requests the share through the system, naming the recipient "
            "agency, the purpose, a justification and a case number. The recipient is checked "
            "against the restrictions below at that moment; allowed and refused shares are both "
            "recorded, and an allowed share is delivered as a signed bundle whose digest is "
            "kept.",
            "Restrictions:",
        ),
        (
            *restrictions,
            f"Agencies eligible today under the registry: {', '.join(eligible) or 'none'}.",
        ),
    )


def _retention(s: Settings, cites: dict[str, str]) -> Section:
    r = s.retention
    rows: list[tuple[str, ...]] = [("Data", "Kept for", "Legal maximum under this profile")]
    for name in ("unmatched", "hit", "access_records", "audit_events"):
        window = getattr(r, name)
        rows.append((_CLASS_NAMES[name], _days(window.days), _days(window.max_days)))
    approval = (
        "approved by a second supervisor"
        if s.holds.require_second_approver
        else "placed by a supervisor"
    )
    return Section(
        "retention",
        "Retention and destruction",
        cites.get("retention"),
        (
            "Each read's expiry is set when it is stored, from the windows below. A read is no "
            "longer searchable or shareable from the moment it expires.",
            f"Destruction: the purge runs {describe_cron(s.purge.schedule)}. It deletes every "
            "expired read, then destroys the encryption key of each day (or month, for hits) "
            "none of whose reads remain, so copies in backups can no longer be decrypted. Each "
            "run leaves a receipt in the audit log counting what was deleted and which keys "
            "were destroyed.",
            f"A read needed as evidence is kept past its window only under a legal hold "
            f"{approval}, naming a case number, with a review date at most "
            f"{_days(s.holds.max_review_days)} ahead; released holds return reads to their "
            "window.",
        ),
        table=tuple(rows),
    )


def render_policy(doc: PolicyDocument, fmt: str) -> bytes:
    """The document as ``html``, ``md`` or ``pdf`` bytes."""
    if fmt == "html":
        return render_template("policy.html", doc=doc).encode()
    if fmt == "md":
        return render_template("policy.md", doc=doc).encode()
    if fmt != "pdf":
        raise ValueError(f"unknown format {fmt!r}")
    pdf = PdfWriter(doc.title)
    pdf.title(doc.title)
    pdf.paragraph(f"{doc.agency}, {doc.jurisdiction}. Adopted under {doc.statute}.")
    pdf.paragraph(f"Policy hash (SHA-256 of the enforced configuration): {doc.sha256}")
    pdf.paragraph(
        f"In effect since {doc.effective_at:%Y-%m-%d %H:%M} UTC."
        if doc.effective_at
        else "Not yet in effect: this configuration has not been started since it last changed."
    )
    for number, section in enumerate(doc.sections, 1):
        pdf.heading(f"{number}. {section.heading}", section.cite)
        for paragraph in section.paragraphs:
            pdf.paragraph(paragraph)
        for item in section.items:
            pdf.bullet(item)
        pdf.table(section.table)
    return pdf.output()
