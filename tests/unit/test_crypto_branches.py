"""KeyRing's remaining paths: key wrapping under a given master key, the rotated audit keys, unknown
formats, the signing key, and two threads asking for a new data key at once."""

from __future__ import annotations

import hashlib
import hmac
import inspect
import sys
import threading
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from alpr_guard.crypto import (
    AUDIT_KEYS_ID,
    SIGNING_KEY_ID,
    VERSION,
    KeyRing,
    day_key_id,
    derived_audit_secrets,
    key_fingerprint,
    master_key_id,
    public_bytes,
    unwrap_under,
    verify_signature,
    wrap_under,
)
from alpr_guard.errors import KeyUnavailable
from alpr_guard.keystore import FileKeyStore, generate_master_key

DAY = "day-2026-11-20"


@pytest.fixture
def store(tmp_path: Path) -> FileKeyStore:
    store = FileKeyStore(tmp_path / "ks")
    store.ensure()
    return store


def test_wrap_under_round_trips_only_for_the_same_master_and_key_id() -> None:
    master, other = generate_master_key(), generate_master_key()
    raw = bytes(range(32))
    wrapped = wrap_under(master, "audit-keys", raw)
    assert wrapped[:1] == VERSION and raw not in wrapped
    assert unwrap_under(master, "audit-keys", wrapped) == raw
    assert unwrap_under(other, "audit-keys", wrapped) is None  # another master key
    assert unwrap_under(master, "day-2026-11-20", wrapped) is None  # bound to its key id
    assert unwrap_under(master, "audit-keys", b"\x02" + wrapped[1:]) is None  # unknown format


def test_master_key_id_names_a_key_without_showing_it() -> None:
    master = generate_master_key()
    name = master_key_id(master)
    assert name == master_key_id(master)
    assert len(name) == 16 and int(name, 16) >= 0
    assert name not in master.hex()
    assert name != master_key_id(generate_master_key())


def test_day_key_id_is_the_iso_day() -> None:
    assert day_key_id(date(2026, 1, 5)) == "day-2026-01-05"


def test_a_data_key_repr_names_the_key_and_nothing_else(store: FileKeyStore) -> None:
    ring = KeyRing(generate_master_key(), store)
    key = ring.data_key(DAY, create=True)
    assert repr(key) == f"DataKey({DAY!r})"
    assert ring.store is store


def test_rotated_audit_keys_come_from_the_store_not_from_the_master(store: FileKeyStore) -> None:
    master = generate_master_key()
    mac, seal, term = (bytes([n]) * 32 for n in (1, 2, 3))
    derived = KeyRing(master, store)
    store.put_new(AUDIT_KEYS_ID, wrap_under(master, AUDIT_KEYS_ID, mac + seal + term))
    ring = KeyRing(master, store)
    assert ring.audit_mac(b"row") == hmac.new(mac, b"row", hashlib.sha256).hexdigest()
    assert ring.audit_mac(b"row") != derived.audit_mac(b"row")
    assert derived_audit_secrets(master)[0] != mac
    expected_token = hmac.new(term, b"7ABC123", hashlib.sha256).hexdigest()[:32]
    assert ring.term_token("7ABC123") == expected_token
    sealed = ring.seal(b"terms", b"aad")
    assert KeyRing(master, store).unseal(sealed, b"aad") == b"terms"
    with pytest.raises(KeyUnavailable):
        derived.unseal(sealed, b"aad")  # sealed under the stored key, not the derived one


def test_rotated_audit_keys_under_another_master_fail_closed(store: FileKeyStore) -> None:
    store.put_new(AUDIT_KEYS_ID, wrap_under(generate_master_key(), AUDIT_KEYS_ID, b"k" * 96))
    with pytest.raises(KeyUnavailable, match="cannot be unwrapped"):
        KeyRing(generate_master_key(), store)


def test_check_key_reads_the_store_as_it_is_now(store: FileKeyStore) -> None:
    master = generate_master_key()
    ring = KeyRing(master, store)
    ring.data_key(DAY, create=True)
    ring.check_key(DAY)  # present and unwraps: no error
    with pytest.raises(KeyUnavailable, match="not in the key store"):
        ring.check_key("day-2026-11-21")
    with pytest.raises(KeyUnavailable, match="cannot be unwrapped"):
        KeyRing(generate_master_key(), store).check_key(DAY)
    ring.destroy(DAY)
    with pytest.raises(KeyUnavailable, match="not in the key store"):
        ring.check_key(DAY)  # the cached copy does not count


def test_a_stored_key_of_unknown_format_is_refused(store: FileKeyStore) -> None:
    store.put_new(DAY, b"\x09" + bytes(60))
    with pytest.raises(KeyUnavailable, match="unknown format"):
        KeyRing(generate_master_key(), store).data_key(DAY)


def test_a_missing_key_is_not_created_unless_asked(store: FileKeyStore) -> None:
    ring = KeyRing(generate_master_key(), store)
    with pytest.raises(KeyUnavailable, match="not in the key store"):
        ring.data_key(DAY)
    assert store.get(DAY) is None and not ring.has_key(DAY)


