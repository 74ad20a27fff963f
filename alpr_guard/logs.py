"""Log output: one JSON object per line for the long-running processes, plain text for the CLI.

``serve`` and ``scheduler`` log JSON by default (``--log-format``, ``ALPR_GUARD_LOG_FORMAT``):
each line is ``{"time", "level", "logger", ...}``. A request line (``alpr_guard.api``) carries
its fields at the top level (request id, method, route, status, duration, user, agency, role,
client); any other line carries ``message``. The encoder escapes every control and non-ASCII
character, so nothing a client sends can start a line of its own. gunicorn's own lines
(start-up, worker boots and exits) go through the same formatter.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
FORMATS = ("json", "text")
_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), default=str)
# The attribute a request line's fields travel in (``logger.info(..., extra={FIELDS: ...})``).
FIELDS = "alpr_guard_fields"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, dict):
            line.update(fields)
        else:
            line["message"] = record.getMessage()
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _ENCODER.encode(line)


def formatter(fmt: str) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)


def use_format(fmt: str) -> None:
    """Every handler of the root logger writes ``fmt`` from now on."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter(fmt))


def gunicorn_config(fmt: str) -> dict[str, Any]:
    """gunicorn's ``logconfig_dict``: its error log and the root logger (this package's lines)
    to stderr in ``fmt``. gunicorn applies it in the master; the workers fork from there."""
    name = "alpr_guard.logs.JsonFormatter" if fmt == "json" else "logging.Formatter"
    spec: dict[str, Any] = {"()": name}
    if fmt != "json":
        spec["format"] = TEXT_FORMAT
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": spec},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "line",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
            # The app logs one line per request itself; gunicorn's access log stays off.
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }
