"""The agency registry: who an agency is (kind, jurisdiction), and whether it is vetted.

The registry, not the ORI's prefix, decides sharing (docs/law.md, "The agency identifier
trap"). Every change is an audit event with its actor.
"""

from __future__ import annotations

import csv
import io
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session

from alpr_guard.audit import Actor
from alpr_guard.clock import ensure_utc
from alpr_guard.db import DriverSelect, from_driver_utc
from alpr_guard.errors import NotFound, ValidationError
from alpr_guard.models import Agency
from alpr_guard.policy.sharing import AgencyFacts
from alpr_guard.services.deps import Deps
from alpr_guard.settings import AGENCY_KINDS, ORI_RE, STATE_RE
from alpr_guard.vocabulary import AuditKind


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


# A search's requesting agency, as the registry stands now, on every search: one prepared lookup
# by primary key (an ORM get of the whole row cost more than the search's own SELECT).
_FACTS_BY_ID = DriverSelect(
    select(
        Agency.ori,
        Agency.name,
        Agency.kind,
        Agency.jurisdiction,
        Agency.vetted,
        Agency.attestation_expires_at,
    ).where(Agency.id == bindparam("agency_id"))
)


def facts_by_id(session: Session, agency_id: int) -> AgencyFacts:
    """``facts`` of the agency with this id, without loading it as an ORM object."""
    rows = _FACTS_BY_ID.rows(session, {"agency_id": agency_id})
    if not rows:
        raise NoResultFound(f"no agency with id {agency_id}")
    ori, name, kind, jurisdiction, vetted, attestation = rows[0]
    return AgencyFacts(
        ori=ori,
        name=name,
        kind=kind,
        jurisdiction=jurisdiction,
        vetted=bool(vetted),
        attestation_expires_at=from_driver_utc(attestation) if attestation is not None else None,
    )


def find_agency(session: Session, ori: str) -> AgencyFacts | None:
    agency = session.scalar(select(Agency).where(Agency.ori == ori))
    return facts(agency) if agency is not None else None


def upsert_agency(session: Session, rt: Deps, data: AgencyInput, actor: Actor) -> AgencyFacts:
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
            AuditKind.AGENCY_CREATED if before is None else AuditKind.AGENCY_UPDATED,
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


def set_vetted(session: Session, rt: Deps, ori: str, vetted: bool, actor: Actor) -> AgencyFacts:
    agency = session.scalar(select(Agency).where(Agency.ori == ori.strip().upper()))
    if agency is None:
        raise NotFound(f"agency {ori} is not in the registry")
    if agency.vetted != vetted:
        agency.vetted = vetted
        agency.updated_at = rt.clock.now()
        session.flush()
        rt.audit.append(
            session,
            AuditKind.AGENCY_VETTED if vetted else AuditKind.AGENCY_UNVETTED,
            actor,
            subject=f"agency:{agency.ori}",
            details={"ori": agency.ori, "vetted": vetted},
        )
    return facts(agency)


REGISTRY_FIELDS = ("ori", "name", "kind", "jurisdiction", "vetted", "attestation_expires_at")
REQUIRED_FIELDS = ("ori", "name", "kind", "jurisdiction", "vetted")


def parse_registry(path: Path) -> list[AgencyInput]:
    """Read a registry file (TOML ``[[agency]]`` tables, or CSV with a header row).

    All or nothing: every bad row is reported as ``FILE: agency[N].FIELD: why`` (CSV rows are
    numbered as lines) and nothing is imported.
    """
    try:
        text = path.read_text("utf-8-sig")  # spreadsheets save CSV with a byte-order mark
    except OSError as exc:
        raise ValidationError({"file": f"{path}: cannot be read ({exc.strerror})"}) from None
    rows: list[tuple[str, dict[str, object]]] = []
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        if reader.fieldnames is None or not set(REQUIRED_FIELDS) <= set(reader.fieldnames):
            raise ValidationError(
                {"file": f"{path}: CSV needs a header with {', '.join(REQUIRED_FIELDS)}"}
            )
        for row in reader:
            # A short row leaves fields out (None): treat them as missing, not as "None".
            rows.append(
                (f"line {reader.line_num}", {k: v for k, v in row.items() if v is not None})
            )
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValidationError({"file": f"{path}: invalid TOML: {exc}"}) from None
        agencies = data.pop("agency", None)
        if data or not isinstance(agencies, list):
            raise ValidationError({"file": f"{path}: expected only [[agency]] tables"})
        for i, entry in enumerate(agencies):
            if not isinstance(entry, dict):
                raise ValidationError({"file": f"{path}: agency[{i}] must be a table"})
            rows.append((f"agency[{i}]", dict(entry)))
    errors: dict[str, str] = {}
    parsed = []
    for where, row in rows:
        unknown = sorted(set(row) - set(REGISTRY_FIELDS))
        for key in unknown:
            errors[f"{path}: {where}.{key}"] = "unknown field"
        if row.get("vetted") in (None, ""):
            # Required: an import that forgot the column must not un-vet every agency.
            errors[f"{path}: {where}.vetted"] = "is required (true or false)"
            continue
        extras: dict[str, Any] = {}
        for name, convert in (("vetted", _truthy), ("attestation_expires_at", _when)):
            try:
                extras[name] = convert(row.get(name))
            except ValueError as exc:
                errors[f"{path}: {where}.{name}"] = str(exc)
        try:
            agency = AgencyInput(
                ori=str(row.get("ori", "")),
                name=str(row.get("name", "")),
                kind=str(row.get("kind", "")),
                jurisdiction=str(row.get("jurisdiction", "")),
            ).validated()
        except ValidationError as exc:
            for field_name, why in exc.fields.items():
                errors[f"{path}: {where}.{field_name}"] = why
            continue
        if len(extras) == 2:
            parsed.append(
                AgencyInput(agency.ori, agency.name, agency.kind, agency.jurisdiction, **extras)
            )
    seen: set[str] = set()
    for agency in parsed:
        if agency.ori in seen:
            errors[f"{path}: ori {agency.ori}"] = "appears more than once"
        seen.add(agency.ori)
    if errors:
        raise ValidationError(errors)
    return parsed


def _truthy(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "yes", "1"}:
        return True
    if text in {"false", "no", "0", ""}:
        return False
    raise ValueError("must be true or false")


def _when(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return ensure_utc(value, "attestation_expires_at")
    if isinstance(value, date):
        # "Expires 2026-12-31" means valid through that day.
        return datetime.combine(value + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    text = str(value).strip()
    if len(text) == 10:  # a bare date, as spreadsheets write it
        try:
            return _when(date.fromisoformat(text))
        except ValueError:
            pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("must be an RFC 3339 date-time with a timezone") from None
    return ensure_utc(parsed, "attestation_expires_at")


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


def import_registry(session: Session, rt: Deps, path: Path, actor: Actor) -> ImportResult:
    """Create or update every agency in the file; each change is its own audit event."""
    created = updated = unchanged = 0
    for agency in parse_registry(path):
        before = find_agency(session, agency.ori)
        after = upsert_agency(session, rt, agency, actor)
        if before is None:
            created += 1
        elif before != after:
            updated += 1
        else:
            unchanged += 1
    return ImportResult(created, updated, unchanged)
