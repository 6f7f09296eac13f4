"""Fixtures for the console's screens: a real server, real devices, an enrolled console shell.

What the GUI tests of provincial IT's console stand on:

- ``server``: a real ``motcua-server serve`` process on SQLite (tests/sync/conftest.py);
- ``make_device(server, name, commune=...)``: a real commune profile enrolled with it, which
  syncs over HTTP (``device.sync()``), its store at ``device.store``;
- ``province``: a provincial profile (``role="province"``), ``admin``: it enrolled as an operator
  with a code from ``motcua-server operator-code`` and its :class:`AdminClient`;
- ``console_shell``: a shown :class:`ConsoleShell` in the session's Tk root over that client;
- ``open_screen(shell, name, **kwargs)``: navigate and return the screen once it is built.

Screens load through the task runner: wait with ``gui.wait_until(...)`` on what the user would
see (rows in a tree, a label's text), never on sleeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.console.client import AdminClient
from desktop.console.enrolment import enrol_operator
from desktop.store.store import Store
from tests.console.conftest import (  # noqa: F401 - helpers the console's GUI tests use
    FAST_POLICY,
    OPERATOR,
    PASSWORD,
    operator_code,
    sync_all,
)
from tests.sync.conftest import (  # noqa: F401 - fixtures the console's GUI tests stand on
    COMMUNE,
    OTHER_COMMUNE,
    Device,
    ServerProcess,
    fast_kdf,
    make_device,
    sqlite_db,
    sqlite_server,
)

pytestmark = pytest.mark.gui


@pytest.fixture
def server(sqlite_server: ServerProcess) -> ServerProcess:  # noqa: F811
    """The real provincial server (SQLite; the console's client is tested on PostgreSQL too)."""
    return sqlite_server


@pytest.fixture
def province(tmp_path: Path) -> Iterator[Store]:
    """A provincial profile, not enrolled yet."""
    store = Store.create(
        tmp_path / "province",
        commune="",
        username="an",
        password=PASSWORD,
        full_name=OPERATOR,
        role="province",
    )
    yield store
    store.close()


@pytest.fixture
def admin(server: ServerProcess, province: Store) -> Iterator[AdminClient]:
    """The provincial profile enrolled as an operator of ``server``, and its client."""
    enrol_operator(province, server.url, operator_code(server), label="PC CNTT tỉnh")
    client = AdminClient.from_store(province, policy=FAST_POLICY)
    yield client
    client.close()


def build_console_shell(root: Any, tasks: Any, store: Store, console: Any) -> Any:
    """Return a shown console shell over ``store`` and ``console`` (None: not enrolled)."""
    from desktop.ui.console.shell import ConsoleShell
    from desktop.ui.services import Clerk
    from desktop.ui.settings import Settings

    shell = ConsoleShell(
        root,
        console=console,
        store=store,
        tasks=tasks,
        settings=Settings(),
        clerk=Clerk("an", OPERATOR),
        profile_dir=None,
    )
    shell.show()
    return shell


@pytest.fixture
def console_shell(root: Any, tasks: Any, province: Store, admin: AdminClient) -> Iterator[Any]:
    """A shown console shell talking to the real server through ``admin``."""
    shell = build_console_shell(root, tasks, province, admin)
    yield shell
    if shell.winfo_exists():
        shell.destroy()


@pytest.fixture
def open_screen(gui: Any) -> Callable[..., Any]:
    """``open_screen(shell, name, **kwargs)``: navigate to a screen and return it."""

    def open_(shell: Any, name: str, **kwargs: Any) -> Any:
        shell.navigate(name, **kwargs)
        gui.wait_until(lambda: shell.current == name and shell.current_screen is not None)
        return shell.current_screen

    return open_
