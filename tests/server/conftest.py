"""Fixtures for the server tests: fresh databases on both backends, servers and devices.

PostgreSQL tests get a fresh schema per test in the ``test`` database (via ``search_path`` in
the URL), dropped afterwards, so parallel or leftover runs never collide. They are skipped, with
the reason, only when PostgreSQL is unreachable.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from server.service import SyncServer
from tests.server.fake_device import FakeDevice, asgi_post
from tests.server.fake_operator import FakeOperator

PG_BASE = os.environ.get("MOTCUA_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

_pg_ok: bool | None = None


def pg_available() -> bool:
    """Return True when the test PostgreSQL answers (checked once)."""
    global _pg_ok
    if _pg_ok is None:
        try:
            import psycopg

            with psycopg.connect(
                "host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=3
            ):
                _pg_ok = True
        except Exception:
            _pg_ok = False
    return _pg_ok


class PgSchema:
    """A throwaway schema in the test database, with a URL that selects it."""

    def __init__(self) -> None:
        import psycopg

        self.name = "motcua_t_" + secrets.token_hex(6)
        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test") as conn:
            conn.execute(f"CREATE SCHEMA {self.name}")
        self.url = f"{PG_BASE}?options=-csearch_path%3D{self.name}"

    def drop(self) -> None:
        """Drop the schema and everything in it."""
        import psycopg

        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True
        ) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {self.name} CASCADE")


def make_db_url(backend: str, tmp_path: Path) -> tuple[str, Callable[[], None]]:
    """Return a fresh database URL on ``backend`` and its cleanup."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'server.db'}", lambda: None
    if not pg_available():
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432 (run scripts/ensure-postgres)")
    schema = PgSchema()
    return schema.url, schema.drop


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty server database URL, once per backend."""
    url, cleanup = make_db_url(request.param, tmp_path)
    yield url
    cleanup()


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    """A fresh PostgreSQL database URL (skipped when PostgreSQL is unreachable)."""
    url, cleanup = make_db_url("postgresql", tmp_path)
    yield url
    cleanup()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database URL."""
    return f"sqlite:///{tmp_path / 'server.db'}"


@pytest.fixture
def server(db_url: str) -> Iterator[SyncServer]:
    """An initialised server on each backend."""
    srv = SyncServer.open(db_url, init=True)
    yield srv
    srv.storage.dispose()


@pytest.fixture
def client(server: SyncServer) -> Iterator[object]:
    """A Starlette TestClient on the server's app (real ASGI, in process)."""
    from starlette.testclient import TestClient

    from server.app import create_app

    with TestClient(create_app(server), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def new_device(server: SyncServer, client: object) -> Callable[..., FakeDevice]:
    """Factory: an enrolled device of a commune."""

    def make(commune: str = "02701", label: str = "pc") -> FakeDevice:
        device = FakeDevice(asgi_post(client), commune=commune, label=label)
        device.enrol(server.issue_code(commune))
        return device

    return make


@pytest.fixture
def new_operator(server: SyncServer, client: object) -> Callable[..., FakeOperator]:
    """Factory: an enrolled provincial IT console for an operator called ``name``."""

    def make(name: str = "Nguyễn Văn An") -> FakeOperator:
        operator = FakeOperator(asgi_post(client))
        operator.enrol(server.issue_operator_code(name)["code"])
        return operator

    return make
