"""Fixtures every test file shares (constants are in helpers.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    """Training pools go to one folder of this session's temporary files, never the user's cache, and are made
    once for all tests (a pool of the same size and seed is reused, as a user's would be)."""
    monkeypatch.setenv("CSP_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
