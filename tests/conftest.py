"""Shared pytest fixtures: where the repository and ../shared test data live."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or skip the test with a message naming the folder."""
    path = SHARED_DIR / "data"
    if not path.is_dir():
        pytest.skip(f"shared test data not found: {path}")
    return path
