"""Compile the screening rules in a child interpreter and take the result back whole.

Compiling the word lists makes and drops hundreds of thousands of short-lived objects (the
expanded phrases and the trie nodes that turn out to repeat another subtree), and the few
thousand that stay are scattered among them. A long-lived process that compiled in place kept
the whole fragmented heap: some 20 MB for 8 MB of rules, and every server worker forked from
it inherits those pages. Compiled in a child and sent back as one pickle (under 1 MB), the
rules are unpickled into a few compact MB in a fraction of a second.

The parent only ever unpickles what its own child, started from this package with the
parent's interpreter, wrote to a pipe: no file, no network, nothing another user can reach.
Anything that goes wrong in the child (a broken rules file among it) makes the caller compile
in place instead, which raises the usual error naming the key.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from alpr_guard.policy.text_rules import TextRules, load_text_rules

_TIMEOUT_S = 300  # a compile takes seconds; a child that hangs is given up, never waited on


def compile_apart(table: Mapping[str, object], where: str) -> TextRules | None:
    """The compiled rules, built in a child interpreter; None if that could not be done."""
    try:
        request = json.dumps({"table": table, "where": where}).encode()
    except (TypeError, ValueError):
        return None  # not a plain table (a TOML date, say): the caller compiles in place
    package_root = str(Path(__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": package_root + (os.pathsep + path if path else "")}
    try:
        done = subprocess.run(  # noqa: S603 - this interpreter, this package's own module
            [sys.executable, "-m", __name__],
            input=request,
            capture_output=True,
            env=env,
            timeout=_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    try:
        rules = pickle.loads(done.stdout)  # noqa: S301 - written by our own child (see above)
    except Exception:  # any unreadable answer: compile in place instead
        return None
    return rules if isinstance(rules, TextRules) else None


def main() -> int:
    request = json.loads(sys.stdin.buffer.read())
    rules = load_text_rules(request["table"], request["where"])
    sys.stdout.buffer.write(pickle.dumps(rules, protocol=pickle.HIGHEST_PROTOCOL))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
