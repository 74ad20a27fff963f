"""Signed checkpoints of the audit chain, kept outside the database.

The hash chain proves the log was not edited in place; it cannot, alone, prove the newest
events were not cut off, because a truncated chain is still a valid chain. A checkpoint (the
latest sequence number and chain hash, signed with the instance's Ed25519 key and written to
every directory in ``audit.checkpoint_dirs``, outside the database) pins the chain: ``audit
verify`` then reports a tail cut back past the last checkpoint as ``truncated``, and always says
how many events follow the newest checkpoint (those could still be cut off unnoticed).

Three kinds of signed file, each written atomically and fsynced to every directory:

* ``checkpoint-head.json``: the chain head, replaced every ``audit.checkpoint_interval_seconds``
  while events are written and when ``serve`` or ``scheduler`` stops, so the unpinned tail is
  about a minute long. It is only ever moved forward along the same chain: a head that the
  database no longer extends (events deleted or rewritten) is kept as the evidence.
* ``checkpoint-<seq>.json``: permanent checkpoints (``audit.checkpoint_schedule``, hourly, and
  ``alpr-guard audit checkpoint``), each also an ``audit.checkpoint`` event.
* ``receipt-purge-<run id>.json``: each completed purge's receipt, which also pins the chain at
  its ``purge.completed`` event.

Each is ``{"checkpoint"|"receipt": body, "signature": {...}}``; anyone holding the instance's
public key can check one with ``alpr-guard audit verify-receipt`` (no master key, database or
config). With several directories (one may be a mounted remote), ``audit verify`` reports a
directory that lacks files the others have or disagrees with them. In 2025 a sheriff could not
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
import logging
import os
import re
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from alpr_guard.audit import (
    Actor,
    Anchor,
    AuditLog,
    VerifyResult,
    canonical_json,
    event_hash,
    verify_chain,
)
from alpr_guard.clock import Clock
from alpr_guard.crypto import KeyRing, key_fingerprint, verify_signature
from alpr_guard.errors import AlprGuardError, ConfigError, NotFound, ValidationError
from alpr_guard.models import AuditEvent, PurgeRun
from alpr_guard.progress import SILENT, Progress
from alpr_guard.record_chain import with_records
from alpr_guard.settings import Settings
from alpr_guard.vocabulary import AuditKind, PurgeStatus

FORMAT = "alpr_guard.checkpoint.v1"
RECEIPT_FORMAT = "alpr_guard.purge_receipt.v1"
RETENTION = "retention"
HEAD_NAME = "checkpoint-head.json"
# Both checkpoint kinds load with one glob; a retention checkpoint never overwrites an ordinary
# one. The head matches it too.
ALL_GLOB = "checkpoint-*.json"
RETENTION_GLOB = "checkpoint-*-retention.json"
RECEIPT_GLOB = "receipt-purge-*.json"
SIGNED_GLOBS = (ALL_GLOB, RECEIPT_GLOB)

log = logging.getLogger(__name__)


class Signer(Protocol):
    """What writing and checking checkpoints needs: the settings (directories, instance), the
    keys that sign, the clock and the audit log that records a write. ``runtime.Runtime``
    satisfies it; this module sits below the composition root and never imports it."""

    @property
    def settings(self) -> Settings: ...
    @property
    def keyring(self) -> KeyRing: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def audit(self) -> AuditLog: ...


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    path: Path  # in the first directory
    paths: tuple[Path, ...] = ()  # one per directory written


def checkpoint_dirs(rt: Signer) -> tuple[Path, ...]:
    directories = rt.settings.audit.checkpoint_dirs
    if not directories:
        raise ConfigError(f"{rt.settings.source}: audit.checkpoint_dirs: is not set")
    return directories


def _unusable(rt: Signer, index: int, directory: Path, exc: OSError) -> ConfigError:
    reason = exc.strerror or type(exc).__name__
    return ConfigError(
        f"{rt.settings.source}: {rt.settings.audit.dir_key(index)}: {directory} is not "
        f"usable ({reason}); no checkpoint was written there"
    )


def ensure_dirs(rt: Signer) -> None:
    """Fail closed at start-up: every checkpoint directory exists (or is created) and takes a
    durable write. A ConfigError names the key of the first that does not."""
    for index, directory in enumerate(rt.settings.audit.checkpoint_dirs):
        probe = directory / f".probe.{os.getpid()}.{secrets.token_hex(4)}"
        try:
            directory.mkdir(parents=True, exist_ok=True)
            with probe.open("w", encoding="utf-8") as fh:
                fh.write("probe")
                fh.flush()
                os.fsync(fh.fileno())
            probe.unlink()
        except OSError as exc:
            raise _unusable(rt, index, directory, exc) from None


def _fsync_directory(directory: Path) -> None:
    """Make a rename durable: the new name is in the directory only once the directory is."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _signed(rt: Signer, wrapper: str, body: dict[str, object]) -> dict[str, object]:
    signature = rt.keyring.signing_key().sign(canonical_json(body).encode())
    return {
        wrapper: body,
        "signature": {
            "algorithm": "Ed25519",
            "key_id": key_fingerprint(rt.keyring.public_key_raw()),
            "value": base64.b64encode(signature).decode(),
        },
    }


def _write_file(directory: Path, name: str, document: Mapping[str, object]) -> Path:
    """Write ``document`` as ``directory/name`` atomically and durably (file and directory
    fsynced before this returns), which is what lets the retention purge delete events only
    after its checkpoint exists."""
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


def _write_everywhere(
    rt: Signer, name: str, document: Mapping[str, object], only: Iterable[int] | None = None
) -> tuple[Path, ...]:
    """The same signed file in every directory (or those in ``only``); the first directory
    that cannot take it stops the write with a ConfigError naming its key (fail closed)."""
    directories = checkpoint_dirs(rt)
    wanted = set(range(len(directories)) if only is None else only)
    paths = []
    for index, directory in enumerate(directories):
        if index not in wanted:
            continue
        try:
            paths.append(_write_file(directory, name, document))
        except OSError as exc:
            raise _unusable(rt, index, directory, exc) from None
    return tuple(paths)


def _body(rt: Signer, seq: int, digest: str, **extra: object) -> dict[str, object]:
    return {
        "format": FORMAT,
        "instance": rt.settings.instance.operating_agency,
        "seq": seq,
        "hash": digest,
        "created_at": rt.clock.now().isoformat(),
        **extra,
    }


def _head(session: Session) -> tuple[int, str] | None:
    row = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


def write_checkpoint(session: Session, rt: Signer, actor: Actor) -> Checkpoint | None:
    """Sign the chain's current head and write it outside the database. None if empty."""
    checkpoint_dirs(rt)
    head = _head(session)
    if head is None:
        return None
    seq, digest = head
    name = f"checkpoint-{seq:012d}.json"
    paths = _write_everywhere(rt, name, _signed(rt, "checkpoint", _body(rt, seq, digest)))
    rt.audit.append(
        session,
        AuditKind.AUDIT_CHECKPOINT,
        actor,
        details={"seq": seq, "hash": digest, "file": name},
    )
    return Checkpoint(seq, digest, paths[0], paths)


def write_head_checkpoint(session: Session, rt: Signer) -> Checkpoint | None:
    """Move ``checkpoint-head.json`` forward to the chain head in every directory.

    Nothing is written where the head file already pins the current head (no event since), so
    an idle instance writes nothing. A head file the database no longer extends (its event is
    gone or has another hash) or that does not verify is left in place as evidence and logged;
    ``audit verify`` reports it. No audit event: the file is the record, and an event per
    checkpoint would itself always be an unpinned tail.
    """
    directories = rt.settings.audit.checkpoint_dirs
    head = _head(session) if directories else None
    if head is None:
        return None
    seq, digest = head
    public_key = rt.keyring.public_key_raw()
    instance = rt.settings.instance.operating_agency
    stale = []
    for index, directory in enumerate(directories):
        path = directory / HEAD_NAME
        if not path.exists():
            stale.append(index)
            continue
        try:
            pinned = _load_file(path, public_key, instance)
        except ValidationError:
            log.error("%s does not verify; kept as evidence, not replaced", path)
            continue
        if pinned.seq == seq and pinned.hash == digest:
            continue  # nothing written since
        stored = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == pinned.seq))
        if pinned.seq > seq or stored != pinned.hash:
            log.error(
                "%s pins seq %d, which the audit chain no longer holds as signed; kept as "
                "evidence, not replaced",
                path,
                pinned.seq,
            )
            continue
        stale.append(index)
    if not stale:
        return None
    document = _signed(rt, "checkpoint", _body(rt, seq, digest, kind="head"))
    paths = _write_everywhere(rt, HEAD_NAME, document, stale)
    return Checkpoint(seq, digest, paths[0], paths)


