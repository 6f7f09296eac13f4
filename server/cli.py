"""``motcua-server``: the provincial sync server's command line.

Each command parses its arguments, calls one :class:`server.service.SyncServer` method and
prints the result (a table, or JSON with ``--json``). Errors are one clear English line on
stderr and a non-zero exit status. The database comes from ``--db``, else the
``MOTCUA_SERVER_DB`` environment variable, else ``sqlite:///motcua-server.db`` in the current
directory.
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from desktop.forms.dates import parse_iso_date
from protocol.admin import CONFLICT_KINDS, LIST_STATUSES
from server.cli_console import (
    CONSOLE_COMMANDS,
    add_console_arguments,
    parsed_choices,
    print_stats_cube,
)
from server.cli_support import open_server as _open
from server.cli_support import parse_value, print_json, print_table
from server.cli_support import when as _when
from server.errors import ApiError, BadAssignment, InvalidArgument, NothingChosen

__all__ = ["build_parser", "main"]

#: How the library's argument names are spelled on this command line.
OPTIONS = {
    "ttl_hours": "--ttl-hours",
    "take": "--take",
    "reason": "--reason",
    "choices": "--choose",
    "name": "--name",
    "id": "conflict",
    "since": "--since",
    "until": "--until",
}


def argument_message(exc: InvalidArgument) -> str:
    """Return what the command line says about an unusable argument of a library call."""
    if isinstance(exc, NothingChosen):
        return "give --take or FIELD=VALUE assignments"
    if isinstance(exc, BadAssignment):
        return "assignment needs FIELD=VALUE"
    return f"{OPTIONS.get(exc.argument, exc.argument)} {exc.problem}"


def cmd_init(args: argparse.Namespace) -> int:
    """Create or upgrade the database and the server keys."""
    info = _open(args).init()
    applied = ", ".join(info["migrations"]) or "none (already up to date)"
    print(f"migrations applied: {applied}")
    print(f"server key id: {info['key_id']}")
    print(f"epoch: {info['epoch']}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve HTTP until interrupted (several processes may serve one PostgreSQL database)."""
    import uvicorn

    from server.app import KEEP_ALIVE_S, create_app, listening_socket

    server = _open(args, init=True)
    app = create_app(server)
    sock = listening_socket(args.host, args.port)
    port = sock.getsockname()[1]
    print(
        f"motcua-server listening on http://{args.host}:{port} "
        f"(key id {server.public_keys().key_id})",
        flush=True,
    )
    # All logs go to stderr: stdout carries only the "listening on" line, so a parent that
    # reads that line and then stops reading never blocks the server on a full pipe.
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    for handler in log_config["handlers"].values():
        handler["stream"] = "ext://sys.stderr"
    config = uvicorn.Config(
        app,
        log_level=args.log_level,
        access_log=args.access_log,
        lifespan="off",
        log_config=log_config,
        # On 2G a new connection costs a 600 ms handshake: keep idle connections for a minute
        # so a sync's requests (and the next scheduled sync's pages) reuse one.
        timeout_keep_alive=KEEP_ALIVE_S,
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def cmd_enrol_code(args: argparse.Namespace) -> int:
    """Issue a one-time enrolment code; the code is the last line printed."""
    code = _open(args).issue_code(args.commune, args.ttl_hours)
    print(f"one-time enrolment code for commune {args.commune}, valid {args.ttl_hours:g} h:")
    print(code)
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    """List enrolled devices with what they report and what the server holds against them."""
    devices = _open(args).devices()
    if args.json:
        print_json(devices)
        return 0
    if not devices:
        print("no devices enrolled")
        return 0
    rows = []
    for d in devices:
        offset = d["clock_offset_ms"]
        clock = "-" if offset is None else f"{offset / 1000:+.0f}s"
        if d["flagged_skew"]:
            clock += "!"
        rows.append(
            [d["device_id"], d["commune"], d["status"], _when(d["last_sync"])]
            + [d["last_device_seq"], clock, d["pending_reported"], d["app_version"]]
            + [d["last_error"], d["rejected"], d["conflicts_open"], d["label"]]
        )
    headers = ["DEVICE", "COMMUNE", "STATUS", "LAST SYNC", "SEQ", "CLOCK", "PENDING", "VERSION"]
    print_table([*headers, "ERROR", "REJECTED", "CONFLICTS", "LABEL"], rows)
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    """Revoke a device."""
    _open(args).revoke(args.device, args.reason or "")
    print(f"device {args.device} revoked")
    return 0


def cmd_conflicts(args: argparse.Namespace) -> int:
    """List conflicts waiting for provincial IT, oldest first (filters narrow the list)."""
    status = "all" if args.all else args.status
    filters = {
        "commune": args.commune,
        "procedure": args.procedure,
        "kind": args.kind,
        "min_age_days": args.min_age_days,
        "max_age_days": args.max_age_days,
    }
    conflicts = _open(args).conflicts(
        None if status == "all" else status,
        filters={k: v for k, v in filters.items() if v is not None},
        offset=args.offset,
        limit=args.limit,
    )
    if args.json:
        print_json(conflicts)
        return 0
    if not conflicts:
        print("no open conflicts" if status == "open" else "no conflicts")
        return 0
    for c in conflicts:
        other = f" vs {c['other_entity_id']}" if c["other_entity_id"] else ""
        print(
            f"#{c['id']} {c['kind']} {c['status']} commune {c['commune']} "
            f"{c['entity']} {c['entity_id']}{other} fields {', '.join(c['fields'])} "
            f"(device {c['device_id']}, clerk {c['clerk']}, {_when(c['created_at'])})"
        )
        for key in sorted(set(c["current"]) | set(c["incoming"])):
            print(
                f"    {key}: base={c['base'].get(key)!r} current={c['current'].get(key)!r} "
                f"incoming={c['incoming'].get(key)!r}"
            )
    return 0


def cmd_resolve(args: argparse.Namespace) -> int:
    """Resolve a conflict: take current or incoming (for all fields, or per field with
    ``--choose``), and/or set FIELD=VALUE."""
    take = None
    assignments: dict[str, Any] = {}
    for item in args.take:
        if item in ("current", "incoming"):
            if take is not None:
                raise SystemExit("error: give current or incoming once")
            take = item
        elif "=" in item:
            key, _, value = item.partition("=")
            if not key:
                raise SystemExit(f"error: bad assignment {item!r}: use FIELD=VALUE")
            assignments[key] = parse_value(value)
        else:
            raise SystemExit(
                f"error: --take expects current, incoming or FIELD=VALUE, not {item!r}"
            )
    server = _open(args)
    if args.choose:
        if take is not None:
            raise InvalidArgument(
                "take", "takes no side with --choose: give FIELD=current|incoming"
            )
        choices = parsed_choices(args) | {k: {"value": v} for k, v in assignments.items()}
        result = server.resolve_choices(args.conflict, choices, args.reason)
    else:
        result = server.resolve(
            args.conflict, take=take, assignments=assignments, reason=args.reason
        )
    if result["change_id"] is None:
        print(f"conflict {args.conflict} closed (both records kept)")
    else:
        print(
            f"conflict {args.conflict} resolved by change {result['change_id']} "
            f"(record version {result['version']})"
        )
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    """Show sync health: devices, changes, open conflicts, last sync per commune, skew; with
    ``--period``, the dossier statistics by week or month instead."""
    if args.period:
        for option, value in (("--since", args.since), ("--until", args.until)):
            if value is not None and parse_iso_date(value) is None:
                raise InvalidArgument(
                    option.lstrip("-"), f"must be a date YYYY-MM-DD, not {value!r}"
                )
        cube = _open(args).dossier_stats(args.period, args.since, args.until)
        print_stats_cube(cube, "json" if args.json else "csv" if args.csv else "table")
        return 0
    stats = _open(args).stats()
    if args.json:
        print_json(stats)
        return 0
    print(f"devices: {stats['devices']} {stats['devices_by_status']}")
    print(f"changes: {stats['changes']} {stats['changes_by_status']}")
    print(f"records: {stats['records']}")
    print(f"open conflicts: {stats['conflicts_open']}")
    print(f"skewed clocks: {', '.join(stats['skewed_devices']) or 'none'}")
    print("last sync per commune:")
    for commune, last in sorted(stats["last_sync_by_commune"].items()):
        print(f"    {commune}: {_when(last)}")
    return 0


def cmd_new_epoch(args: argparse.Namespace) -> int:
    """Start a new epoch after restoring the database from a backup."""
    epoch = _open(args).new_epoch()
    print(f"new epoch: {epoch}")
    return 0


COMMANDS: dict[str, tuple[str, Callable[[argparse.Namespace], int]]] = {
    "init": ("create or upgrade the database and the server keys", cmd_init),
    "serve": ("serve HTTP", cmd_serve),
    "enrol-code": ("issue a one-time enrolment code for a commune", cmd_enrol_code),
    "devices": ("list enrolled devices", cmd_devices),
    "revoke": ("revoke a device", cmd_revoke),
    "conflicts": ("list conflicts waiting for provincial IT", cmd_conflicts),
    "resolve": ("resolve a conflict", cmd_resolve),
    "stats": ("sync health and counts, or dossier statistics (--period)", cmd_stats),
    "new-epoch": ("start a new epoch after restoring a backup", cmd_new_epoch),
    **CONSOLE_COMMANDS,
}


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``motcua-server``."""
    from server.db import DEFAULT_DB_URL

    parser = argparse.ArgumentParser(
        prog="motcua-server", description="Một Cửa Xã provincial sync server"
    )
    parser.add_argument(
        "--db",
        default=os.environ.get("MOTCUA_SERVER_DB", DEFAULT_DB_URL),
        help="database URL (postgresql+psycopg://… or sqlite:///path); "
        "default $MOTCUA_SERVER_DB or sqlite:///motcua-server.db",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parsers = {name: sub.add_parser(name, help=text) for name, (text, _f) in COMMANDS.items()}

    p = parsers["serve"]
    p.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8700, help="TCP port, 0 for any (default 8700)")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.add_argument("--no-access-log", dest="access_log", action="store_false")

    p = parsers["enrol-code"]
    p.add_argument("--commune", required=True, help="5-digit commune code, e.g. 02701")
    p.add_argument("--ttl-hours", type=float, default=72.0, help="lifetime (default 72)")

    for name in ("devices", "conflicts", "stats"):
        parsers[name].add_argument("--json", action="store_true", help="print JSON")
    _conflicts_arguments(parsers["conflicts"])
    p = parsers["stats"]
    p.add_argument("--period", choices=("week", "month"), help="dossier statistics by period")
    p.add_argument("--csv", action="store_true", help="print the statistics as CSV")
    p.add_argument("--since", help="first receipt date counted, YYYY-MM-DD")
    p.add_argument("--until", help="last receipt date counted, YYYY-MM-DD")
    add_console_arguments(parsers)

    p = parsers["revoke"]
    p.add_argument("device", help="device id")
    p.add_argument("--reason", default="", help="shown to the device and in `devices`")

    p = parsers["resolve"]
    p.add_argument("conflict", type=int, help="conflict number (see `conflicts`)")
    p.add_argument(
        "--take",
        nargs="+",
        default=[],
        metavar="current|incoming|FIELD=VALUE",
        help="which version wins, and/or field values to set (JSON values, else text)",
    )
    p.add_argument(
        "--choose",
        nargs="+",
        default=[],
        metavar="FIELD=current|incoming",
        help="which version wins, field by field (_record=... for a deletion)",
    )
    p.add_argument("--reason", required=True, help="why (kept with the conflict)")
    return parser


def _conflicts_arguments(p: argparse.ArgumentParser) -> None:
    """Add the filters of ``conflicts``."""
    p.add_argument("--all", action="store_true", help="include resolved (--status all)")
    p.add_argument("--status", choices=LIST_STATUSES, default="open", help="default open")
    p.add_argument("--commune", help="5-digit commune code (either record's commune)")
    p.add_argument("--procedure", help="procedure code, e.g. khai_sinh")
    p.add_argument("--kind", choices=CONFLICT_KINDS)
    p.add_argument("--min-age-days", type=int, help="raised at least this many days ago")
    p.add_argument("--max-age-days", type=int, help="raised at most this many days ago")
    p.add_argument("--offset", type=int, default=0, help="skip this many")
    p.add_argument("--limit", type=int, help="show at most this many")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``motcua-server``; return the exit status."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from server.db import DatabaseUrlError

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    _text, func = COMMANDS[args.command]
    try:
        return func(args)
    except InvalidArgument as exc:
        print(f"error: {argument_message(exc)}", file=sys.stderr)
        return 1
    except ApiError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except DatabaseUrlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (OperationalError, ProgrammingError) as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        print(f"error: database: {first} (did you run `motcua-server init`?)", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
