"""``python -m alpr_guard`` is the same as the ``alpr-guard`` command."""

from alpr_guard.cli import main

main()
