"""The recipient rule, pure: every sharing reason code, the ORI trap, deny by default."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.policy.sharing import AgencyFacts, decide_recipient
from alpr_guard.policy.sharing import SharingRules as SharingSettings

NOW = datetime(2026, 11, 20, tzinfo=UTC)
CALIFORNIA = SharingSettings(
    allowed_kinds=("state", "local"),
    home_state_only=True,
    require_vetted=True,
    require_attestation=False,
    allow_out_of_state_with_attestation=False,
)
ILLINOIS_STYLE = replace(CALIFORNIA, allow_out_of_state_with_attestation=True)
SHERIFF = AgencyFacts("CA0190100", "Sheriff", "local", "CA", True, None)


def decide(
    agency: AgencyFacts | None, rules: SharingSettings = CALIFORNIA, home: str = "CA"
) -> ReasonCode | None:
    return decide_recipient(
        agency, rules=rules, home_state=home, now=NOW, ori=agency.ori if agency else "CAZZZ0000"
    ).reason


@pytest.mark.parametrize(
    ("agency", "code"),
    [
        (SHERIFF, None),
        (replace(SHERIFF, kind="state"), None),
        (None, ReasonCode.UNKNOWN_AGENCY),
        (replace(SHERIFF, vetted=False), ReasonCode.AGENCY_NOT_VETTED),
        # The ORI trap: a federal office in California has an ORI starting "CA".
        (replace(SHERIFF, ori="CAFBISF00", kind="federal"), ReasonCode.FEDERAL_AGENCY),
        (
            replace(SHERIFF, ori="VTICE0900", kind="federal", jurisdiction="VT"),
            ReasonCode.FEDERAL_AGENCY,
        ),
        # ...and an out-of-state agency whose ORI someone typed as "CA..." is still out of state.
        (replace(SHERIFF, ori="CA9999999", jurisdiction="NV"), ReasonCode.OUT_OF_STATE_AGENCY),
        (replace(SHERIFF, ori="NV0020000", jurisdiction="NV"), ReasonCode.OUT_OF_STATE_AGENCY),
        (replace(SHERIFF, kind="private"), ReasonCode.PRIVATE_ENTITY),
        (replace(SHERIFF, kind="tribal"), ReasonCode.KIND_NOT_ALLOWED),
    ],
)
def test_california_profile(agency: AgencyFacts | None, code: ReasonCode | None) -> None:
    assert decide(agency) == code


def test_out_of_state_allowed_only_with_a_valid_attestation_under_another_profile() -> None:
    nevada = replace(SHERIFF, ori="NV0020000", jurisdiction="NV")
    assert decide(nevada, ILLINOIS_STYLE) == ReasonCode.OUT_OF_STATE_AGENCY
    signed = replace(nevada, attestation_expires_at=NOW + timedelta(days=30))
    assert decide(signed, ILLINOIS_STYLE) is None
    lapsed = replace(nevada, attestation_expires_at=NOW - timedelta(seconds=1))
    assert decide(lapsed, ILLINOIS_STYLE) == ReasonCode.ATTESTATION_EXPIRED
    # California never accepts the attestation as a substitute for being in-state.
    assert decide(signed, CALIFORNIA) == ReasonCode.OUT_OF_STATE_AGENCY
    # Federal stays refused whatever it signed.
    assert decide(replace(signed, kind="federal"), ILLINOIS_STYLE) == ReasonCode.FEDERAL_AGENCY


def test_require_attestation_for_everyone() -> None:
    rules = replace(CALIFORNIA, require_attestation=True)
    assert decide(SHERIFF, rules) == ReasonCode.ATTESTATION_EXPIRED
    assert decide(replace(SHERIFF, attestation_expires_at=NOW + timedelta(days=1)), rules) is None


def test_every_reason_has_a_status() -> None:
    for code in ReasonCode:
        assert code.status in {403, 422}
