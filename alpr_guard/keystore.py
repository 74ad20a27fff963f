"""Where data keys live: apart from the database, so a database backup alone is unreadable.

Every data key is stored *wrapped* (encrypted under a key derived from the master key). The
database holds only key metadata (ids, epochs, destruction times). Destroying a key deletes its
file from the key store: every copy of the rows it protected, including database backups taken
before the purge, becomes unreadable (NIST SP 800-88 cryptographic erase). That only holds if
key-store backups are kept on a shorter rotation than the shortest retention window; see the
README's "Key store backups".

``KeyStore`` is the seam a KMS or Vault transit engine implements; ``FileKeyStore`` is the
embedded default: one file per key in a directory, written atomically and created at most once
even when several processes race for the same day's key.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Protocol

from alpr_guard.errors import ConfigError, KeyUnavailable

MASTER_KEY_BYTES = 32
KEY_ID_RE = re.compile(r"^[a-z]+-[A-Za-z0-9-]{1,64}$")


class KeyStore(Protocol):
    def get(self, key_id: str) -> bytes | None:
        """The wrapped key, or None if it never existed or was destroyed."""
        ...

    def put_new(self, key_id: str, wrapped: bytes) -> bytes:
        """Store ``wrapped`` unless the key exists; return what is stored (first writer wins)."""
        ...

    def destroy(self, key_id: str) -> bool:
        """Delete the key for good. True if it existed."""
        ...

    def replace(self, key_id: str, wrapped: bytes) -> None:
        """Overwrite an existing key's wrapped form atomically (master-key rotation)."""
        ...

    def key_ids(self) -> list[str]: ...


def _check_key_id(key_id: str) -> None:
    if not KEY_ID_RE.match(key_id):
        raise ValueError(f"invalid key id {key_id!r}")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileKeyStore:
    """One file per wrapped key under ``directory`` (mode 0700, files 0600)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def ensure(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _path(self, key_id: str) -> Path:
        _check_key_id(key_id)
        return self.directory / f"{key_id}.wkey"

    def get(self, key_id: str) -> bytes | None:
        try:
            return self._path(key_id).read_bytes()
        except FileNotFoundError:
            return None

    def _write_temp(self, key_id: str, wrapped: bytes) -> Path:
        """``wrapped`` in a new 0600 temp file beside the key's final name, fsynced."""
        tmp = self.directory / f".{key_id}.{secrets.token_hex(8)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, wrapped)
            os.fsync(fd)
        finally:
            os.close(fd)
        return tmp

    def put_new(self, key_id: str, wrapped: bytes) -> bytes:
        final = self._path(key_id)
        tmp = self._write_temp(key_id, wrapped)
        try:
            # link() fails if the name exists, so two processes can never both "create" a key.
            os.link(tmp, final)
        except FileExistsError:
            return final.read_bytes()
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(self.directory)
        return wrapped

    def replace(self, key_id: str, wrapped: bytes) -> None:
        final = self._path(key_id)
        tmp = self._write_temp(key_id, wrapped)
        try:
            os.replace(tmp, final)  # atomic: a reader sees the old or the new form, never half
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(self.directory)

    def destroy(self, key_id: str) -> bool:
        path = self._path(key_id)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return False
        # Overwrite before unlinking: cheap, and it defeats undelete on simple filesystems.
        # The guarantee rests on the key being wrapped and on key-store backup rotation.
        with contextlib.suppress(OSError), path.open("r+b") as fh:
            fh.write(b"\0" * size)
            fh.flush()
            os.fsync(fh.fileno())
        path.unlink(missing_ok=True)
        _fsync_dir(self.directory)
        return True

    def key_ids(self) -> list[str]:
        if not self.directory.exists():
            return []
        return sorted(p.name.removesuffix(".wkey") for p in self.directory.glob("*.wkey"))


def generate_master_key() -> bytes:
    return secrets.token_bytes(MASTER_KEY_BYTES)


def encode_master_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii")


def decode_master_key(text: str, source: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ConfigError(f"{source}: master key is not valid base64") from None
    if len(key) != MASTER_KEY_BYTES:
        raise ConfigError(f"{source}: master key must be {MASTER_KEY_BYTES} bytes")
    return key


def write_master_key_file(path: Path) -> None:
    """Create a new master key file with 0600 permissions; never overwrite one."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (encode_master_key(generate_master_key()) + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_master_key(file: Path | None, env: str | None, config_source: str) -> bytes:
    """Load the master key from the file or environment variable the config names."""
    if env is not None:
        value = os.environ.get(env)
        if not value:
            raise ConfigError(
                f"{config_source}: keys.master_key_env: environment variable {env} is not set"
            )
        return decode_master_key(value, f"environment variable {env}")
    assert file is not None
    try:
        mode = file.stat().st_mode
        text = file.read_text("ascii")
    except FileNotFoundError:
        raise ConfigError(
            f"{config_source}: keys.master_key_file: {file} does not exist "
            "(create one with `alpr-guard keys init`)"
        ) from None
    except (PermissionError, UnicodeDecodeError):
        raise ConfigError(
            f"{config_source}: keys.master_key_file: {file} is not readable"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{config_source}: keys.master_key_file: {file} must not be readable "
            "by group or others (chmod 600)"
        )
    return decode_master_key(text, str(file))


def require_key(store: KeyStore, key_id: str) -> bytes:
    wrapped = store.get(key_id)
    if wrapped is None:
        raise KeyUnavailable(f"data key {key_id} is not in the key store (destroyed or missing)")
    return wrapped
