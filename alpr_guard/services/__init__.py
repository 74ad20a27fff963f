"""Use cases. Services take a session and plain values, flush but never commit, and return
frozen dataclasses; the edges (API views, CLI, jobs) own the transaction (house rules 3, 4)."""
