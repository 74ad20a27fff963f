"""The agency registry: who an agency is (kind, jurisdiction), and whether it is vetted.

The registry, not the ORI's prefix, decides sharing (LAW.md, "The ORI trap"). Every change is an
audit event with its actor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alpr_guard.audit import Actor
from alpr_guard.errors import ValidationError
from alpr_guard.models import Agency
from alpr_guard.policy.sharing import AgencyFacts
from alpr_guard.runtime import Runtime
from alpr_guard.settings import AGENCY_KINDS, ORI_RE, STATE_RE


@dataclass(frozen=True)
class AgencyInput:
    ori: str
    name: str
    kind: str
    jurisdiction: str
    vetted: bool = False
    attestation_expires_at: datetime | None = None

    def validated(self) -> AgencyInput:
        errors: dict[str, str] = {}
        ori = self.ori.strip().upper()
        if not ORI_RE.match(ori):
            errors["ori"] = "must be exactly 9 characters: 2 letters then 7 letters or digits"
        if self.kind not in AGENCY_KINDS:
            errors["kind"] = f"must be one of {', '.join(AGENCY_KINDS)}"
        jurisdiction = self.jurisdiction.strip().upper()
        if not STATE_RE.match(jurisdiction):
            errors["jurisdiction"] = "must be a two-letter state code"
        if not self.name.strip() or len(self.name) > 200:
            errors["name"] = "must be 1-200 characters"
        if errors:
            raise ValidationError(errors)
        return AgencyInput(
            ori,
            self.name.strip(),
            self.kind,
            jurisdiction,
            self.vetted,
            self.attestation_expires_at,
        )


def facts(agency: Agency) -> AgencyFacts:
    return AgencyFacts(
        ori=agency.ori,
        name=agency.name,
        kind=agency.kind,
        jurisdiction=agency.jurisdiction,
        vetted=agency.vetted,
        attestation_expires_at=agency.attestation_expires_at,
    )


def find_agency(session: Session, ori: str) -> AgencyFacts | None:
    agency = session.scalar(select(Agency).where(Agency.ori == ori))
    return facts(agency) if agency is not None else None


def upsert_agency(session: Session, rt: Runtime, data: AgencyInput, actor: Actor) -> AgencyFacts:
    data = data.validated()
    now = rt.clock.now()
    agency = session.scalar(select(Agency).where(Agency.ori == data.ori))
    before = facts(agency) if agency is not None else None
    if agency is None:
        agency = Agency(ori=data.ori, created_at=now)
        session.add(agency)
    agency.name = data.name
    agency.kind = data.kind
    agency.jurisdiction = data.jurisdiction
    agency.vetted = data.vetted
    agency.attestation_expires_at = data.attestation_expires_at
    agency.updated_at = now
    session.flush()
    after = facts(agency)
    if after != before:
        rt.audit.append(
            session,
            "agency.created" if before is None else "agency.updated",
            actor,
            subject=f"agency:{data.ori}",
            details={
                "ori": data.ori,
                "name": data.name,
                "kind": data.kind,
                "jurisdiction": data.jurisdiction,
                "vetted": data.vetted,
                "attestation_expires_at": data.attestation_expires_at,
            },
        )
    return after


def list_agencies(session: Session) -> list[AgencyFacts]:
    return [facts(a) for a in session.scalars(select(Agency).order_by(Agency.ori))]
