"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest

from alpr_guard.settings import Settings, load_settings
from tests.unit.screening_cases import CONFIG


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The shipped configuration (the California profile with its word lists and second
    opinion), loaded once: compiling the word lists takes seconds. A module that needs other
    settings defines its own ``settings``."""
    return load_settings(CONFIG)
