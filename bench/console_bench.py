"""Console inbox bench: the conflict inbox in a real Tk window over 10,000 open conflicts.

Usage::

    .venv/bin/python -m bench.console_bench                          # 10,000 conflicts, SQLite
    .venv/bin/python -m bench.console_bench --backend postgresql     # 127.0.0.1:5432, db "test"
    .venv/bin/python -m bench.console_bench --quick                  # 1,000 conflicts, 3 reps
    .venv/bin/python -m bench.console_bench --json out.json --repeat 10

Method:

* **server**: a fresh server database (a SQLite file, or a new PostgreSQL database dropped
  afterwards) gets N open conflicts over the 99 communes from :func:`bench.console_seed.
  seed_conflicts` (two devices per commune, the records, versions and change log as real
  syncs leave them); then a real ``motcua-server serve`` process runs on it.
* **console**: a provincial profile is enrolled as an operator with a code from
  ``motcua-server operator-code``; a :class:`desktop.ui.console.shell.ConsoleShell` over its
  real :class:`desktop.console.client.AdminClient` (sealed ``POST /admin`` over HTTP) is shown
  in a Tk window (a private Xvfb when ``DISPLAY`` is unset).
* **timed**, each ``--repeat`` times, from the action to the rows (or the grid) shown and drawn
  (``update_idletasks``): ``navigate("conflicts")`` to the first page of 200 (the first time
  builds the screen: reported apart as *cold*); a commune chosen in the filter; the next page;
  a deep page (offset ``N - 200``: 9,800 of 10,000); a conflict opened from the list to its
  field grid shown. The Tk thread is driven the way ``mainloop`` does (events processed as
  they come, no busy loop).
* **responsiveness**: an ``after(10)`` heartbeat on the Tk thread records the longest gap
  between two beats during all of the above: the longest the window could not react.
* For context, the same list calls straight through the client (no Tk) are timed too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OPERATOR, PASSWORD = "Bench CNTT tỉnh", "mat-khau-bench"
TIMEOUT_S = 60.0


class Heartbeat:
    """An ``after(10)`` beat on the Tk thread; the longest gap between beats is a stall."""

    def __init__(self, root: Any, period_ms: int = 10) -> None:
        """Start beating."""
        self.root, self.period_ms = root, period_ms
        self.last = time.perf_counter()
        self.longest_ms = 0.0
        self.phase_longest: dict[str, float] = {}
        self.phase = "start"
        self._after = root.after(period_ms, self._beat)

    def _beat(self) -> None:
        now = time.perf_counter()
        gap = (now - self.last) * 1000
        self.last = now
        self.longest_ms = max(self.longest_ms, gap)
        self.phase_longest[self.phase] = max(self.phase_longest.get(self.phase, 0.0), gap)
        self._after = self.root.after(self.period_ms, self._beat)

    def enter(self, phase: str) -> None:
        """Count the following gaps under ``phase``."""
        self.phase = phase

    def stop(self) -> None:
        """Stop beating."""
        self.root.after_cancel(self._after)


def wait_for(root: Any, pred: Callable[[], object], timeout: float = TIMEOUT_S) -> None:
    """Process Tk events as they come (like ``mainloop``) until ``pred()`` holds.

    Raises:
        TimeoutError: when ``timeout`` passes first.
    """
    import _tkinter

    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not shown within {timeout} s")
        # One event, or a 1 ms nap when there is none: mainloop's own pace, no busy loop.
        if not root.tk.dooneevent(_tkinter.DONT_WAIT):
            time.sleep(0.001)


def timed(root: Any, action: Callable[[], object], shown: Callable[[], object]) -> float:
    """Return milliseconds from ``action()`` to ``shown()`` true and the window drawn."""
    started = time.perf_counter()
    action()
    wait_for(root, shown)
    root.update_idletasks()
    return (time.perf_counter() - started) * 1000


def _figures(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values), 1),
        "max_ms": round(max(values), 1),
        "n": len(values),
    }


class Rig:
    """A seeded server process, an enrolled provincial profile and its console window."""

    def __init__(self, backend: str, conflicts: int, work: Path) -> None:
        """Seed the database, start the server, enrol the operator, show the console."""
        from bench.app_bench import ensure_display
        from bench.campaigns.common import make_db
        from bench.console_seed import seed_conflicts
        from bench.load import start_server
        from server.service import SyncServer

        os.environ.setdefault("MOTCUA_SCRYPT_LOG2N", "10")  # the profile's key, not the point
        self.db = make_db(backend, work, prefix="motcua_console_bench_")
        seeding = SyncServer.open(self.db.url, init=True)
        try:
            self.seeded = seed_conflicts(seeding, conflicts)
        finally:
            seeding.storage.dispose()
        self.server, self.url = start_server(self.db.url, work / "server.log")
        self.work = work
        self.xvfb = ensure_display()
        self._open_console()

    def _open_console(self) -> None:
        import ttkbootstrap as ttk

        from desktop.console.client import AdminClient
        from desktop.console.enrolment import enrol_operator
        from desktop.store.store import Store
        from desktop.ui.console.shell import ConsoleShell
        from desktop.ui.services import Clerk
        from desktop.ui.settings import Settings
        from desktop.ui.tasks import TaskRunner
        from tests.sync.conftest import server_cli

        made = server_cli(self.db, "operator-code", "--name", OPERATOR)
        code = made.stdout.strip().splitlines()[-1]
        self.store = Store.create(
            self.work / "province",
            commune="",
            username="an",
            password=PASSWORD,
            full_name=OPERATOR,
            role="province",
        )
        enrol_operator(self.store, self.url, code, label="PC bench")
        self.client = AdminClient.from_store(self.store)
        self.root = ttk.App(title="Console bench", size=(1280, 720), position=(0, 0))
        self.tasks = TaskRunner(self.root)
        self.shell = ConsoleShell(
            self.root,
            console=self.client,
            store=self.store,
            tasks=self.tasks,
            settings=Settings(),
            clerk=Clerk("an", OPERATOR),
            profile_dir=None,
        )
        self.shell.show()
        self.root.update()

    def close(self) -> None:
        """Close the window, the client, the server, the database and the display."""
        try:
            self.shell.destroy()
            self.tasks.close()
            self.root.destroy()
        finally:
            self.client.close()
            self.store.close()
            self.server.terminate()
            self.server.wait(10)
            self.db.drop()
            if self.xvfb is not None:
                self.xvfb.terminate()
                self.xvfb.wait(5)


def _inbox_shown(rig: Rig, offset: int = 0) -> Callable[[], bool]:
    def shown() -> bool:
        inbox = rig.shell.screen("conflicts")
        return bool(
            rig.shell.current == "conflicts"
            and inbox is not None
            and inbox.idle
            and inbox.offset == offset
            and len(inbox.tree.get_children()) == len(inbox.items) > 0
        )

    return shown


def _measure_round(rig: Rig, beat: Heartbeat, rep: int, times: dict[str, list[float]]) -> None:
    """Time one repetition of every action (see the module docstring)."""
    from desktop.forms.reference import communes

    root, shell = rig.root, rig.shell
    beat.enter("first page")
    shell.navigate("help")
    key = "first page (cold: builds the screen)" if rep == 0 else "first page"
    times.setdefault(key, []).append(
        timed(root, lambda: shell.navigate("conflicts"), _inbox_shown(rig))
    )
    inbox = shell.screen("conflicts")
    total = inbox.total
    beat.enter("filter")
    name = communes()[(rep * 37) % len(communes())].name
    times.setdefault("commune filter", []).append(
        timed(root, lambda: inbox.set_commune(name), _inbox_shown(rig))
    )
    timed(root, lambda: inbox.set_commune("Tất cả các xã"), _inbox_shown(rig))
    beat.enter("next page")
    times.setdefault("next page", []).append(timed(root, inbox.next_page, _inbox_shown(rig, 200)))
    beat.enter("deep page")
    deep = max(total - 200, 0) // 200 * 200
    times.setdefault(f"deep page (offset {deep:,})", []).append(
        timed(root, lambda: inbox.go_to(deep), _inbox_shown(rig, deep))
    )
    beat.enter("open conflict")
    rows = [item for item in inbox.items if item["kind"] == "field"]
    target = rows[rep % len(rows)]
    inbox.tree.selection_set(str(target["id"]))

    def grid_shown() -> bool:
        view = shell.screen("conflict")
        return bool(
            shell.current == "conflict"
            and view is not None
            and view.idle
            and view.detail is not None
            and view.detail["conflict"]["id"] == target["id"]
            and view.grid_tab.rows
        )

    times.setdefault("open a conflict to its grid", []).append(
        timed(root, inbox.open_selected, grid_shown)
    )
    beat.enter("back")
    timed(root, lambda: shell.navigate("conflicts"), _inbox_shown(rig, deep))
    timed(root, inbox.first_page, _inbox_shown(rig))  # the next round starts on page 1


def _client_calls(rig: Rig, repeat: int) -> dict[str, dict[str, float]]:
    """Time the same list calls through the client alone (no Tk), for context."""
    total = rig.client.conflicts(limit=1)["total"]
    calls = {
        "client: first page": lambda: rig.client.conflicts(limit=200),
        "client: deep page": lambda: rig.client.conflicts(offset=max(total - 200, 0), limit=200),
    }
    out = {}
    for name, call in calls.items():
        values = []
        for _ in range(repeat):
            started = time.perf_counter()
            call()
            values.append((time.perf_counter() - started) * 1000)
        out[name] = _figures(values)
    return out


def run(backend: str, conflicts: int, repeat: int) -> dict[str, Any]:
    """Seed, show and time the inbox; return the figures."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="console-bench-") as tmp:
        rig = Rig(backend, conflicts, Path(tmp))
        try:
            setup_s = time.perf_counter() - started
            beat = Heartbeat(rig.root)
            times: dict[str, list[float]] = {}
            for rep in range(repeat):
                _measure_round(rig, beat, rep, times)
            beat.stop()
            connections = rig.client.link.connections  # keep-alive connections it made
            client = _client_calls(rig, repeat)
        finally:
            rig.close()
    return {
        "backend": backend,
        "conflicts": conflicts,
        "repeat": repeat,
        "seed": rig.seeded,
        "setup_s": round(setup_s, 1),
        "total_s": round(time.perf_counter() - started, 1),
        "gui": {name: _figures(values) for name, values in times.items()},
        "longest_stall_ms": round(beat.longest_ms, 1),
        "stall_by_phase_ms": {k: round(v, 1) for k, v in beat.phase_longest.items()},
        "client": client,
        "client_connections": connections,
        "loadavg": Path("/proc/loadavg").read_text().strip(),
    }


