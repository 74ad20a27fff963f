"""One log line per record: JSON with a request's fields at the top level or a message, the
exception inside the line, nothing a client sends able to start a line of its own; gunicorn's
own lines in the same form."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import replace
from pathlib import Path

from alpr_guard import logs
from alpr_guard.server import MAX_DEFAULT_WORKERS, default_workers
from alpr_guard.settings import load_settings
from tests.conftest import write_config


def record(message: str, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("alpr_guard.api", logging.INFO, __file__, 1, message, None, None)
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def test_a_request_line_carries_its_fields_not_a_message() -> None:
    fields = {"method": "GET", "route": "/api/v1/reads", "status": 200}
    line = json.loads(logs.JsonFormatter().format(record("ignored", **{logs.FIELDS: fields})))
    assert line["logger"] == "alpr_guard.api" and line["level"] == "INFO"
    assert {k: line[k] for k in fields} == fields
    assert "message" not in line


def test_a_message_with_a_newline_stays_on_one_line() -> None:
    text = logs.JsonFormatter().format(record('evil\n{"level": "CRITICAL"}\u2028'))
    assert "\n" not in text and "\u2028" not in text
    assert json.loads(text)["message"] == 'evil\n{"level": "CRITICAL"}\u2028'


def test_the_exception_is_inside_the_line() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        failed = record("failed", exc_info=sys.exc_info())
    text = logs.JsonFormatter().format(failed)
    assert "\n" not in text
    line = json.loads(text)
    assert line["message"] == "failed"
    assert "ValueError: broken" in line["exception"]


def test_use_format_switches_every_root_handler() -> None:
    root = logging.getLogger()
    handler = logging.StreamHandler()
    root.addHandler(handler)
    try:
        logs.use_format("text")
        assert type(handler.formatter) is logging.Formatter
        assert handler.formatter._fmt == logs.TEXT_FORMAT
        logs.use_format("json")
        assert isinstance(handler.formatter, logs.JsonFormatter)
    finally:
        root.removeHandler(handler)


def test_gunicorn_lines_in_either_format() -> None:
    as_json = logs.gunicorn_config("json")
    assert as_json["formatters"]["line"] == {"()": "alpr_guard.logs.JsonFormatter"}
    as_text = logs.gunicorn_config("text")
    assert as_text["formatters"]["line"] == {"()": "logging.Formatter", "format": logs.TEXT_FORMAT}
    for config in (as_json, as_text):
        assert config["loggers"]["gunicorn.access"]["handlers"] == []  # the app logs requests
        assert config["root"]["handlers"] == ["stderr"]


def test_workers_default_to_one_on_sqlite_and_a_bounded_few_on_postgresql(
    tmp_path: Path,
) -> None:
    settings = load_settings(write_config(tmp_path, "sqlite:///x.db"), compile_screening=False)
    sqlite = replace(settings, database=replace(settings.database, url="sqlite:///x.db"))
    assert default_workers(sqlite) == 1
    pg = replace(settings, database=replace(settings.database, url="postgresql+psycopg://db/x"))
    assert 1 <= default_workers(pg) <= MAX_DEFAULT_WORKERS
