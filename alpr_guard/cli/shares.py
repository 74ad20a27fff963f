"""``alpr-guard shares verify``: check a signed share file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from alpr_guard.cli.common import (
    State,
)

if TYPE_CHECKING:
    pass


@click.group("shares")
def shares_group() -> None:
    """Signed share bundles."""


@shares_group.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--public-key",
    default=None,
    help="Base64 Ed25519 public key of the issuer (default: this instance's key).",
)
@click.pass_obj
def shares_verify(state: State, file: Path, public_key: str | None) -> None:
    """Check a share bundle's signature; exit 1 if it was altered or forged."""
    import base64
    import binascii
    import json

    from alpr_guard.services.sharing import verify_bundle

    try:
        document = json.loads(file.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise click.BadParameter(f"not a JSON file: {exc}", param_hint="FILE") from None
    if public_key is not None:
        try:
            key = base64.b64decode(public_key, validate=True)
        except (binascii.Error, ValueError):
            raise click.BadParameter("not base64", param_hint="--public-key") from None
    else:
        from alpr_guard.crypto import SIGNING_KEY_ID, KeyRing
        from alpr_guard.keystore import FileKeyStore, read_master_key

        s = state.settings
        master = read_master_key(s.keys.master_key_file, s.keys.master_key_env, str(s.source))
        store = FileKeyStore(s.keys.keystore_dir)
        if store.get(SIGNING_KEY_ID) is None:
            raise click.UsageError("this instance has no signing key yet; pass --public-key")
        key = KeyRing(master, store).public_key_raw()
    ok, message = verify_bundle(document, key)
    click.echo(message)
    if not ok:
        sys.exit(1)


# -- review ---------------------------------------------------------------------------------
