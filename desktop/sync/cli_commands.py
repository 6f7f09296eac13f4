"""The sync commands of ``motcua``: ``enrol``, ``sync`` and ``status``.

``desktop/cli.py`` calls :func:`register` to add them. Each handler opens the profile (the
password comes from ``MOTCUA_PASSWORD`` or a prompt), calls one engine method and prints the
result; errors are one English line on stderr and exit status 1.

Examples::

    motcua --profile DIR enrol --server http://10.15.0.2:8080 --code 7K2QD-M4XTA
    motcua --profile DIR sync
    motcua --profile DIR status --json
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop.store.store import Store
    from desktop.sync.engine import SyncEngine
    from desktop.sync.status import SyncStatus

__all__ = ["register"]


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _err(line: str) -> None:
    print(f"error: {line}", file=sys.stderr)


def _open(args: argparse.Namespace) -> Store:
    from desktop.store.unlock import open_store

    return open_store(args.profile, args.username)


def cmd_enrol(args: argparse.Namespace) -> int:
    """Enrol this profile's device with the provincial server."""
    from desktop.sync.engine import SyncEngine, SyncError

    with _open(args) as store:
        engine = SyncEngine(store)
        try:
            result = engine.enrol(args.server, args.code, label=args.label or "")
        except SyncError as exc:
            _err(str(exc))
            return 1
        finally:
            engine.close()
    _out(f"enrolled device {result.device_id} for commune {result.commune}")
    _out(f"server {result.server_url}, key id {result.server_key_id} (pinned)")
    if abs(result.clock_offset_s) > 300:
        _out(f"warning: this PC's clock is off by {result.clock_offset_s:+.0f} s")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    """Sync once now; print what moved; exit 0 when the records synced."""
    from desktop.sync.engine import SyncEngine

    with _open(args) as store:
        engine = SyncEngine(store)
        try:
            report = engine.sync_once()
        finally:
            engine.close()
    if args.json:
        _out(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        for line in report.summary().splitlines():
            _out(line)
    if not report.ok:
        _err(report.error or "sync failed")
        return 1
    return 0


def status_as_dict(status: SyncStatus, engine: SyncEngine) -> dict[str, Any]:
    """Return a :class:`SyncStatus` (plus enrolment facts) as JSON-ready data."""
    return {
        "state": status.state.value,
        "pending": status.pending,
        "conflicts": status.conflicts,
        "rejected": status.rejected,
        "last_sync": status.last_sync.isoformat() if status.last_sync else None,
        "clock_offset_s": status.clock_offset_s,
        "clock_wrong": status.clock_wrong,
        "last_error": status.last_error,
        "enrolled": engine.enrolled,
        "server_url": engine.server_url,
        "device_id": engine.store.device_id,
    }


def cmd_status(args: argparse.Namespace) -> int:
    """Show the sync status (offline, pending, conflicts, last sync, clock, last error)."""
    from desktop.sync.engine import SyncEngine

    with _open(args) as store:
        engine = SyncEngine(store)
        data = status_as_dict(engine.status(), engine)
    if args.json:
        _out(json.dumps(data, ensure_ascii=False))
        return 0
    _out(f"state: {data['state']}")
    _out(f"server: {data['server_url'] or '-'} (device {data['device_id']})")
    _out(
        f"pending: {data['pending']}; conflicts: {data['conflicts']}; rejected: {data['rejected']}"
    )
    _out(f"last sync: {data['last_sync'] or 'never'}")
    offset = data["clock_offset_s"]
    clock = "unknown" if offset is None else f"{offset:+.1f} s"
    _out(f"clock offset: {clock}{' (WRONG: fix the PC clock)' if data['clock_wrong'] else ''}")
    if data["last_error"]:
        _out(f"last error: {data['last_error']}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``enrol``, ``sync`` and ``status`` to the ``motcua`` subcommand parsers."""
    enrol = subparsers.add_parser(
        "enrol",
        help="enrol this PC with the provincial sync server",
        description="Enrol this PC with the provincial sync server using a one-time code.",
    )
    enrol.add_argument("--server", required=True, help="server URL, e.g. http://10.15.0.2:8080")
    enrol.add_argument("--code", required=True, help="one-time code from provincial IT")
    enrol.add_argument("--label", default=None, help="a name for this PC (no personal data)")
    enrol.set_defaults(handler=cmd_enrol)

    sync = subparsers.add_parser(
        "sync",
        help="sync with the provincial server now",
        description="Push pending changes, pull the commune's, upload scans; print what moved.",
    )
    sync.add_argument("--json", action="store_true", help="print the report as JSON")
    sync.set_defaults(handler=cmd_sync)

    status = subparsers.add_parser(
        "status",
        help="show the sync status",
        description="Show state, pending changes, conflicts, last sync, clock offset, last error.",
    )
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.set_defaults(handler=cmd_status)
