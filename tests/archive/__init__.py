"""Tests for codex_install.archive, one file per module."""

import pytest

pytest.register_assert_rewrite(f"{__name__}.helpers")
