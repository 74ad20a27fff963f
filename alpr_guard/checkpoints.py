"""Signed checkpoints of the audit chain, kept outside the database.

The hash chain proves the log was not edited in place; it cannot, alone, prove the newest
events were not cut off, because a truncated chain is still a valid chain. A checkpoint (the
latest sequence number and chain hash, signed with the instance's Ed25519 key and written to a
directory outside the database, ``audit.checkpoint_dir``) pins the chain: ``audit verify`` then
reports a tail cut back past the last checkpoint as ``truncated``. In 2025 a sheriff could not
say who had switched national sharing back on because the logs could not show it; with
checkpoints kept off the database host, nobody can quietly rewrite that record either.

The audit log's own retention leaves a *retention* checkpoint (``"kind": "retention"`` in the
signed body, file ``checkpoint-<seq>-retention.json``) of the last event it removes, written and
fsynced before anything is deleted: ``audit verify`` then accepts a chain starting right after it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from alpr_guard.audit import Actor, Anchor, VerifyResult, canonical_json, verify_chain
from alpr_guard.crypto import key_fingerprint, verify_signature
from alpr_guard.errors import ConfigError, ValidationError
from alpr_guard.models import AuditEvent
from alpr_guard.runtime import Runtime

FORMAT = "alpr_guard.checkpoint.v1"
RETENTION = "retention"
# Both kinds load with one glob; a retention checkpoint never overwrites an ordinary one.
ALL_GLOB = "checkpoint-*.json"
RETENTION_GLOB = "checkpoint-*-retention.json"


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    path: Path


def checkpoint_dir(rt: Runtime) -> Path:
    directory = rt.settings.audit.checkpoint_dir
    if directory is None:
        raise ConfigError(f"{rt.settings.source}: audit.checkpoint_dir: is not set")
    return directory


def _fsync_directory(directory: Path) -> None:
    """Make a rename durable: the new name is in the directory only once the directory is."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_signed(rt: Runtime, directory: Path, name: str, body: dict[str, object]) -> Path:
    """Sign ``body`` with the instance's Ed25519 key; write it atomically and durably.

    The file is complete on disk (file and directory fsynced) before this returns, which is
    what lets the retention purge delete events only after its checkpoint exists.
    """
    signature = rt.keyring.signing_key().sign(canonical_json(body).encode())
    document = {
        "checkpoint": body,
        "signature": {
            "algorithm": "Ed25519",
            "key_id": key_fingerprint(rt.keyring.public_key_raw()),
            "value": base64.b64encode(signature).decode(),
        },
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    # A name of its own per writer: two processes checkpointing at once never share a temp file.
    tmp = directory / f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(document, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_directory(directory)
    return path


def _body(rt: Runtime, seq: int, digest: str, **extra: object) -> dict[str, object]:
    return {
        "format": FORMAT,
        "instance": rt.settings.instance.operating_agency,
        "seq": seq,
        "hash": digest,
        "created_at": rt.clock.now().isoformat(),
        **extra,
    }


def write_checkpoint(session: Session, rt: Runtime, actor: Actor) -> Checkpoint | None:
    """Sign the chain's current head and write it outside the database. None if empty."""
    directory = checkpoint_dir(rt)
    head = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    if head is None:
        return None
    seq, digest = head
    path = _write_signed(rt, directory, f"checkpoint-{seq:012d}.json", _body(rt, seq, digest))
    rt.audit.append(
        session, "audit.checkpoint", actor, details={"seq": seq, "hash": digest, "file": path.name}
    )
    return Checkpoint(seq, digest, path)


def write_retention_checkpoint(
    rt: Runtime, *, seq: int, digest: str, first_seq: int, cutoff: datetime
) -> Checkpoint:
    """Vouch for event ``seq`` (hash ``digest``) before the retention purge removes it and
    everything from ``first_seq`` up to it: the chain may then start at ``seq + 1``.

    No audit event here: the purge records the removal, with this file's name, in the same
    transaction as the delete.
    """
    directory = checkpoint_dir(rt)
    body = _body(rt, seq, digest, kind=RETENTION, first_seq=first_seq, cutoff=cutoff.isoformat())
    path = _write_signed(rt, directory, f"checkpoint-{seq:012d}-{RETENTION}.json", body)
    return Checkpoint(seq, digest, path)


def load_anchors(
    directory: Path | None, public_key: bytes, instance: str, pattern: str = ALL_GLOB
) -> list[Anchor]:
    """Every checkpoint in ``directory``, each signature checked; a forged one is an error."""
    if directory is None or not directory.exists():
        return []
    anchors = []
    for path in sorted(directory.glob(pattern)):
        try:
            document = json.loads(path.read_text("utf-8"))
            body = document["checkpoint"]
            signature = base64.b64decode(document["signature"]["value"], validate=True)
            seq, digest = int(body["seq"]), str(body["hash"])
        except (OSError, ValueError, KeyError, TypeError, binascii.Error):
            raise ValidationError({str(path): "is not a readable checkpoint"}) from None
        if body.get("instance") != instance or not verify_signature(
            public_key, signature, canonical_json(body).encode()
        ):
            raise ValidationError(
                {
                    str(path): "signature does not verify: the checkpoint was "
                    "altered or comes from another instance"
                }
            )
        anchors.append(Anchor(seq, digest, retention=body.get("kind") == RETENTION))
    return anchors


def rt_anchors(rt: Runtime, *, retention_only: bool = False) -> list[Anchor]:
    """The instance's checkpoints; ``retention_only``: just those that may start the chain."""
    anchors = load_anchors(
        rt.settings.audit.checkpoint_dir,
        rt.keyring.public_key_raw(),
        rt.settings.instance.operating_agency,
        RETENTION_GLOB if retention_only else ALL_GLOB,
    )
    return [a for a in anchors if a.retention] if retention_only else anchors


def verify_with_checkpoints(session: Session, rt: Runtime) -> VerifyResult:
    """What ``audit verify`` answers: the chain walk against every signed checkpoint, then
    every access record against the events stating it (``record_chain.with_records``)."""
    from alpr_guard.record_chain import with_records

    return with_records(session, rt.keyring, _verify_chain_with_checkpoints(session, rt))


def _verify_chain_with_checkpoints(session: Session, rt: Runtime) -> VerifyResult:
    """The chain walk against every signed checkpoint.

    The checkpoints are read before the walk, so every ordinary one pins an event the walk can
    see. A retention purge committing in between would make the chain start after a checkpoint
    not yet read; its checkpoint was on disk before its delete, so a chain whose start is not
    vouched for is looked at once more with the retention checkpoints read again.
    """
    anchors = rt_anchors(rt)
    result = verify_chain(session, rt.keyring, anchors)
    if result.ok or result.problem != "deleted" or result.checked:
        return result
    fresh = [a for a in rt_anchors(rt, retention_only=True) if a not in anchors]
    if not fresh:
        return result
    return verify_chain(session, rt.keyring, [*anchors, *fresh])
