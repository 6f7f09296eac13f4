"""Fixtures for the store tests: a fresh profile per test, closed afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.store.store import Store

PASSWORD = "mật-khẩu-lan"


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap scrypt for tests (the cost is recorded per slot, so opening still works)."""
    monkeypatch.setenv("MOTCUA_SCRYPT_LOG2N", "10")


@pytest.fixture
def profile_dir(tmp_path: Path) -> Path:
    """Where the test's profile lives."""
    return tmp_path / "profile"


@pytest.fixture
def store(profile_dir: Path) -> Iterator[Store]:
    """A new, open store for commune 02701 with clerk ``lan``."""
    s = Store.create(
        profile_dir, commune="02701", username="lan", password=PASSWORD, full_name="Nguyễn Thị Lan"
    )
    try:
        yield s
    finally:
        s.close()
