"""`alpr-guard keys rotate`: every key re-wrapped under a new master key; reads, the audit chain,
sealed query terms, redacted plate tokens and the signing key all carry over; the old master key
opens nothing in the key store afterwards; an interrupted run is finished by running it again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from alpr_guard.api import build_app
from alpr_guard.audit import Actor
from alpr_guard.checkpoints import verify_with_checkpoints, write_checkpoint
from alpr_guard.clock import FixedClock
from alpr_guard.crypto import AUDIT_KEYS_ID, KeyRing, unwrap_under, wrap_under
from alpr_guard.db import read_only_session
from alpr_guard.errors import KeyUnavailable
from alpr_guard.keystore import FileKeyStore, generate_master_key, read_master_key
from alpr_guard.runtime import Runtime, build_runtime
from alpr_guard.services.rotation import rotate_master_key
from alpr_guard.settings import load_settings
from tests.api.test_searches import ingest
from tests.cli.test_cli import run
from tests.conftest import auth, read, search_body

PERIOD = {"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}


def _search(client: FlaskClient, tokens: dict[str, str]) -> list[str]:
    response = client.post("/api/v1/searches", json=search_body(), headers=auth(tokens["officer"]))
    assert response.status_code == 200, response.get_json()
    return [r["plate"] for r in response.get_json()["results"]]


def _full_report_plates(client: FlaskClient, tokens: dict[str, str]) -> list[str]:
    response = client.get(
        "/api/v1/audit/access-report",
        query_string={**PERIOD, "format": "json", "full": "true"},
        headers=auth(tokens["auditor"]),
    )
    assert response.status_code == 200, response.get_json()
    return [row["plate"] for row in json.loads(response.get_data())["rows"]]


def test_rotation_keeps_everything_readable_under_the_new_key_only(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock, tmp_path: Path
) -> None:
    ingest(client, tokens, read(at="2026-11-18T09:30:00Z"), read(at="2026-11-15T08:00:00Z"))
    assert _search(client, tokens) == ["7ABC123", "7ABC123"]
    with rt.sessions.begin() as session:
        write_checkpoint(session, rt, Actor("test", None))
    token_before = rt.keyring.term_token("7ABC123")
    public_before = rt.keyring.public_key_raw()
    config = rt.settings.source
    old_file = rt.settings.keys.master_key_file
    assert old_file is not None
    new_file = tmp_path / "secrets" / "new.key"

    rotated = run(config, "keys", "rotate", "--new-key-file", str(new_file))
    assert rotated.returncode == 0, rotated.stderr
    # Two day keys and the signing key; the audit keys join the store.
    assert "re-wrapped 3 keys under the new master key (0 already were" in rotated.stdout
    store = FileKeyStore(rt.settings.keys.keystore_dir)
    assert AUDIT_KEYS_ID in store.key_ids()
    old_master = read_master_key(old_file, None, "old")
    with pytest.raises(KeyUnavailable):
        KeyRing(old_master, store)  # the old master key opens nothing any more
    stale = run(config, "config", "check")
    assert stale.returncode == 2
    assert "do not unwrap under the configured master key" in stale.stderr

    config.write_text(
        config.read_text().replace(
            'master_key_file = "master.key"', f'master_key_file = "{new_file}"'
        )
    )
    rt2 = build_runtime(load_settings(config), clock=clock)
    try:
        with read_only_session(rt2.sessions) as session:
            verified = verify_with_checkpoints(session, rt2)
        assert verified.ok and verified.checkpoints == 1, verified.describe()
        client2 = build_app(rt2).test_client()
        assert _search(client2, tokens) == ["7ABC123", "7ABC123"]
        # Sealed query terms of searches before and after the rotation both open.
        assert _full_report_plates(client2, tokens) == ["7ABC123", "7ABC123"]
        assert rt2.keyring.term_token("7ABC123") == token_before
        assert rt2.keyring.public_key_raw() == public_before
    finally:
        rt2.dispose()
    assert run(config, "config", "check").returncode == 0
    again = run(config, "keys", "rotate", "--new-key-file", str(new_file))
    assert again.returncode == 1
    assert again.stderr.strip() == (
        "error: key_unavailable: the new master key is the old one: generate a new key"
    )


def test_an_interrupted_rotation_is_finished_by_running_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = generate_master_key(), generate_master_key()
    store = FileKeyStore(tmp_path / "ks")
    store.ensure()
    ring = KeyRing(old, store)
    for day in ("2026-11-01", "2026-11-02", "2026-11-03"):
        ring.data_key(f"day-{day}", create=True)
    mac_before = ring.audit_mac(b"event")
    calls: list[str] = []
    real_replace = FileKeyStore.replace

    def crash_after_one(self: FileKeyStore, key_id: str, wrapped: bytes) -> None:
        if calls:
            raise OSError("disk full")
        calls.append(key_id)
        real_replace(self, key_id, wrapped)

    monkeypatch.setattr(FileKeyStore, "replace", crash_after_one)
    with pytest.raises(OSError, match="disk full"):
        rotate_master_key(store, old, new)
    monkeypatch.setattr(FileKeyStore, "replace", real_replace)
    result = rotate_master_key(store, old, new)
    # The first run stored the audit keys and re-wrapped one day key before it stopped.
    assert (result.rewrapped, result.already_new, result.audit_keys_stored) == (2, 2, False)
    for key_id in store.key_ids():
        wrapped = store.get(key_id)
        assert wrapped is not None and unwrap_under(new, key_id, wrapped) is not None
    assert KeyRing(new, store).audit_mac(b"event") == mac_before


def test_a_foreign_key_stops_the_rotation_before_anything_changes(tmp_path: Path) -> None:
    old, new, foreign = generate_master_key(), generate_master_key(), generate_master_key()
    store = FileKeyStore(tmp_path / "ks")
    store.ensure()
    KeyRing(old, store).data_key("day-2026-11-01", create=True)
    store.put_new("day-2026-11-02", wrap_under(foreign, "day-2026-11-02", b"k" * 32))
    before = {k: store.get(k) for k in store.key_ids()}
    with pytest.raises(KeyUnavailable, match="day-2026-11-02 unwraps under neither"):
        rotate_master_key(store, old, new)
    assert {k: store.get(k) for k in store.key_ids()} == before