def write_retention_checkpoint(
    rt: Signer, *, seq: int, digest: str, first_seq: int, cutoff: datetime
) -> Checkpoint:
    """Vouch for event ``seq`` (hash ``digest``) before the retention purge removes it and
    everything from ``first_seq`` up to it: the chain may then start at ``seq + 1``.

    No audit event here: the purge records the removal, with this file's name, in the same
    transaction as the delete.
    """
    body = _body(rt, seq, digest, kind=RETENTION, first_seq=first_seq, cutoff=cutoff.isoformat())
    name = f"checkpoint-{seq:012d}-{RETENTION}.json"
    paths = _write_everywhere(rt, name, _signed(rt, "checkpoint", body))
    return Checkpoint(seq, digest, paths[0], paths)


def write_purge_receipt(
    rt: Signer, *, run_id: str, seq: int, digest: str, receipt: Mapping[str, object]
) -> tuple[Path, ...]:
    """Export a completed purge's receipt (the ``purge.completed`` event at ``seq``) as a
    signed file into every checkpoint directory; nothing without directories.

    The receipt pins the chain at its event too, so it is read as a checkpoint by ``audit
    verify``; a third party checks it with the public key alone.
    """
    if not rt.settings.audit.checkpoint_dirs:
        return ()
    document = _receipt_document(rt, run_id, seq, digest, receipt)
    return _write_everywhere(rt, f"receipt-purge-{run_id}.json", document)


def _receipt_document(
    rt: Signer, run_id: str, seq: int, digest: str, receipt: Mapping[str, object]
) -> dict[str, object]:
    body = {
        "format": RECEIPT_FORMAT,
        "instance": rt.settings.instance.operating_agency,
        "kind": "purge_receipt",
        "run_id": run_id,
        "seq": seq,
        "hash": digest,
        "created_at": rt.clock.now().isoformat(),
        "receipt": dict(receipt),
    }
    return _signed(rt, "receipt", body)


class ReceiptUnavailable(AlprGuardError):
    """A completed purge's receipt cannot be signed: it is gone from the chain or was edited."""

    code = "receipt_unavailable"
    status = 409


def purge_receipt_document(session: Session, rt: Signer, run_id: uuid.UUID) -> dict[str, object]:
    """A signed receipt of a completed purge, built again from its ``purge.completed`` event
    (``alpr-guard audit export-receipt``): for a run whose export failed, or to hand to a third
    party. Refused if the event no longer carries a valid MAC: an edited receipt is never signed.
    """
    run = session.get(PurgeRun, run_id)
    if run is None or run.status != PurgeStatus.COMPLETED or run.audit_seq is None:
        raise NotFound("no completed purge run with that id")
    event = session.get(AuditEvent, run.audit_seq)
    if (
        event is None
        or event.kind != AuditKind.PURGE_COMPLETED
        or event.subject != f"purge:{run_id}"
    ):
        raise ReceiptUnavailable(
            f"the receipt event (audit seq {run.audit_seq}) is no longer in the audit chain"
        )
    if event_hash(rt.keyring, event) != event.hash:
        raise ReceiptUnavailable(
            f"the receipt event (audit seq {run.audit_seq}) does not verify: it was edited"
        )
    return _receipt_document(rt, str(run_id), event.seq, event.hash, json.loads(event.details))


VERIFICATION = "verification"


