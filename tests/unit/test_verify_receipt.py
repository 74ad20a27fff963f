"""A third party's check of a signed checkpoint or receipt: any edit is refused, any file gets
one line and never a crash."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alpr_guard.audit import canonical_json
from alpr_guard.checkpoints import FORMAT, RECEIPT_FORMAT, verify_signed_file
from alpr_guard.crypto import key_fingerprint

KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
PUBLIC_B64 = base64.b64encode(PUBLIC).decode()
RECEIPT: dict[str, Any] = {
    "format": RECEIPT_FORMAT,
    "instance": "CA0199900",
    "kind": "purge_receipt",
    "run_id": "6f1c0d0e-0000-4000-8000-000000000001",
    "seq": 42,
    "hash": "ab" * 32,
    "created_at": "2026-11-20T12:00:00+00:00",
    "receipt": {"deleted_by_class": {"unmatched": 3, "hit": 0}, "keys_destroyed": ["day-x"]},
}
CHECKPOINT: dict[str, Any] = {
    "format": FORMAT,
    "instance": "CA0199900",
    "seq": 7,
    "hash": "cd" * 32,
    "created_at": "2026-11-20T12:00:00+00:00",
}


def signed(wrapper: str, body: dict[str, Any]) -> str:
    signature = KEY.sign(canonical_json(body).encode())
    return json.dumps(
        {
            wrapper: body,
            "signature": {
                "algorithm": "Ed25519",
                "key_id": key_fingerprint(PUBLIC),
                "value": base64.b64encode(signature).decode(),
            },
        }
    )


def check(tmp_path: Path, content: str | bytes) -> tuple[bool, str]:
    path = tmp_path / "file.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return verify_signed_file(path, PUBLIC_B64)


def test_genuine_files_verify(tmp_path: Path) -> None:
    ok, line = check(tmp_path, signed("receipt", RECEIPT))
    assert ok and line.startswith(f"valid: purge receipt {RECEIPT['run_id']}")
    ok, line = check(tmp_path, signed("checkpoint", CHECKPOINT))
    assert ok and line.startswith("valid: ordinary checkpoint of instance CA0199900 at audit seq 7")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    wrapper=st.sampled_from(["receipt", "checkpoint"]),
    key=st.text(min_size=1, max_size=12),
    value=json_values,
)
def test_any_edit_of_the_signed_body_is_refused(
    tmp_path: Path, wrapper: str, key: str, value: object
) -> None:
    body = dict(RECEIPT if wrapper == "receipt" else CHECKPOINT)
    document = json.loads(signed(wrapper, body))
    if body.get(key, object()) == value:
        return  # not an edit
    document[wrapper][key] = value
    ok, line = check(tmp_path, json.dumps(document))
    assert not ok and line.startswith("invalid: ") and "\n" not in line


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_file_gets_one_line_and_never_a_crash(tmp_path: Path, content: bytes) -> None:
    ok, line = check(tmp_path, content)
    assert not ok and line.startswith("invalid: ") and "\n" not in line
