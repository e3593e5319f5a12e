"""The staging directory every archive test extracts into."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import no_worker_threads


@pytest.fixture
def dest(tmp_path: Path) -> Iterator[Path]:
    staging = tmp_path / ".staging-test"
    staging.mkdir()
    yield staging
    assert no_worker_threads()