def test_data_keys_are_cached_and_forget_drops_only_the_memory(store: FileKeyStore) -> None:
    master = generate_master_key()
    ring = KeyRing(master, store)
    key = ring.data_key(DAY, create=True)
    assert ring.data_key(DAY) is key  # from the cache
    assert "cached=1" in repr(ring)
    blob = KeyRing.encrypt(key, b"7ABC123", b"aad")
    ring.forget(DAY)
    assert "cached=0" in repr(ring)
    assert ring.has_key(DAY)  # still in the store
    again = ring.data_key(DAY)
    assert again is not key
    assert KeyRing.decrypt(again, blob, b"aad") == b"7ABC123"
    assert KeyRing(master, store).has_key(DAY)  # another process sees the store
    assert not ring.has_key("day-2026-11-21")


def test_a_ciphertext_of_unknown_format_is_refused(store: FileKeyStore) -> None:
    key = KeyRing(generate_master_key(), store).data_key(DAY, create=True)
    blob = KeyRing.encrypt(key, b"7ABC123", b"aad")
    with pytest.raises(KeyUnavailable, match="unknown format"):
        KeyRing.decrypt(key, b"\x02" + blob[1:], b"aad")


def test_sealed_terms_of_unknown_format_are_refused(store: FileKeyStore) -> None:
    ring = KeyRing(generate_master_key(), store)
    sealed = ring.seal(b"terms", b"aad")
    with pytest.raises(KeyUnavailable, match="unknown format"):
        ring.unseal(b"\x02" + sealed[1:], b"aad")


def test_the_signing_key_is_made_once_kept_wrapped_and_shared(store: FileKeyStore) -> None:
    master = generate_master_key()
    ring = KeyRing(master, store)
    assert store.get(SIGNING_KEY_ID) is None
    key = ring.signing_key()
    assert ring.signing_key() is key  # kept in memory
    wrapped = store.get(SIGNING_KEY_ID)
    assert wrapped is not None and wrapped[:1] == VERSION
    raw = ring.public_key_raw()
    assert len(raw) == 32 and raw == public_bytes(key.public_key())
    # Another process with the same master key loads the same key from the store.
    assert KeyRing(master, store).public_key_raw() == raw
    with pytest.raises(KeyUnavailable):
        KeyRing(generate_master_key(), store).signing_key()
    signature = key.sign(b"checkpoint")
    assert verify_signature(raw, signature, b"checkpoint")
    assert not verify_signature(raw, signature, b"checkpoint!")
    other = public_bytes(Ed25519PrivateKey.generate().public_key())
    assert not verify_signature(other, signature, b"checkpoint")
    assert not verify_signature(raw[:31], signature, b"checkpoint")  # not a public key at all
    fingerprint = key_fingerprint(raw)
    assert fingerprint == hashlib.sha256(raw).hexdigest()[:16] != key_fingerprint(other)


class _SlowStore(FileKeyStore):
    """A key store whose first read of ``DAY`` waits until the test lets it go on."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.entered = threading.Event()
        self.go = threading.Event()
        self.reads = 0
        self.creates = 0

    def get(self, key_id: str) -> bytes | None:
        if key_id == DAY:
            self.reads += 1
            if self.reads == 1:
                self.entered.set()
                assert self.go.wait(10)
        return super().get(key_id)

    def put_new(self, key_id: str, wrapped: bytes) -> bytes:
        self.creates += 1
        return super().put_new(key_id, wrapped)


def _waiting_on_the_lock(thread: threading.Thread, line: int) -> bool:
    frame = sys._current_frames().get(thread.ident or -1)
    while frame is not None:
        if frame.f_code is KeyRing.data_key.__code__:
            return frame.f_lineno == line
        frame = frame.f_back
    return False


def test_two_threads_asking_for_a_new_key_at_once_get_one_key(tmp_path: Path) -> None:
    store = _SlowStore(tmp_path / "ks")
    store.ensure()
    ring = KeyRing(generate_master_key(), store)
    source, first = inspect.getsourcelines(KeyRing.data_key)
    lock_line = first + next(n for n, text in enumerate(source) if "with self._lock" in text)
    got: dict[str, object] = {}
    a = threading.Thread(target=lambda: got.setdefault("a", ring.data_key(DAY, create=True)))
    b = threading.Thread(target=lambda: got.setdefault("b", ring.data_key(DAY, create=True)))
    a.start()
    assert store.entered.wait(10)  # a holds the lock, reading the store
    b.start()
    deadline = time.monotonic() + 10
    while not _waiting_on_the_lock(b, lock_line):  # b missed the cache and waits for a
        assert time.monotonic() < deadline
        time.sleep(0.001)
    store.go.set()
    a.join(10)
    b.join(10)
    assert got["a"] is got["b"]  # b took a's key from the cache once it had the lock
    assert store.creates == 1 and store.reads == 1


def test_the_blind_index_without_precomputed_pads_is_the_same_hmac(store: FileKeyStore) -> None:
    key = KeyRing(generate_master_key(), store).data_key(DAY, create=True)
    plain = replace(key, index_pads=None)
    for plate in ("7ABC123", "X1", ""):
        assert KeyRing.blind_index(plain, plate) == KeyRing.blind_index(key, plate)
    assert KeyRing.blind_index(plain, "7ABC123") != KeyRing.blind_index(plain, "7ABC124")
