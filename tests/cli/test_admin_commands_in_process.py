"""The admin commands through ``main``, in this process: each mistake ends as one line naming
the option or file at fault and the fix, with the documented exit code; each success says what
it did. (tests/cli/test_cli.py runs the same entry point as a subprocess for the journeys.)"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from alpr_guard.keystore import write_master_key_file
from tests.cli.conftest import AlprCli, add_agency, only_line, sqlite_config
from tests.conftest import OPERATING_ORI, REPO

# -- config check ------------------------------------------------------------------------------


def test_config_check_passes_then_records_the_policy_once(migrated: Path, alpr: AlprCli) -> None:
    ok = alpr(migrated, "config", "check")
    assert ok.code == 0, ok.err
    assert ok.out.startswith(f"{migrated}: ok (profile ")
    assert "key store and checkpoints usable" in ok.out

    recorded = alpr(migrated, "config", "check", "--record")
    assert recorded.code == 0, recorded.err
    assert recorded.out.splitlines()[1].endswith(": recorded (was none)")
    again = alpr(migrated, "config", "check", "--record")
    assert again.code == 0
    assert again.out.splitlines()[-1].endswith("unchanged, nothing recorded")


def test_config_check_names_every_fault_of_an_unmigrated_install(
    tmp_path: Path, alpr: AlprCli
) -> None:
    config = sqlite_config(tmp_path, '\n[registry]\nfile = "nowhere.toml"\n')
    result = alpr(config, "config", "check")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert any("registry.file" in line and "nowhere.toml" in line for line in lines), lines
    assert any(
        line.startswith("database: SQLite file") and "alpr-guard db upgrade" in line
        for line in lines
    ), lines
    assert "Traceback" not in result.err


def test_config_check_with_an_empty_database_says_upgrade(tmp_path: Path, alpr: AlprCli) -> None:
    config = sqlite_config(tmp_path)
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "alpr_guard.db").touch()
    (tmp_path / "keystore").mkdir(mode=0o700)
    result = alpr(config, "config", "check")
    assert only_line(result, 2) == (
        "schema: the database has no schema yet: run `alpr-guard db upgrade`"
    )


def test_config_check_refuses_a_key_store_of_another_master_key(
    migrated: Path, tmp_path: Path, alpr: AlprCli
) -> None:
    assert alpr(migrated, "demo").code == 0  # events to sign
    assert alpr(migrated, "audit", "checkpoint").code == 0  # signs: the signing key exists now
    assert any((tmp_path / "keystore").iterdir())
    (tmp_path / "master.key").unlink()
    write_master_key_file(tmp_path / "master.key")
    result = alpr(migrated, "config", "check")
    assert result.code == 2
    assert "keystore" in result.err
    assert "do not unwrap" in result.err or "does not unwrap" in result.err
    assert "Traceback" not in result.err


def test_config_check_names_a_key_store_that_is_a_file(tmp_path: Path, alpr: AlprCli) -> None:
    config = sqlite_config(tmp_path)
    (tmp_path / "keystore").write_text("not a directory")
    result = alpr(config, "config", "check")
    assert result.code == 2
    assert f"keys.keystore_dir ({tmp_path / 'keystore'}) is not a directory" in result.err


def test_config_check_without_a_master_key_names_the_field(tmp_path: Path, alpr: AlprCli) -> None:
    config = sqlite_config(tmp_path)
    (tmp_path / "master.key").unlink()
    result = alpr(config, "config", "check")
    assert result.code == 2
    first = result.err.splitlines()[0]
    assert first.startswith("config error:") and "keys.master_key_file" in first


# -- keys --------------------------------------------------------------------------------------


def test_keys_init_never_overwrites_a_master_key(tmp_path: Path, alpr: AlprCli) -> None:
    config = sqlite_config(tmp_path)
    key = tmp_path / "master.key"
    before = key.read_bytes()
    refused = only_line(alpr(config, "keys", "init"), 2)
    assert refused == (
        f"config error: {key}: already exists; refusing to overwrite a master key "
        "(every data key is wrapped by it)"
    )
    kept = alpr(config, "keys", "init", "--if-missing")
    assert kept.code == 0 and kept.out.strip() == f"master key exists: {key}"
    assert key.read_bytes() == before

    key.unlink()
    made = alpr(config, "keys", "init")
    assert made.code == 0 and made.out.strip() == f"wrote new master key: {key} (mode 0600)"
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.read_bytes() != before
    assert (tmp_path / "keystore").is_dir()


def test_keys_init_refuses_when_the_key_comes_from_the_environment(
    tmp_path: Path, alpr: AlprCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = sqlite_config(tmp_path)
    text = config.read_text().replace(
        'master_key_file = "master.key"', 'master_key_env = "ALPR_TEST_MASTER"'
    )
    config.write_text(text)
    key = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("ALPR_TEST_MASTER", key)
    line = only_line(alpr(config, "keys", "init"), 2)
    assert line.startswith("config error: ") and "keys.master_key_env is set" in line


def test_keys_rotate_needs_exactly_one_new_key(migrated: Path, alpr: AlprCli) -> None:
    line = only_line(alpr(migrated, "keys", "rotate"), 2)
    assert "give exactly one of --new-key-file or --new-key-env" in line
    assert line.endswith(" keys rotate --help`)")


def test_keys_rotate_names_an_unset_variable(
    migrated: Path, alpr: AlprCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ALPR_TEST_NEW_MASTER", raising=False)
    line = only_line(alpr(migrated, "keys", "rotate", "--new-key-env", "ALPR_TEST_NEW_MASTER"), 2)
    assert line == "error: environment variable ALPR_TEST_NEW_MASTER is not set"


def test_keys_rotate_refuses_an_unmigrated_database(tmp_path: Path, alpr: AlprCli) -> None:
    config = sqlite_config(tmp_path)
    new = tmp_path / "new.key"
    result = alpr(config, "keys", "rotate", "--new-key-file", str(new))
    assert result.code == 1
    assert result.err.strip().endswith("; nothing was rotated")
    assert "alpr-guard db upgrade" in result.err


def test_keys_rotate_rewraps_under_a_new_key_and_records_it(
    migrated: Path, tmp_path: Path, alpr: AlprCli
) -> None:
    new = tmp_path / "new.key"
    result = alpr(migrated, "keys", "rotate", "--new-key-file", str(new))
    assert result.code == 0, result.err
    assert f"wrote new master key: {new} (mode 0600)" in result.out
    assert "keys under the new master key" in result.out and "audit seq" in result.out
    # Pointing the config at the new key: every key unwraps, and the chain still verifies.
    config_text = migrated.read_text().replace('"master.key"', f'"{new}"')
    migrated.write_text(config_text)
    check = alpr(migrated, "config", "check")
    assert check.code == 0, check.err
    verified = alpr(migrated, "audit", "verify")
    assert verified.code == 0, verified.out


# -- db ----------------------------------------------------------------------------------------


def test_db_upgrade_to_an_unknown_revision_lists_the_revisions(
    tmp_path: Path, alpr: AlprCli
) -> None:
    config = sqlite_config(tmp_path)
    line = only_line(alpr(config, "db", "upgrade", "--revision", "nope"), 1)
    assert line.startswith("error: cannot migrate to revision 'nope': ")
    assert "(revisions: base, 0001" in line and line.endswith(", head)")


def test_db_downgrade_then_upgrade_again(migrated: Path, alpr: AlprCli) -> None:
    down = alpr(migrated, "db", "downgrade", "base")
    assert down.code == 0, down.err
    assert down.out.strip() == "database at base"
    schema = only_line(alpr(migrated, "users", "list"), 1)
    assert schema == "error: the database has no schema yet: run `alpr-guard db upgrade`"
    up = alpr(migrated, "db", "upgrade")
    assert up.code == 0 and "was empty" in up.out


def test_a_database_behind_this_version_says_upgrade(migrated: Path, alpr: AlprCli) -> None:
    assert alpr(migrated, "db", "downgrade", "0001").code == 0
    line = only_line(alpr(migrated, "config", "check"), 2)
    assert line.startswith("schema: the schema is at revision 0001, this version needs ")
    assert line.endswith("run `alpr-guard db upgrade`")


# -- users and agencies ------------------------------------------------------------------------


def test_users_and_agencies_through_their_lifecycle(migrated: Path, alpr: AlprCli) -> None:
    refused = only_line(alpr(migrated, "users", "add", "--username", "ann", "--role", "officer"), 1)
    assert refused.startswith(f"error: agency {OPERATING_ORI} is not in the registry")
    assert "alpr-guard agencies add --ori" in refused

    added = add_agency(alpr, migrated, OPERATING_ORI, "Test City Police Department")
    assert added.code == 0, added.err
    assert added.out.strip() == (
        f"{OPERATING_ORI}\tlocal\tCA\tnot vetted\tTest City Police Department"
    )
    vetted = alpr(migrated, "agencies", "vet", OPERATING_ORI)
    assert vetted.out.strip() == f"{OPERATING_ORI}\tvetted\tTest City Police Department"
    unvetted = alpr(migrated, "agencies", "unvet", OPERATING_ORI)
    assert unvetted.out.strip() == f"{OPERATING_ORI}\tnot vetted\tTest City Police Department"
    listed = alpr(migrated, "agencies", "list")
    assert listed.out.strip() == unvetted.out.strip().replace(
        f"{OPERATING_ORI}\t", f"{OPERATING_ORI}\tlocal\tCA\t"
    )
    missing = only_line(alpr(migrated, "agencies", "vet", "ZZ9999999"), 1)
    assert missing == "error: not_found: agency ZZ9999999 is not in the registry"

    user = alpr(migrated, "users", "add", "--username", "ann", "--role", "officer")
    assert user.code == 0, user.err
    first, token = user.out.strip().splitlines()
    assert first.startswith(f"created ann (officer, {OPERATING_ORI}); token expires ")
    assert token and token not in user.err

    again = alpr(migrated, "users", "token", "--username", "ann")
    assert again.code == 0, again.err
    assert again.out.splitlines()[0].startswith("token for ann expires ")
    assert again.out.splitlines()[1] != token

    listing = alpr(migrated, "users", "list")
    assert listing.out.strip() == f"ann\tofficer\t{OPERATING_ORI}\tactive"
    revoked = alpr(migrated, "users", "revoke", "--username", "ann", "--disable")
    assert revoked.out.strip() == "revoked 2 token(s) of ann and disabled it"
    assert alpr(migrated, "users", "list").out.strip() == (
        f"ann\tofficer\t{OPERATING_ORI}\tdisabled"
    )
    none_left = alpr(migrated, "users", "revoke", "--username", "ann")
    assert none_left.out.strip() == "revoked 0 token(s) of ann"


def test_users_unlock_needs_exactly_one_target(migrated: Path, alpr: AlprCli) -> None:
    for args in ((), ("--username", "ann", "--source", "10.0.0.1")):
        line = only_line(alpr(migrated, "users", "unlock", *args), 2)
        assert "give exactly one of --username or --source" in line


def test_users_unlock_of_no_lock_says_so(migrated: Path, alpr: AlprCli) -> None:
    line = only_line(
        alpr(migrated, "users", "unlock", "--source", "10.0.0.1", "--operator", "desk.sergeant"),
        1,
    )
    assert line == "error: not_found: no source lock is in force for 10.0.0.1"
    assert alpr(migrated, "users", "locks").out == ""


def test_an_operator_name_outside_the_alphabet_is_refused(migrated: Path, alpr: AlprCli) -> None:
    line = only_line(
        alpr(migrated, "agencies", "vet", OPERATING_ORI, operator="ann smith; rm -rf"), 2
    )
    assert line.startswith("error: --operator: must be 1-56 characters")


def test_agencies_import_without_a_file_names_both_ways(migrated: Path, alpr: AlprCli) -> None:
    line = only_line(alpr(migrated, "agencies", "import"), 2)
    assert "give a FILE or set registry.file in the config" in line


def test_agencies_import_counts_created_updated_unchanged(
    migrated: Path, tmp_path: Path, alpr: AlprCli
) -> None:
    registry = tmp_path / "agencies.csv"
    registry.write_text(
        "ori,name,kind,jurisdiction,vetted\n"
        "CA0190100,Demo County Sheriff,local,CA,true\n"
        "NV0020000,Washoe County Sheriff,local,NV,true\n"
    )
    first = alpr(migrated, "agencies", "import", str(registry))
    assert first.code == 0, first.err
    assert first.out.strip() == f"{registry}: 2 created, 0 updated, 0 unchanged"
    registry.write_text(
        "ori,name,kind,jurisdiction,vetted\n"
        "CA0190100,Demo County Sheriff,local,CA,false\n"
        "NV0020000,Washoe County Sheriff,local,NV,true\n"
    )
    second = alpr(migrated, "agencies", "import", str(registry))
    assert second.out.strip() == f"{registry}: 0 created, 1 updated, 1 unchanged"


# -- demo --------------------------------------------------------------------------------------


def test_demo_once_then_refused_or_skipped(migrated: Path, alpr: AlprCli) -> None:
    made = alpr(migrated, "demo")
    assert made.code == 0, made.err
    assert made.out.startswith("Demo tokens (shown once;")
    assert "demo-officer" in made.out and "demo-auditor" in made.out
    refused = only_line(alpr(migrated, "demo"), 2)
    assert refused == "config error: demo users exist already"
    skipped = alpr(migrated, "demo", "--if-missing")
    assert skipped.code == 0
    assert skipped.out.strip() == (
        "demo users exist; new token: alpr-guard users token --username demo-officer"
    )


# -- audit -------------------------------------------------------------------------------------


def test_audit_checkpoint_and_verify(migrated: Path, tmp_path: Path, alpr: AlprCli) -> None:
    assert alpr(migrated, "demo").code == 0  # events to sign
    written = alpr(migrated, "audit", "checkpoint")
    assert written.code == 0, written.err
    assert written.out.startswith("checkpoint at seq ")
    path = Path(written.out.strip().split(": ", 1)[1])
    assert path.parent == tmp_path / "checkpoints" and path.is_file()
    verified = alpr(migrated, "audit", "verify", "--no-progress")
    assert verified.code == 0, verified.out

    bad_key = alpr(
        None,
        "audit",
        "verify-receipt",
        str(path),
        "--public-key",
        base64.b64encode(b"\x00" * 32).decode(),
        operator="",
    )
    assert bad_key.code == 1
    assert bad_key.out.strip().startswith("invalid: signed by another key (key id ")


def test_audit_export_receipt_refuses_a_malformed_run_id(migrated: Path, alpr: AlprCli) -> None:
    line = only_line(
        alpr(migrated, "audit", "export-receipt", "not-a-uuid", "--out", "receipt.json"), 2
    )
    assert "RUN_ID" in line and "not a purge run id" in line


# -- shares ------------------------------------------------------------------------------------


def test_shares_verify_names_the_bad_input(migrated: Path, tmp_path: Path, alpr: AlprCli) -> None:
    garbage = tmp_path / "bundle.json"
    garbage.write_text("{not json")
    line = only_line(alpr(migrated, "shares", "verify", str(garbage)), 2)
    assert "FILE" in line and "not a JSON file" in line

    bundle = tmp_path / "forged.json"
    bundle.write_text(json.dumps({"payload": {}, "signature": "AAAA"}))
    line = only_line(alpr(migrated, "shares", "verify", str(bundle), "--public-key", "@@@"), 2)
    assert "--public-key" in line and "not base64" in line

    key = base64.b64encode(b"\x01" * 32).decode()
    forged = alpr(migrated, "shares", "verify", str(bundle), "--public-key", key)
    assert forged.code == 1
    assert forged.out.strip() == ("not a signed bundle (needs 'bundle' and 'signature' objects)")


def test_shares_verify_without_a_signing_key_asks_for_one(tmp_path: Path, alpr: AlprCli) -> None:
    config = sqlite_config(tmp_path)
    (tmp_path / "keystore").mkdir(mode=0o700)
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"payload": {}, "signature": "AAAA"}))
    line = only_line(alpr(config, "shares", "verify", str(bundle)), 2)
    assert "this instance has no signing key yet; pass --public-key" in line


# -- policy ------------------------------------------------------------------------------------


def test_policy_render_without_a_policy_section_names_it(migrated: Path, alpr: AlprCli) -> None:
    line = only_line(alpr(migrated, "policy", "render"), 1)
    assert line == (
        "error: not_found: no usage and privacy policy is configured: add a [policy] section "
        "to the config"
    )


def test_policy_render_to_a_file_is_readable_by_others(
    migrated: Path, tmp_path: Path, alpr: AlprCli
) -> None:
    example = (REPO / "config" / "alpr_guard.toml").read_text()
    migrated.write_text(migrated.read_text() + example[example.index("\n[policy]\n") :])
    out = tmp_path / "policy.md"
    result = alpr(migrated, "policy", "render", "--format", "md", "--output", str(out))
    assert result.code == 0, result.err
    assert result.err.strip() == f"wrote {out} ({out.stat().st_size} bytes, md)"
    assert out.stat().st_mode & 0o777 == 0o644
    text = out.read_text()
    assert "Test City Police Department" in text
    assert "Records Custodian, Demo City Police Department" in text


# -- the entry point's own diagnosis -----------------------------------------------------------


def test_a_missing_config_file_is_a_config_error(tmp_path: Path, alpr: AlprCli) -> None:
    line = only_line(alpr(tmp_path / "absent.toml", "users", "list"), 2)
    assert line.startswith("config error: ") and "absent.toml" in line


def test_an_unknown_command_points_at_help(tmp_path: Path, alpr: AlprCli) -> None:
    line = only_line(alpr(None, "frobnicate", operator=""), 2)
    assert line.startswith("error: No such command") and "frobnicate" in line


def test_shares_verify_with_the_instance_key_catches_an_edit(
    migrated: Path, tmp_path: Path, alpr: AlprCli
) -> None:
    from alpr_guard.audit import canonical_json
    from alpr_guard.crypto import KeyRing, key_fingerprint
    from alpr_guard.keystore import FileKeyStore, read_master_key

    ring = KeyRing(
        read_master_key(tmp_path / "master.key", None, "test"), FileKeyStore(tmp_path / "keystore")
    )
    bundle = {"bundle_id": "b-1", "issuer": "CA0199900", "recipient": "CA0190100", "reads": [1, 2]}
    document = {
        "bundle": bundle,
        "signature": {
            "algorithm": "Ed25519",
            "key_id": key_fingerprint(ring.public_key_raw()),
            "value": base64.b64encode(
                ring.signing_key().sign(canonical_json(bundle).encode())
            ).decode(),
        },
    }
    genuine = tmp_path / "genuine.json"
    genuine.write_text(json.dumps(document))
    ok = alpr(migrated, "shares", "verify", str(genuine))
    assert ok.code == 0, ok.err
    assert ok.out.strip() == "valid bundle b-1 from CA0199900 to CA0190100: 2 reads"

    bundle["reads"] = [1, 2, 3]
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(document))
    refused = alpr(migrated, "shares", "verify", str(edited))
    assert refused.code == 1
    assert refused.out.strip() == "signature does not match the bundle: it was altered or forged"
