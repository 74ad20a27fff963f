"""KeyRing: envelope keys, AES-GCM bound to its row, per-day blind index, shredding."""

from __future__ import annotations

import os
import stat
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alpr_guard.crypto import KeyRing
from alpr_guard.errors import ConfigError, KeyUnavailable
from alpr_guard.keystore import (
    FileKeyStore,
    encode_master_key,
    generate_master_key,
    read_master_key,
    write_master_key_file,
)
from alpr_guard.services.sealed_reads import read_aad


@pytest.fixture
def ring(tmp_path: Path) -> KeyRing:
    store = FileKeyStore(tmp_path / "ks")
    store.ensure()
    return KeyRing(generate_master_key(), store)


@settings(max_examples=50)
@given(plaintext=st.binary(max_size=64))
def test_round_trip_and_row_binding(
    tmp_path_factory: pytest.TempPathFactory, plaintext: bytes
) -> None:
    store = FileKeyStore(tmp_path_factory.mktemp("ks"))
    ring = KeyRing(generate_master_key(), store)
    key = ring.data_key("day-2026-11-20", create=True)
    row, other = uuid.uuid4(), uuid.uuid4()
    at = datetime(2026, 11, 20, 8, tzinfo=UTC)
    blob = KeyRing.encrypt(key, plaintext, read_aad(row, key.key_id, at, "cam-1"))
    assert KeyRing.decrypt(key, blob, read_aad(row, key.key_id, at, "cam-1")) == plaintext
    for moved in (
        read_aad(other, key.key_id, at, "cam-1"),
        read_aad(row, key.key_id, at + timedelta(minutes=1), "cam-1"),
        read_aad(row, key.key_id, at, "cam-2"),
    ):
        with pytest.raises(KeyUnavailable):
            KeyRing.decrypt(key, blob, moved)


def test_tampered_ciphertext_fails(ring: KeyRing) -> None:
    key = ring.data_key("day-2026-11-20", create=True)
    blob = bytearray(KeyRing.encrypt(key, b"7ABC123", b"aad"))
    blob[-1] ^= 1
    with pytest.raises(KeyUnavailable):
        KeyRing.decrypt(key, bytes(blob), b"aad")


def test_blind_index_is_stable_within_a_day_and_unlinkable_across_days(ring: KeyRing) -> None:
    monday = ring.data_key("day-2026-11-16", create=True)
    tuesday = ring.data_key("day-2026-11-17", create=True)
    assert KeyRing.blind_index(monday, "7ABC123") == KeyRing.blind_index(monday, "7ABC123")
    assert KeyRing.blind_index(monday, "7ABC123") != KeyRing.blind_index(tuesday, "7ABC123")
    assert KeyRing.blind_index(monday, "7ABC123") != KeyRing.blind_index(monday, "7ABC124")
    assert -(2**63) <= KeyRing.blind_index(monday, "7ABC123") < 2**63


def test_keys_survive_a_restart_but_not_a_different_master(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "ks")
    store.ensure()
    master = generate_master_key()
    blob = KeyRing.encrypt(
        KeyRing(master, store).data_key("day-2026-11-20", create=True), b"7ABC123", b"a"
    )
    again = KeyRing(master, store).data_key("day-2026-11-20")
    assert KeyRing.decrypt(again, blob, b"a") == b"7ABC123"
    with pytest.raises(KeyUnavailable, match="master key"):
        KeyRing(generate_master_key(), store).data_key("day-2026-11-20")


def test_wrapped_keys_on_disk_are_not_the_keys(ring: KeyRing, tmp_path: Path) -> None:
    ring.data_key("day-2026-11-20", create=True)
    path = tmp_path / "ks" / "day-2026-11-20.wkey"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_bytes()) == 1 + 12 + 32 + 16


def test_destroyed_key_makes_ciphertexts_unreadable_forever(ring: KeyRing, tmp_path: Path) -> None:
    key = ring.data_key("day-2026-11-01", create=True)
    blob = KeyRing.encrypt(key, b"7ABC123", b"a")
    assert ring.destroy("day-2026-11-01") is True
    assert not (tmp_path / "ks" / "day-2026-11-01.wkey").exists()
    with pytest.raises(KeyUnavailable):
        ring.data_key("day-2026-11-01")
    # A fresh key under the same id (which the services never allow) would not help either.
    fresh = ring.data_key("day-2026-11-01", create=True)
    with pytest.raises(KeyUnavailable):
        KeyRing.decrypt(fresh, blob, b"a")
    assert ring.destroy("day-2026-11-02") is False


def test_two_processes_creating_the_same_key_agree(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "ks")
    store.ensure()
    master = generate_master_key()
    first, second = KeyRing(master, store), KeyRing(master, store)
    a = first.data_key("day-2026-11-20", create=True)
    b = second.data_key("day-2026-11-20", create=True)
    assert KeyRing.blind_index(a, "X1") == KeyRing.blind_index(b, "X1")
    assert store.put_new("day-2026-11-20", b"other") != b"other"


def test_audit_seal_and_mac(ring: KeyRing) -> None:
    sealed = ring.seal(b'{"plate":"7ABC123"}', b"search-1")
    assert b"7ABC123" not in sealed
    assert ring.unseal(sealed, b"search-1") == b'{"plate":"7ABC123"}'
    with pytest.raises(KeyUnavailable):
        ring.unseal(sealed, b"search-2")
    assert ring.audit_mac(b"x") == ring.audit_mac(b"x") != ring.audit_mac(b"y")
    assert ring.term_token("7ABC123") == ring.term_token("7ABC123") != ring.term_token("7ABC124")
    assert "7ABC123" not in repr(ring)


def test_master_key_file_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.key"
    write_master_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(read_master_key(path, None, "cfg")) == 32
    with pytest.raises(FileExistsError):
        write_master_key_file(path)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        read_master_key(path, None, "cfg")
    with pytest.raises(ConfigError, match="does not exist"):
        read_master_key(tmp_path / "missing.key", None, "cfg")
    monkeypatch.setenv("TEST_MASTER", encode_master_key(generate_master_key()))
    assert len(read_master_key(None, "TEST_MASTER", "cfg")) == 32
    monkeypatch.setenv("TEST_MASTER", "too-short")
    with pytest.raises(ConfigError, match="TEST_MASTER"):
        read_master_key(None, "TEST_MASTER", "cfg")
    monkeypatch.delenv("TEST_MASTER")
    with pytest.raises(ConfigError, match="not set"):
        read_master_key(None, "TEST_MASTER", "cfg")
