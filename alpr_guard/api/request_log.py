"""The one log line per request: JSON, so no client-supplied byte can start a line of its own.

Everything a client controls is escaped by the JSON encoder (``ensure_ascii``: CR, LF, the
Unicode line and paragraph separators, every other control and non-ASCII character become
``\\uXXXX``). The raw request path is never logged: a mistyped or hostile path may carry a plate.
The line names the matched route template instead, with only the path values that are ids
(integers or UUIDs); any other value shows as ``*``. No body, query string, header or token.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

_ARG = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))


def _safe_value(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and _UUID.fullmatch(value):
        return value.lower()
    return "*"


def logged_path(rule: str | None, view_args: Mapping[str, object] | None) -> str | None:
    """The route template with its id values filled in; None for a path no route matched."""
    if rule is None:
        return None
    args = view_args or {}
    return _ARG.sub(lambda m: _safe_value(args.get(m.group(1))), rule)


def request_line(fields: Mapping[str, object]) -> str:
    """One JSON object on one line."""
    return _ENCODER.encode(dict(fields))


class RequestLine:
    """The line as a log message argument, encoded only if a formatter asks for the message
    text (the JSON formatter writes the fields themselves and never does)."""

    __slots__ = ("fields",)

    def __init__(self, fields: Mapping[str, object]) -> None:
        self.fields = fields

    def __str__(self) -> str:
        return request_line(self.fields)