def verification_receipt_document(session: Session, rt: Signer, seq: int) -> dict[str, object]:
    """A signed receipt of a chain verification, built from its ``audit.verified`` event: the
    result, who ran it and when, pinned at that event's sequence number and hash. A checkpoint
    file of kind ``verification``: anyone with the public key checks it with ``alpr-guard audit
    verify-receipt``. Refused if the event no longer carries a valid MAC."""
    event = session.get(AuditEvent, seq)
    if event is None or event.kind != AuditKind.AUDIT_VERIFIED:
        raise NotFound("no chain verification with that sequence number")
    if event_hash(rt.keyring, event) != event.hash:
        raise ReceiptUnavailable(f"the verification event (audit seq {seq}) does not verify")
    body = _body(
        rt,
        event.seq,
        event.hash,
        kind=VERIFICATION,
        verified_at=event.occurred_at.isoformat(),
        verified_by=event.actor,
        result=json.loads(event.details),
    )
    return _signed(rt, "checkpoint", body)


@dataclass(frozen=True)
class SignedFile:
    """A checkpoint or purge receipt in the first checkpoint directory, as listed to auditors."""

    name: str
    kind: str  # head, ordinary, retention, purge_receipt
    seq: int | None
    created_at: str | None
    valid: bool
    summary: str


SIGNED_NAME = re.compile(
    r"^(?:checkpoint-head|checkpoint-[0-9]{12}(?:-retention)?|receipt-purge-[0-9a-f-]{36})\.json$"
)


def list_signed_files(rt: Signer, limit: int = 200) -> list[SignedFile]:
    """The newest signed files of the first checkpoint directory, each signature checked with
    the instance's public key (what a third party would run)."""
    directories = rt.settings.audit.checkpoint_dirs
    if not directories or not directories[0].is_dir():
        return []
    public = base64.b64encode(rt.keyring.public_key_raw()).decode()
    paths = sorted(
        (p for p in directories[0].iterdir() if SIGNED_NAME.match(p.name)),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )[:limit]
    files = []
    for path in paths:
        valid, summary = verify_signed_file(path, public)
        try:
            wrapper, body, _sig, _key = read_signed(path)
            seq = int(body["seq"]) if isinstance(body.get("seq"), int) else None
            created = str(body.get("created_at")) if body.get("created_at") else None
            kind = "purge_receipt" if wrapper == "receipt" else str(body.get("kind", "ordinary"))
        except ValueError:
            seq, created, kind = None, None, "unreadable"
        files.append(SignedFile(path.name, kind, seq, created, valid, summary))
    return files


def signed_file_path(rt: Signer, name: str) -> Path:
    """The path of a signed file of the first directory, by a name ``list_signed_files`` could
    list (nothing else: no path is built from other input)."""
    directories = rt.settings.audit.checkpoint_dirs
    if not SIGNED_NAME.match(name) or not directories:
        raise NotFound("no such checkpoint or receipt")
    path = directories[0] / name
    if not path.is_file():
        raise NotFound("no such checkpoint or receipt")
    return path


# -- reading -------------------------------------------------------------------------------


