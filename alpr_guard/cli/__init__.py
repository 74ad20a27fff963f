"""The ``alpr-guard`` command: admins run the system from here and from config files.

Every command loads the configuration first and fails closed: a bad config prints one line that
names the file and the key, and the command exits 2. One module per command group; ``app``
assembles them under the root group, ``main`` turns every failure into one actionable line.
"""

from alpr_guard.cli.app import cli
from alpr_guard.cli.main import main

__all__ = ["cli", "main"]
