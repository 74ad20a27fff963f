"""Who a command records as its operator (named, or the operating-system user, never a name
outside the audit actor's alphabet), and the small lines every listing shares."""

from __future__ import annotations

import getpass
import io
import sys

import pytest

from alpr_guard.cli.common import (
    MAX_OPERATOR,
    CliFailure,
    State,
    json_short,
    page_line,
    progress_for,
)
from alpr_guard.progress import SILENT, TerminalProgress


def test_the_operator_given_is_trimmed_and_becomes_the_actor() -> None:
    actor = State(None, "  desk.sergeant@cpd  ").actor("CA0199900")
    assert actor.name == "cli:desk.sergeant@cpd"
    assert actor.agency == "CA0199900"


def test_without_a_name_the_system_user_is_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(getpass, "getuser", lambda: "jdoe")
    assert State(None).operator() == "jdoe"


def test_a_nameless_container_user_must_pass_operator(monkeypatch: pytest.MonkeyPatch) -> None:
    def nameless() -> str:
        raise KeyError("uid 10001")

    monkeypatch.setattr(getpass, "getuser", nameless)
    with pytest.raises(CliFailure) as refused:
        State(None).operator()
    assert refused.value.exit_code == 2
    assert refused.value.message == (
        "this command records who runs it: pass --operator NAME "
        "(or set ALPR_GUARD_OPERATOR) before the command"
    )


def test_a_command_that_names_a_person_ignores_the_system_user(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(getpass, "getuser", lambda: "svc-alpr")
    with pytest.raises(CliFailure, match="pass --operator NAME"):
        State(None).operator(named=True)
    assert State(None, "ann").operator(named=True) == "ann"


@pytest.mark.parametrize("name", ["ann smith", "ann;rm", "x" * (MAX_OPERATOR + 1), "   "])
def test_an_operator_outside_the_alphabet_or_length(name: str) -> None:
    with pytest.raises(CliFailure) as refused:
        State(None, name).operator()
    assert refused.value.exit_code == 2
    assert refused.value.message.startswith("--operator: must be 1-56 characters")


def test_json_short_cuts_long_values() -> None:
    assert json_short({"a": 1}) == '{"a": 1}'
    long = json_short(["x" * 200])
    assert len(long) == 80 and long.endswith("...")


def test_page_lines() -> None:
    assert page_line("findings", 0, 0, 0) == "findings: none at offset 0 of 0"
    assert page_line("findings", 0, 50, 120) == "findings 1\u201350 of 120 (next page: --offset 50)"
    assert page_line("findings", 100, 20, 120) == "findings 101\u2013120 of 120"
    assert page_line("reads", 2000, 0, 1500) == "reads: none at offset 2,000 of 1,500"


def test_progress_only_when_asked_or_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert progress_for(None) is SILENT
    assert progress_for(False) is SILENT
    assert isinstance(progress_for(True), TerminalProgress)
