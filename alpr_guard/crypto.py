"""KeyRing: envelope keys, AES-256-GCM field encryption, the keyed blind index, shredding.

Civil Code 1798.90.51(a)/.53(a) ask for reasonable technical safeguards; CJIS asks for AES-256
at rest and for derived data (the blind index) to be protected like the plates. The design:

* A **master key** (file or environment variable, never TOML, never the database) derives, by
  HKDF with distinct labels, the key-encryption key that wraps data keys, the audit MAC key that
  chains the audit log, the audit sealing key for query terms, and the term-token key used for
  redacted exports and repeated-target review.
* One random **data key per UTC day of observation** (the retention epoch) encrypts that day's
  plates. It is stored wrapped in the key store, apart from the database.
* The **blind index** is HMAC-SHA256 of the normalised plate under an index key derived from the
  day's data key, truncated to 64 bits. Tokens differ per day, so a stolen database shows per-day
  buckets, not plates and not a plate's movements across days; destroying the day's data key
  also destroys the index key, so old rows can no longer be linked to a plate either.
* Ciphertexts carry associated data that binds them to their row: swapping the ciphertexts of
  two rows makes both fail to decrypt.

This module imports neither the ORM nor Flask: crypto sits below both.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from alpr_guard.errors import KeyUnavailable
from alpr_guard.keystore import KeyStore, require_key

VERSION = b"\x01"
NONCE_BYTES = 12
DATA_KEY_BYTES = 32
INDEX_BITS = 64
SIGNING_KEY_ID = "signing-ed25519"
# The audit MAC, sealing and term-token keys, stored wrapped once the master key has been rotated
# (``services.rotation``): until then they are derived from the master key; from the first
# rotation on they are kept here, so the chain, sealed terms and term tokens outlive the key.
AUDIT_KEYS_ID = "audit-keys"
AUDIT_SECRET_LABELS = ("audit-mac", "audit-seal", "term-token")


def _hkdf(secret: bytes, label: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"alpr_guard/{label}/v1".encode()
    ).derive(secret)


def derived_audit_secrets(master_key: bytes) -> tuple[bytes, bytes, bytes]:
    """The audit MAC, sealing and term-token keys as a master key derives them."""
    mac, seal, term = (_hkdf(master_key, label) for label in AUDIT_SECRET_LABELS)
    return mac, seal, term


def wrap_under(master_key: bytes, key_id: str, raw: bytes) -> bytes:
    """``raw`` wrapped under ``master_key``'s key-encryption key, bound to ``key_id``."""
    nonce = os.urandom(NONCE_BYTES)
    return VERSION + nonce + AESGCM(_hkdf(master_key, "kek")).encrypt(nonce, raw, key_id.encode())


def unwrap_under(master_key: bytes, key_id: str, wrapped: bytes) -> bytes | None:
    """The key ``wrapped`` holds if ``master_key`` wrapped it; None otherwise."""
    if wrapped[:1] != VERSION:
        return None
    nonce, body = wrapped[1 : 1 + NONCE_BYTES], wrapped[1 + NONCE_BYTES :]
    try:
        return AESGCM(_hkdf(master_key, "kek")).decrypt(nonce, body, key_id.encode())
    except InvalidTag:
        return None


def master_key_id(master_key: bytes) -> str:
    """A name for a master key that reveals nothing about it (for the rotation's audit event)."""
    return _hkdf(master_key, "master-key-id").hex()[:16]


def day_key_id(day: date) -> str:
    return f"day-{day.isoformat()}"


_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


def _hmac_pads(key: bytes) -> tuple[Any, Any]:
    """HMAC-SHA256's inner and outer hash states after the key block (RFC 2104, section 2).

    Continuing copies of them computes exactly ``hmac.new(key, msg, sha256).digest()``, with
    C-level hash copies instead of a Python ``hmac.HMAC`` object per message.
    """
    block = key.ljust(hashlib.sha256().block_size, b"\0")  # keys here are 32 bytes, never hashed
    return hashlib.sha256(block.translate(_IPAD)), hashlib.sha256(block.translate(_OPAD))


@dataclass(frozen=True)
class DataKey:
    """An unwrapped data key with its AEAD and its blind-index MAC, ready for hot loops."""

    key_id: str
    aead: AESGCM = field(repr=False)
    index_mac: hmac.HMAC = field(repr=False)
    # index_mac's key as HMAC inner and outer states (``_hmac_pads``); None falls back to it.
    index_pads: tuple[Any, Any] | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        return f"DataKey({self.key_id!r})"


