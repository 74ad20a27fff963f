"""Who sees what, pure: the operating agency, partners under decide_recipient, everyone else."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alpr_guard.policy.access import Exposure, decide_access, decide_account
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
ROLES = ("ingest", "officer", "supervisor", "auditor", "admin")
PARTNER_MAY = {("officer", Exposure.PLATE_READS), ("auditor", Exposure.AGENCY_RECORDS)}
SHERIFF = AgencyFacts("CA0190100", "Sheriff", "local", "CA", True, None)


def access(
    agency: AgencyFacts | None,
    role: str,
    exposure: Exposure,
    *,
    operating: bool = False,
    rules: SharingSettings = CALIFORNIA,
) -> ReasonCode | None:
    decision = decide_access(
        agency,
        ori=agency.ori if agency else "CAZZZ0000",
        role=role,
        operating=operating,
        exposure=exposure,
        rules=rules,
        home_state="CA",
        now=NOW,
    )
    assert decision.allowed == (decision.reason is None)
    return decision.reason


@pytest.mark.parametrize(
    ("agency", "code"),
    [
        (None, ReasonCode.UNKNOWN_AGENCY),
        (replace(SHERIFF, vetted=False), ReasonCode.AGENCY_NOT_VETTED),
        (replace(SHERIFF, ori="CAICE0100", kind="federal"), ReasonCode.FEDERAL_AGENCY),
        (replace(SHERIFF, ori="NV0020000", jurisdiction="NV"), ReasonCode.OUT_OF_STATE_AGENCY),
        (replace(SHERIFF, kind="private"), ReasonCode.PRIVATE_ENTITY),
        (replace(SHERIFF, kind="tribal"), ReasonCode.KIND_NOT_ALLOWED),
    ],
)
@pytest.mark.parametrize("role", ROLES)
def test_agencies_that_may_not_receive_plate_data_get_nothing(
    agency: AgencyFacts | None, code: ReasonCode, role: str
) -> None:
    for exposure in Exposure:
        if exposure is not Exposure.PUBLIC:
            assert access(agency, role, exposure) == code
    account = decide_account(
        agency,
        ori=agency.ori if agency else "CAZZZ0000",
        role=role,
        operating=False,
        rules=CALIFORNIA,
        home_state="CA",
        now=NOW,
    )
    assert account.reason == code


def test_a_partner_searches_as_officer_and_audits_its_own_records_only() -> None:
    allowed = {
        (role, exposure)
        for role in ROLES
        for exposure in Exposure
        if access(SHERIFF, role, exposure) is None
    }
    assert allowed == {
        ("officer", Exposure.PLATE_READS),
        ("auditor", Exposure.AGENCY_RECORDS),
        *((role, Exposure.PUBLIC) for role in ROLES),
        # Its own account (who is signed in, sign-out): an account of a partner exists only in
        # a partner role (decide_account), so every role it could hold may reach its own.
        *((role, Exposure.ACCOUNT) for role in ROLES),
    }
    assert access(SHERIFF, "ingest", Exposure.READS_WRITE) == (
        ReasonCode.ROLE_NOT_ALLOWED_FOR_AGENCY
    )
    assert access(SHERIFF, "auditor", Exposure.OPERATOR_RECORDS) == (
        ReasonCode.ROLE_NOT_ALLOWED_FOR_AGENCY
    )


def test_out_of_state_partner_with_attestation_under_an_attestation_profile() -> None:
    nevada = replace(SHERIFF, ori="NV0020000", jurisdiction="NV")
    attested = replace(nevada, attestation_expires_at=NOW + timedelta(days=30))
    assert access(attested, "officer", Exposure.PLATE_READS, rules=ILLINOIS_STYLE) is None
    lapsed = replace(nevada, attestation_expires_at=NOW - timedelta(days=1))
    assert access(lapsed, "officer", Exposure.PLATE_READS, rules=ILLINOIS_STYLE) == (
        ReasonCode.ATTESTATION_EXPIRED
    )


agencies = st.builds(
    AgencyFacts,
    ori=st.sampled_from(["CA0190100", "CAICE0100", "NV0020000", "CA0000HP0"]),
    name=st.just("x"),
    kind=st.sampled_from(["state", "local", "tribal", "federal", "private"]),
    jurisdiction=st.sampled_from(["CA", "NV", "VT"]),
    vetted=st.booleans(),
    attestation_expires_at=st.none() | st.just(NOW + timedelta(days=1)),
)


@given(
    agency=st.none() | agencies,
    role=st.sampled_from(ROLES),
    exposure=st.sampled_from(list(Exposure)),
    operating=st.booleans(),
    rules=st.sampled_from([CALIFORNIA, ILLINOIS_STYLE]),
)
def test_access_is_never_wider_than_the_recipient_rule(
    agency: AgencyFacts | None,
    role: str,
    exposure: Exposure,
    operating: bool,
    rules: SharingSettings,
) -> None:
    reason = access(agency, role, exposure, operating=operating, rules=rules)
    if exposure is Exposure.PUBLIC or operating:
        assert reason is None
        return
    recipient = decide_recipient(
        agency,
        rules=rules,
        home_state="CA",
        now=NOW,
        ori=agency.ori if agency else "CAZZZ0000",
    )
    if not recipient.allowed:
        assert reason == recipient.reason
    elif exposure is Exposure.ACCOUNT or (role, exposure) in {
        ("officer", Exposure.PLATE_READS),
        ("auditor", Exposure.AGENCY_RECORDS),
    }:
        assert reason is None
    else:
        assert reason == ReasonCode.ROLE_NOT_ALLOWED_FOR_AGENCY
        assert exposure is not Exposure.READS_WRITE or role != "ingest" or not operating


def account(agency: AgencyFacts | None, role: str, *, operating: bool = False) -> ReasonCode | None:
    decision = decide_account(
        agency,
        ori=agency.ori if agency else "CAZZZ0000",
        role=role,
        operating=operating,
        rules=CALIFORNIA,
        home_state="CA",
        now=NOW,
    )
    assert decision.allowed == (decision.reason is None)
    return decision.reason


def test_accounts_of_the_operating_agency_may_hold_every_role() -> None:
    for role in ROLES:
        assert account(SHERIFF, role, operating=True) is None
        # Even an entry the sharing rules would refuse: the operating agency owns the records.
        assert account(replace(SHERIFF, vetted=False), role, operating=True) is None
        assert account(None, role, operating=True) is None


def test_a_partner_account_exists_only_in_a_partner_role() -> None:
    allowed = {role for role in ROLES if account(SHERIFF, role) is None}
    assert allowed == {"officer", "auditor"}
    refused = decide_account(
        SHERIFF,
        ori=SHERIFF.ori,
        role="admin",
        operating=False,
        rules=CALIFORNIA,
        home_state="CA",
        now=NOW,
    )
    assert refused.reason == ReasonCode.ROLE_NOT_ALLOWED_FOR_AGENCY
    assert refused.rule == "partner_role"
    assert refused.message.endswith("its users may only be auditor, officer")
