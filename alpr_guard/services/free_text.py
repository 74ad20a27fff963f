"""Free text in access records: sealed as typed, shown masked.

Officers type plates into justifications, case numbers, hold reasons and notes. The text as
typed is sealed under the audit key (``KeyRing.seal``), bound to its record by the associated
data, and readable only where the original is needed: the access review's text rules and the
``full`` access report. Everything else (listings, redacted exports, audit details) shows the
display copy, in which ``policy.redaction.mask_text`` has masked every plate-shaped token.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from alpr_guard.errors import KeyUnavailable
from alpr_guard.policy.redaction import mask_text
from alpr_guard.services.deps import Deps
from alpr_guard.services.reports import redact_text


def display(rt: Deps, text: str, plates: Iterable[str] = ()) -> str:
    """The display copy of ``text``: personal data (SSNs, dates of birth, licence, card and
    phone numbers, emails: ``reports.redact_text``) masked first, then ``plates`` and every
    plate-shaped token."""
    # A NUL cannot be stored in PostgreSQL text; the sealed original keeps it.
    clean = text.replace("\x00", "\ufffd")
    return mask_text(redact_text(clean), plates, rt.settings.search.case_number_pattern)


def display_opt(rt: Deps, text: str | None, plates: Iterable[str] = ()) -> str | None:
    return None if text is None else display(rt, text, plates)


def seal_texts(rt: Deps, texts: Mapping[str, object], aad: bytes) -> bytes:
    return rt.keyring.seal(json.dumps(dict(texts), sort_keys=True).encode(), aad)


def unseal_texts(rt: Deps, blob: bytes | None, aad: bytes) -> dict[str, object] | None:
    """The sealed texts, or None for a record written before free text was sealed, or whose
    sealed text fails authentication (tampering, which ``audit verify`` names)."""
    if blob is None:
        return None
    try:
        value = json.loads(rt.keyring.unseal(blob, aad))
    except (KeyUnavailable, ValueError):
        return None
    return value if isinstance(value, dict) else None


def original(rt: Deps, blob: bytes | None, aad: bytes, name: str, stored: str | None) -> str | None:
    """Field ``name`` as typed, falling back to the stored (display) text for old rows."""
    texts = unseal_texts(rt, blob, aad)
    if texts is None or name not in texts:
        return stored
    value = texts[name]
    return None if value is None else str(value)


def hold_aad(hold_id: bytes) -> bytes:
    return b"hold:" + hold_id


def hold_release_aad(hold_id: bytes) -> bytes:
    return b"hold-release:" + hold_id


def share_aad(share_id: bytes) -> bytes:
    return b"share:" + share_id


def note_aad(finding_id: int) -> bytes:
    return f"finding-note:{finding_id}".encode()
