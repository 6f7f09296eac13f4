"""Fixtures for the console's client: provincial profiles, the stub server, and the real servers.

The real server fixtures (``server`` on SQLite and PostgreSQL, ``sqlite_server``, ``make_device``)
are the sync tests' (tests/sync/conftest.py): the console talks to the same processes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.store.store import Store
from desktop.sync.client import TransportPolicy
from tests.console.stub_server import StubServer
from tests.forms.samples import RECEIVED
from tests.store.factory import birth
from tests.sync.conftest import (  # noqa: F401 - fixtures for the end-to-end tests
    Device,
    ServerProcess,
    fast_kdf,
    make_device,
    server,
    server_db,
    sqlite_db,
    sqlite_server,
)

PASSWORD = "mật-khẩu-an"
OPERATOR = "Nguyễn Văn An"
#: Quick retries and a short read timeout, so a "lost answer" costs a second, not a minute.
FAST_POLICY = TransportPolicy(
    connect_timeout_s=2,
    read_base_s=1.0,
    read_bytes_per_s=10**9,
    backoff_base_s=0.01,
    backoff_max_s=0.02,
    max_attempts=3,
)


REASON = "giấy chứng sinh của bệnh viện ghi sinh tại nhà"
PLACE_A, PLACE_B = "Bệnh viện Đa khoa Bắc Hà", "Tại nhà, bản Hồ Bốn"
PHONE_A, PHONE_B, PHONE_TYPED = "0987000111", "0987000222", "0912345678"


def operator_code(server: ServerProcess, name: str = OPERATOR) -> str:  # noqa: F811
    """Issue an operator code with ``motcua-server operator-code`` (the code is its last line)."""
    return server.cli("operator-code", "--name", name).strip().splitlines()[-1]


def sync_all(*devices: Device, rounds: int = 2) -> None:
    """Sync every device ``rounds`` times, each sync succeeding."""
    for _ in range(rounds):
        for device in devices:
            report = device.sync()
            assert report.ok, f"{device.name}: {report.error}"


@pytest.fixture
def make_province(tmp_path: Path) -> Iterator[Callable[[str], Store]]:
    """Make provincial profiles (``role="province"``, no commune): ``make_province(name)``."""
    made: list[Store] = []

    def make(name: str = "tinh") -> Store:
        store = Store.create(
            tmp_path / f"province-{name}",
            commune="",
            username="an",
            password=PASSWORD,
            full_name=OPERATOR,
            role="province",
        )
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


@pytest.fixture
def province(make_province: Callable[[str], Store]) -> Store:
    """One provincial profile, not enrolled yet."""
    return make_province("tinh")


@pytest.fixture
def stub() -> Iterator[StubServer]:
    """The stub ``/admin`` server, running."""
    running = StubServer()
    running.start()
    try:
        yield running
    finally:
        running.stop()


def field_conflict(
    new_device: Callable[..., Device],
    on: ServerProcess,
    **b_options: Any,
) -> tuple[Device, Device, Any, dict[str, Any]]:
    """Two PCs of one commune edit the same two fields offline and sync: one conflict."""
    a, b = new_device(on, "a"), new_device(on, "b", **b_options)
    dossier = a.store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    sync_all(a, b, rounds=1)
    base = a.store.get_dossier(dossier.id).record
    a.store.update_dossier(
        dossier.id, {"tre_noi_sinh": PLACE_A, "nguoi_yeu_cau_dien_thoai": PHONE_A}
    )
    b.store.update_dossier(
        dossier.id, {"tre_noi_sinh": PLACE_B, "nguoi_yeu_cau_dien_thoai": PHONE_B}
    )
    assert a.sync().applied == 1
    assert b.sync().conflicts == 1
    return a, b, dossier, base
