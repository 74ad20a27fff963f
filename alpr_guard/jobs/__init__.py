"""Processes outside a request: the scheduler's wiring (``jobs.scheduler``), and the runs that
need many transactions of their own, each through an explicit transaction runner
(``jobs.runner``): the retention purge (``jobs.purge``) and the access review
(``jobs.review``). Services do the work of each unit in a session they are given; what is
committed when is decided here."""