def markdown(result: dict[str, Any]) -> str:
    """Return the figures as a Markdown table (for bench/RESULTS.md)."""
    lines = [
        f"{result['backend']}, {result['conflicts']:,} open conflicts, "
        f"{result['repeat']} repetitions",
        "",
        "| from … to rows shown | p50 | max |",
        "|---|---|---|",
    ]
    for name, figures in {**result["gui"], **result["client"]}.items():
        lines.append(f"| {name} | {figures['p50_ms']} ms | {figures['max_ms']} ms |")
    stalls = ", ".join(f"{k} {v} ms" for k, v in result["stall_by_phase_ms"].items())
    lines += [
        "",
        f"Longest Tk stall (`after(10)` heartbeat, all of the above): "
        f"**{result['longest_stall_ms']} ms** ({stalls}). The client opened "
        f"{result['client_connections']} HTTP connections.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run, print (and write ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--conflicts", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="1,000 conflicts, 3 repetitions")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)
    conflicts = args.conflicts or (1_000 if args.quick else 10_000)
    repeat = args.repeat or (3 if args.quick else 10)
    print(f"load before: {Path('/proc/loadavg').read_text().strip()}")
    result = run(args.backend, conflicts, repeat)
    print(f"seeded {result['seed']}; set-up {result['setup_s']} s, all {result['total_s']} s")
    print(f"load after: {result['loadavg']}")
    print(markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
