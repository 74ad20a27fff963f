"""``alpr-guard cameras`` in this process: the lifecycle of a credential (secret shown once, two
live secrets while a rotation is pending, both dead once disabled) and each refusal as one line
naming the field or the credential."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import AlprCli, add_agency, only_line
from tests.conftest import OPERATING_ORI


@pytest.fixture
def registered(migrated: Path, alpr: AlprCli) -> Path:
    added = add_agency(alpr, migrated, OPERATING_ORI, "Test City Police Department", vetted=True)
    assert added.code == 0, added.err
    partner = add_agency(alpr, migrated, "CA0190100", "Demo County Sheriff", vetted=True)
    assert partner.code == 0, partner.err
    return migrated


def test_a_credential_from_issue_to_disable(registered: Path, alpr: AlprCli) -> None:
    added = alpr(
        registered, "cameras", "add", "north-gate", "--camera-id", "cam-1", "--auth", "hmac"
    )
    assert added.code == 0, added.err
    line, secret = added.out.strip().splitlines()
    assert line == "added camera credential north-gate (hmac) for 1 id(s)"
    assert len(secret) >= 32

    listed = alpr(registered, "cameras", "list")
    assert listed.out.strip() == (
        f"north-gate\thmac\t{OPERATING_ORI}\tcam-1\tlast seen never\tactive"
    )
    assert secret not in listed.out

    rotated = alpr(registered, "cameras", "rotate", "north-gate")
    assert rotated.code == 0, rotated.err
    head, new_secret = rotated.out.strip().splitlines()
    assert head == "north-gate: new secret issued; the previous one stays live until --finish"
    assert new_secret != secret
    pending = alpr(registered, "cameras", "list")
    assert pending.out.strip().endswith("active (rotation pending: two live secrets)")
    as_json = json.loads(alpr(registered, "cameras", "list", "--json").out.strip())
    assert as_json["name"] == "north-gate" and as_json["camera_ids"] == ["cam-1"]
    assert secret not in json.dumps(as_json) and new_secret not in json.dumps(as_json)

    finished = alpr(registered, "cameras", "rotate", "north-gate", "--finish")
    assert (
        finished.out.strip() == "north-gate: previous secret retired; only the current one is live"
    )
    assert alpr(registered, "cameras", "list").out.strip().endswith("\tactive")

    disabled = alpr(registered, "cameras", "disable", "north-gate")
    assert disabled.out.strip() == "disabled camera credential north-gate"
    assert alpr(registered, "cameras", "list").out.strip().endswith("\tdisabled")
    refused = only_line(alpr(registered, "cameras", "rotate", "north-gate"), 1)
    assert refused == "error: conflict: camera credential north-gate is disabled"


def test_one_live_credential_per_camera(registered: Path, alpr: AlprCli) -> None:
    assert alpr(registered, "cameras", "add", "north-gate", "--camera-id", "cam-1").code == 0
    same_name = only_line(
        alpr(registered, "cameras", "add", "north-gate", "--camera-id", "cam-2"), 1
    )
    assert same_name == "error: conflict: camera credential north-gate already exists"
    same_camera = only_line(
        alpr(
            registered,
            "cameras",
            "add",
            "south-gate",
            "--camera-id",
            "cam-2",
            "--camera-id",
            "cam-1",
        ),
        1,
    )
    assert same_camera == (
        "error: conflict: camera id cam-1 is bound to credential north-gate; rotate or disable it"
    )


def test_refusals_name_the_field(registered: Path, alpr: AlprCli) -> None:
    bad_name = only_line(alpr(registered, "cameras", "add", "x", "--camera-id", "cam-1"), 1)
    assert bad_name.startswith("error: validation_error: ") and "name" in bad_name
    bad_id = only_line(alpr(registered, "cameras", "add", "gate", "--camera-id", "cam 1/../x"), 1)
    assert "camera_ids[0]" in bad_id
    partner = only_line(
        alpr(registered, "cameras", "add", "gate", "--camera-id", "cam-9", "--agency", "CA0190100"),
        1,
    )
    assert partner.startswith("error: camera_agency_not_operating: ")
    assert OPERATING_ORI in partner
    unknown = only_line(
        alpr(registered, "cameras", "add", "gate", "--camera-id", "cam-9", "--agency", "ZZ0000000"),
        1,
    )
    assert unknown == "error: not_found: agency ZZ0000000 is not in the registry"
    missing = only_line(alpr(registered, "cameras", "disable", "nobody"), 1)
    assert missing == "error: not_found: camera credential nobody does not exist"
    assert alpr(registered, "cameras", "list").out == ""