class KeyRing:
    """All key handling for one process. Unwrapped data keys are cached in memory only."""

    def __init__(self, master_key: bytes, store: KeyStore) -> None:
        self._store = store
        self._kek = AESGCM(_hkdf(master_key, "kek"))
        audit_mac, audit_seal, term = self._audit_secrets(master_key)
        self._audit_mac_key = audit_mac
        self._audit_seal = AESGCM(audit_seal)
        self._term_mac = hmac.new(term, digestmod=hashlib.sha256)
        self._cache: dict[str, DataKey] = {}
        self._lock = threading.Lock()
        self._signing: Ed25519PrivateKey | None = None

    def __repr__(self) -> str:
        return f"KeyRing(cached={len(self._cache)})"

    @property
    def store(self) -> KeyStore:
        return self._store

    def _audit_secrets(self, master_key: bytes) -> tuple[bytes, bytes, bytes]:
        wrapped = self._store.get(AUDIT_KEYS_ID)
        if wrapped is None:
            return derived_audit_secrets(master_key)
        raw = self._unwrap(AUDIT_KEYS_ID, wrapped)
        size = len(raw) // 3
        return raw[:size], raw[size : 2 * size], raw[2 * size :]

    def check_key(self, key_id: str) -> None:
        """Read ``key_id`` from the key store and unwrap it (KeyUnavailable if it will not);
        nothing is cached: for readiness checks, which must see the store as it is now."""
        self._unwrap(key_id, require_key(self._store, key_id))

    # -- data keys -------------------------------------------------------------------------

    def _wrap(self, key_id: str, key: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return VERSION + nonce + self._kek.encrypt(nonce, key, key_id.encode())

    def _unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        if wrapped[:1] != VERSION:
            raise KeyUnavailable(f"data key {key_id} has an unknown format")
        nonce, body = wrapped[1 : 1 + NONCE_BYTES], wrapped[1 + NONCE_BYTES :]
        try:
            return self._kek.decrypt(nonce, body, key_id.encode())
        except InvalidTag:
            raise KeyUnavailable(
                f"data key {key_id} cannot be unwrapped with this master key"
            ) from None

    def _load(self, key_id: str, raw: bytes) -> DataKey:
        index_key = _hkdf(raw, f"blind-index|{key_id}")
        return DataKey(
            key_id=key_id,
            aead=AESGCM(raw),
            index_mac=hmac.new(index_key, digestmod=hashlib.sha256),
            index_pads=_hmac_pads(index_key),
        )

    def data_key(self, key_id: str, *, create: bool = False) -> DataKey:
        """The data key ``key_id``; with ``create``, make it if the key store lacks it.

        Callers decide whether creating is allowed: the ingest service refuses to recreate a
        key the database records as destroyed, so shredding can never be undone by a late read.
        """
        cached = self._cache.get(key_id)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._cache.get(key_id)
            if cached is not None:
                return cached
            wrapped = self._store.get(key_id)
            if wrapped is None:
                if not create:
                    require_key(self._store, key_id)
                wrapped = self._store.put_new(
                    key_id, self._wrap(key_id, os.urandom(DATA_KEY_BYTES))
                )
            key = self._load(key_id, self._unwrap(key_id, wrapped))
            self._cache[key_id] = key
            return key

    def has_key(self, key_id: str) -> bool:
        return key_id in self._cache or self._store.get(key_id) is not None

    def destroy(self, key_id: str) -> bool:
        """Crypto-shred: delete the key from the store and from this process's memory."""
        with self._lock:
            self._cache.pop(key_id, None)
            return self._store.destroy(key_id)

    def forget(self, key_id: str) -> None:
        with self._lock:
            self._cache.pop(key_id, None)

    # -- plates ----------------------------------------------------------------------------

    @staticmethod
    def encrypt(key: DataKey, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return VERSION + nonce + key.aead.encrypt(nonce, plaintext, aad)

    @staticmethod
    def decrypt(key: DataKey, blob: bytes, aad: bytes) -> bytes:
        if blob[:1] != VERSION:
            raise KeyUnavailable("ciphertext has an unknown format")
        try:
            return key.aead.decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], aad)
        except InvalidTag:
            raise KeyUnavailable(f"a ciphertext under {key.key_id} failed authentication") from None

    @staticmethod
    def blind_index(key: DataKey, normalised_plate: str) -> int:
        """64-bit signed token: fits a BIGINT column and its B-tree on both databases."""
        if key.index_pads is None:
            mac = key.index_mac.copy()
            mac.update(normalised_plate.encode())
            digest = mac.digest()
        else:
            inner, outer = key.index_pads[0].copy(), key.index_pads[1].copy()
            inner.update(normalised_plate.encode())
            outer.update(inner.digest())
            digest = outer.digest()
        return int.from_bytes(digest[: INDEX_BITS // 8], "big", signed=True)

    # -- instance signing key (export bundles, audit checkpoints) ----------------------------

    def signing_key(self) -> Ed25519PrivateKey:
        """The instance's Ed25519 key, created on first use and kept wrapped in the key store."""
        with self._lock:
            if self._signing is None:
                wrapped = self._store.get(SIGNING_KEY_ID)
                if wrapped is None:
                    raw = Ed25519PrivateKey.generate().private_bytes(
                        serialization.Encoding.Raw,
                        serialization.PrivateFormat.Raw,
                        serialization.NoEncryption(),
                    )
                    wrapped = self._store.put_new(SIGNING_KEY_ID, self._wrap(SIGNING_KEY_ID, raw))
                self._signing = Ed25519PrivateKey.from_private_bytes(
                    self._unwrap(SIGNING_KEY_ID, wrapped)
                )
            return self._signing

    def public_key_raw(self) -> bytes:
        return public_bytes(self.signing_key().public_key())

    # -- audit -----------------------------------------------------------------------------

    def audit_mac(self, message: bytes) -> str:
        # hmac.digest is the one-shot C path: verification of a long chain spends its time here.
        return hmac.digest(self._audit_mac_key, message, "sha256").hex()

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        """Encrypt query terms for the audit log: only auditors' reports open them."""
        nonce = os.urandom(NONCE_BYTES)
        return VERSION + nonce + self._audit_seal.encrypt(nonce, plaintext, aad)

    def unseal(self, blob: bytes, aad: bytes) -> bytes:
        if blob[:1] != VERSION:
            raise KeyUnavailable("sealed audit terms have an unknown format")
        try:
            return self._audit_seal.decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], aad)
        except InvalidTag:
            raise KeyUnavailable("sealed audit terms failed authentication") from None

    def term_token(self, normalised_plate: str) -> str:
        """A keyed hash of a plate that is stable across days: for redacted exports and for
        spotting one user searching one plate again and again. It never reveals the plate."""
        mac = self._term_mac.copy()
        mac.update(normalised_plate.encode())
        return mac.hexdigest()[:32]


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_fingerprint(public_raw: bytes) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def verify_signature(public_raw: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
