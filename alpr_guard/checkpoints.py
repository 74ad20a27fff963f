"""Signed checkpoints of the audit chain, kept outside the database.

The hash chain proves the log was not edited in place; it cannot, alone, prove the newest
events were not cut off, because a truncated chain is still a valid chain. A checkpoint (the
latest sequence number and chain hash, signed with the instance's Ed25519 key and written to a
directory outside the database, ``audit.checkpoint_dir``) pins the chain: ``audit verify`` then
reports a tail cut back past the last checkpoint as ``truncated``. In 2025 a sheriff could not
say who had switched national sharing back on because the logs could not show it; with
checkpoints kept off the database host, nobody can quietly rewrite that record either.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from alpr_guard.audit import Actor, Anchor, canonical_json
from alpr_guard.crypto import key_fingerprint, verify_signature
from alpr_guard.errors import ConfigError, ValidationError
from alpr_guard.models import AuditEvent
from alpr_guard.runtime import Runtime

FORMAT = "alpr_guard.checkpoint.v1"


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


def write_checkpoint(session: Session, rt: Runtime, actor: Actor) -> Checkpoint | None:
    """Sign the chain's current head and write it outside the database. None if empty."""
    directory = checkpoint_dir(rt)
    head = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    if head is None:
        return None
    seq, digest = head
    body = {
        "format": FORMAT,
        "instance": rt.settings.instance.operating_agency,
        "seq": seq,
        "hash": digest,
        "created_at": rt.clock.now().isoformat(),
    }
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
    path = directory / f"checkpoint-{seq:012d}.json"
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(document, fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    rt.audit.append(
        session, "audit.checkpoint", actor, details={"seq": seq, "hash": digest, "file": path.name}
    )
    return Checkpoint(seq, digest, path)


def load_anchors(directory: Path | None, public_key: bytes, instance: str) -> list[Anchor]:
    """Every checkpoint in ``directory``, each signature checked; a forged one is an error."""
    if directory is None or not directory.exists():
        return []
    anchors = []
    for path in sorted(directory.glob("checkpoint-*.json")):
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
        anchors.append(Anchor(seq, digest, retention=body.get("kind") == "retention"))
    return anchors


def rt_anchors(rt: Runtime) -> list[Anchor]:
    return load_anchors(
        rt.settings.audit.checkpoint_dir,
        rt.keyring.public_key_raw(),
        rt.settings.instance.operating_agency,
    )