def read_signed(path: Path) -> tuple[str, dict[str, Any], bytes, str]:
    """(wrapper, body, signature, key id) of a signed checkpoint or receipt file.

    Raises ValueError saying what is wrong with the file's shape.
    """
    try:
        document = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot be read ({type(exc).__name__})") from None
    except ValueError:
        raise ValueError("is not JSON") from None
    if not isinstance(document, dict):
        raise ValueError("is not a signed checkpoint or receipt")
    wrappers = [w for w in ("checkpoint", "receipt") if w in document]
    if len(wrappers) != 1 or not isinstance(document[wrappers[0]], dict):
        raise ValueError("is not a signed checkpoint or receipt")
    signature = document.get("signature")
    if not isinstance(signature, dict) or signature.get("algorithm") != "Ed25519":
        raise ValueError("has no Ed25519 signature")
    try:
        value = base64.b64decode(str(signature.get("value", "")), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("has a signature that is not base64") from None
    return wrappers[0], document[wrappers[0]], value, str(signature.get("key_id", ""))


def verify_signed_file(path: Path, public_key_b64: str) -> tuple[bool, str]:
    """A third party's check of a checkpoint or purge receipt: the public key is all it needs.

    Returns (valid, one line saying what the file vouches for, or why it is not valid).
    """
    try:
        public_key = base64.b64decode(public_key_b64, validate=True)
    except (binascii.Error, ValueError):
        return False, "invalid: --public-key is not base64"
    if len(public_key) != 32:
        return False, "invalid: --public-key is not a 32-byte Ed25519 public key"
    try:
        wrapper, body, signature, key_id = read_signed(path)
    except ValueError as exc:
        return False, f"invalid: {path.name} {exc}"
    expected = FORMAT if wrapper == "checkpoint" else RECEIPT_FORMAT
    if body.get("format") != expected:
        return False, f"invalid: unknown format {_clean(body.get('format'))!r}"
    fingerprint = key_fingerprint(public_key)
    if key_id and key_id != fingerprint:
        return False, (
            f"invalid: signed by another key (key id {_clean(key_id)}, given {fingerprint})"
        )
    if not verify_signature(public_key, signature, canonical_json(body).encode()):
        return False, "invalid: the signature does not verify (the file was altered)"
    what = (
        f"purge receipt {_clean(body.get('run_id'))}"
        if wrapper == "receipt"
        else f"{_clean(body.get('kind', 'ordinary'))} checkpoint"
    )
    return True, (
        f"valid: {what} of instance {_clean(body.get('instance'))} at audit seq "
        f"{_clean(body.get('seq'))} (hash {_clean(body.get('hash'))[:16]}...), created "
        f"{_clean(body.get('created_at'))}, signed by key {fingerprint}"
    )


def _clean(value: object) -> str:
    """A file's value fit for the one output line: printable, short."""
    text = str(value)[:64]
    return "".join(c if c.isprintable() else "?" for c in text)


def _load_file(path: Path, public_key: bytes, instance: str) -> Anchor:
    try:
        wrapper, body, signature, _key_id = read_signed(path)
        seq, digest = int(body["seq"]), str(body["hash"])
    except (ValueError, KeyError, TypeError):
        raise ValidationError({str(path): "is not a readable checkpoint"}) from None
    expected = FORMAT if wrapper == "checkpoint" else RECEIPT_FORMAT
    if (
        body.get("format") != expected
        or body.get("instance") != instance
        or not verify_signature(public_key, signature, canonical_json(body).encode())
    ):
        raise ValidationError(
            {
                str(path): "signature does not verify: the checkpoint was "
                "altered or comes from another instance"
            }
        )
    retention = wrapper == "checkpoint" and body.get("kind") == RETENTION
    return Anchor(seq, digest, retention=retention)


def _load_dir(
    directory: Path, public_key: bytes, instance: str, patterns: Iterable[str]
) -> dict[str, Anchor]:
    paths = sorted({p for pattern in patterns for p in directory.glob(pattern)})
    return {path.name: _load_file(path, public_key, instance) for path in paths}


def load_anchors(
    directory: Path | None, public_key: bytes, instance: str, pattern: str = ALL_GLOB
) -> list[Anchor]:
    """Every checkpoint in ``directory``, each signature checked; a forged one is an error."""
    if directory is None or not directory.exists():
        return []
    return list(_load_dir(directory, public_key, instance, (pattern,)).values())


@dataclass(frozen=True)
class DirectoryScan:
    """Each directory's signed files (None: the directory is missing), as ``audit verify``
    reads them."""

    directories: tuple[Path, ...]
    files: tuple[dict[str, Anchor] | None, ...]

    def anchors(self) -> list[Anchor]:
        seen: dict[tuple[int, str, bool], Anchor] = {}
        for files in self.files:
            for anchor in (files or {}).values():
                seen.setdefault((anchor.seq, anchor.hash, anchor.retention), anchor)
        return sorted(seen.values(), key=lambda a: (a.seq, a.retention))


def scan_dirs(rt: Signer) -> DirectoryScan:
    """Read every checkpoint directory; a file that does not verify is a ValidationError."""
    public_key = rt.keyring.public_key_raw()
    instance = rt.settings.instance.operating_agency
    directories = rt.settings.audit.checkpoint_dirs
    files = tuple(
        _load_dir(d, public_key, instance, SIGNED_GLOBS) if d.is_dir() else None
        for d in directories
    )
    return DirectoryScan(directories, files)


def directory_problems(rt: Signer, scan: DirectoryScan) -> tuple[str, ...]:
    """Each directory missing a file another has, holding one that disagrees, or whose head
    checkpoint is behind another's, named by its config key."""
    present = [f for f in scan.files if f is not None]
    if len(scan.directories) < 2 or not any(present):
        return ()  # nothing to compare (a lone directory's losses show in the verify result)
    names = {name for files in present for name in files if name != HEAD_NAME}
    heads = [f[HEAD_NAME].seq for f in present if HEAD_NAME in f]
    problems = []
    for index, (directory, files) in enumerate(zip(scan.directories, scan.files, strict=True)):
        where = f"{rt.settings.audit.dir_key(index)} ({directory})"
        if files is None:
            problems.append(f"{where}: is missing")
            continue
        missing = sorted(names - set(files))
        if missing:
            problems.append(
                f"{where}: lacks {len(missing)} signed files the other directories have "
                f"(first {missing[0]})"
            )
        for name in sorted(names & set(files)):
            others = {o[name] for o in present if name in o}
            if len(others) > 1:
                problems.append(f"{where}: {name} disagrees with another directory's copy")
        head = files.get(HEAD_NAME)
        if heads and (head is None or head.seq < max(heads)):
            pinned = "none" if head is None else f"seq {head.seq}"
            problems.append(
                f"{where}: head checkpoint is behind ({pinned}, another directory has "
                f"seq {max(heads)})"
            )
    return tuple(problems)


def rt_anchors(
    rt: Signer, *, retention_only: bool = False, scan: DirectoryScan | None = None
) -> list[Anchor]:
    """The instance's checkpoints and receipts from every directory, deduplicated;
    ``retention_only``: just those that may start the chain."""
    anchors = (scan or scan_dirs(rt)).anchors()
    return [a for a in anchors if a.retention] if retention_only else anchors


def _tail(result: VerifyResult, anchors: Iterable[Anchor]) -> VerifyResult:
    """How many events of a whole chain follow the newest checkpoint within it."""
    if not result.ok:
        return result
    if result.last_seq is None:
        return replace(result, events_after_checkpoint=0)
    first = result.first_seq or 1
    pinned = [a.seq for a in anchors if first - 1 <= a.seq <= result.last_seq]
    last = max(pinned) if pinned else None
    after = result.last_seq - (last if last is not None else first - 1)
    return replace(result, last_checkpoint_seq=last, events_after_checkpoint=after)


def verify_with_checkpoints(
    session: Session, rt: Signer, progress: Progress = SILENT
) -> VerifyResult:
    """What ``audit verify`` answers: the chain walk against every signed checkpoint, then
    every access record against the events stating it (``record_chain.with_records``)."""

    return with_records(session, rt.keyring, _verify_chain_with_checkpoints(session, rt, progress))


def _verify_chain_with_checkpoints(
    session: Session, rt: Signer, progress: Progress = SILENT
) -> VerifyResult:
    """The chain walk against every signed checkpoint.

    The checkpoints are read before the walk, so every ordinary one pins an event the walk can
    see. A retention purge committing in between would make the chain start after a checkpoint
    not yet read; its checkpoint was on disk before its delete, so a chain whose start is not
    vouched for is looked at once more with the retention checkpoints read again.

    The result also says how many events follow the newest checkpoint, and names checkpoint
    directories that disagree (which fails the verification even when the chain is whole).
    """
    scan = scan_dirs(rt)
    anchors = rt_anchors(rt, scan=scan)
    result = verify_chain(session, rt.keyring, anchors, progress=progress)
    if not result.ok and result.problem == "deleted" and not result.checked:
        fresh = [a for a in rt_anchors(rt, retention_only=True) if a not in anchors]
        if fresh:
            anchors = [*anchors, *fresh]
            result = verify_chain(session, rt.keyring, anchors, progress=progress)
    progress.finish()
    result = _tail(result, anchors)
    problems = directory_problems(rt, scan)
    if problems:
        result = replace(result, directory_problems=problems)
        if result.ok:
            result = replace(result, ok=False, problem="checkpoint_dirs_disagree")
    return result
