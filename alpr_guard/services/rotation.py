"""Master-key rotation: every key in the key store re-wrapped under a new master key.

What the master key protects, and what rotation does with each:

* **Data keys** (day, hit-month and hold keys) and the instance's **Ed25519 signing key** are
  stored wrapped under a key-encryption key derived from the master key. Each is unwrapped with
  the old master key and wrapped again under the new one, in place (an atomic file replace per
  key). The keys themselves do not change: ciphertexts, blind-index tokens and signed
  checkpoints and bundles stay valid.
* The **audit MAC, sealing and term-token keys** were derived from the master key. Changing
  them would break the chain's MACs, make sealed query terms unreadable and change every
  redacted plate token, so they are kept: the first rotation stores them, wrapped under the new
  master key, in the key store entry ``audit-keys``, and from then on ``KeyRing`` takes them
  from there instead of deriving them. The chain keeps verifying across the rotation, and the
  rotation itself is an audit event (``keys.rotated``) MACed with the same key.

The run is idempotent and survives a crash: every wrapped key is computed before the first file
is replaced, and a key that already unwraps under the new master key is left alone, so running
it again with the same two keys finishes a run that stopped half way. Processes still running
with the old master key would wrap new day keys under it: stop the API and the scheduler first.
"""

from __future__ import annotations

from dataclasses import dataclass

from alpr_guard.crypto import (
    AUDIT_KEYS_ID,
    derived_audit_secrets,
    master_key_id,
    unwrap_under,
    wrap_under,
)
from alpr_guard.errors import KeyUnavailable
from alpr_guard.keystore import KeyStore


@dataclass(frozen=True)
class RotationResult:
    rewrapped: int  # keys wrapped again under the new master key by this run
    already_new: int  # keys a previous, interrupted run had already re-wrapped
    audit_keys_stored: bool  # this run moved the audit keys into the key store
    old_key_id: str
    new_key_id: str

    def as_json(self) -> dict[str, object]:
        return {
            "rewrapped": self.rewrapped,
            "already_new": self.already_new,
            "audit_keys_stored": self.audit_keys_stored,
            "old_master_key_id": self.old_key_id,
            "new_master_key_id": self.new_key_id,
        }


def rotate_master_key(store: KeyStore, old_master: bytes, new_master: bytes) -> RotationResult:
    """Re-wrap every key in ``store`` from ``old_master`` to ``new_master``.

    Raises KeyUnavailable, before changing anything, if any key unwraps under neither (a key
    store that is not this instance's, or the wrong old key).
    """
    if old_master == new_master:
        raise KeyUnavailable("the new master key is the old one: generate a new key")
    pending: dict[str, bytes] = {}
    already = 0
    ids = store.key_ids()
    for key_id in ids:
        wrapped = store.get(key_id)
        if wrapped is None:  # destroyed by a purge since the listing: nothing to keep
            continue
        raw = unwrap_under(old_master, key_id, wrapped)
        if raw is None:
            if unwrap_under(new_master, key_id, wrapped) is not None:
                already += 1
                continue
            raise KeyUnavailable(
                f"key {key_id} unwraps under neither the old nor the new master key; "
                "nothing was changed"
            )
        pending[key_id] = wrap_under(new_master, key_id, raw)
    stored_audit = False
    if AUDIT_KEYS_ID not in ids:
        # Never rotated before: the audit keys are still derived from the old master key.
        secrets = b"".join(derived_audit_secrets(old_master))
        store.put_new(AUDIT_KEYS_ID, wrap_under(new_master, AUDIT_KEYS_ID, secrets))
        stored_audit = True
    for key_id, wrapped in pending.items():
        store.replace(key_id, wrapped)
    return RotationResult(
        rewrapped=len(pending),
        already_new=already,
        audit_keys_stored=stored_audit,
        old_key_id=master_key_id(old_master),
        new_key_id=master_key_id(new_master),
    )
