"""``motcua-server`` commands for what the provincial IT console does, for scripts.

Each calls the same library function as the console's ``POST /admin`` action and prints a
table (or JSON with ``--json``): one conflict side by side, a suspected duplicate and its
evidence, a duplicate decision, the communes' sync health, the dossier statistics, a record's
history, and the operators who may use a console.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from typing import Any

from protocol.admin import DECISIONS, ConflictDetail, StatsRow, VersionInfo
from server.cli_support import open_server, print_json, print_table, when
from server.errors import InvalidArgument

__all__ = ["CONSOLE_COMMANDS", "add_console_arguments", "print_stats_cube"]

#: Marks in the side-by-side tables.
CLASHING, DIFFERS = "!", "*"


def _side(name: str, info: VersionInfo) -> str:
    version = "-" if info["version"] is None else f"v{info['version']}"
    clock = when(info["clock_ms"]) + (" (clock suspect)" if info["clock_suspect"] else "")
    return (
        f"  {name:9} {version:5} commune {info['commune'] or '-'}, device "
        f"{info['device_id'] or '-'} ({info['device_label'] or '-'}), clerk {info['clerk'] or '-'}, "
        f"device clock {clock}, received {when(info['received_at'])}"
    )


def _print_detail(detail: ConflictDetail) -> None:
    c = detail["conflict"]
    other = f" vs {c['other_entity_id']}" if c["other_entity_id"] else ""
    print(
        f"#{c['id']} {c['kind']} {c['status']} commune {c['commune']} {c['procedure'] or '-'} "
        f"{c['entity_id']}{other} — {c['title'] or '-'} (dossier {c['dossier_no'] or '-'})"
    )
    for name in ("base", "current", "incoming"):
        print(_side(name, detail[name]))  # type: ignore[literal-required]
    if detail["incoming_deletes"]:
        print("  the incoming change deletes the record")
    if detail["current_deleted"]:
        print("  the record is deleted on the server")
    rows = [
        [
            CLASHING if r["clashing"] else DIFFERS if r["differs"] else "",
            r["field"],
            r["label"],
            repr(r["base"]),
            repr(r["current"]),
            repr(r["incoming"]),
        ]
        for r in detail["fields"]
    ]
    print_table(["", "FIELD", "LABEL", "BASE", "CURRENT", "INCOMING"], rows)
    print(f"({CLASHING} clashing, {DIFFERS} differs)")
    resolved = detail["resolution"]
    if resolved is not None:
        change = resolved["change_id"] or "no change (both kept)"
        print(f"resolved by {detail['resolved_by']}: {change} — {detail['resolution_reason']}")
        for d in detail["deliveries"]:
            got = when(d["received_at"]) if d["received_at"] else "not yet"
            print(f"  {d['device_id']} {d['label']} ({d['status']}): received {got}")


def cmd_conflict(args: argparse.Namespace) -> int:
    """Show one conflict: base, current and incoming side by side, and its resolution."""
    detail = open_server(args).conflict(args.conflict)
    if args.json:
        print_json(detail)
    else:
        _print_detail(detail)
    return 0


def cmd_duplicate(args: argparse.Namespace) -> int:
    """Show a suspected duplicate: both dossiers side by side with the evidence."""
    detail = open_server(args).duplicate(args.conflict)
    if args.json:
        print_json(detail)
        return 0
    c, a, b = detail["conflict"], detail["a_info"], detail["b_info"]
    print(f"#{c['id']} suspected duplicate — {c['title'] or '-'}")
    print(f"  a {c['entity_id']} commune {a['commune']} dossier {detail['a'].get('dossier_no')}")
    print(
        f"  b {c['other_entity_id']} commune {b['commune']} dossier {detail['b'].get('dossier_no')}"
    )
    rows = [
        ["=" if r["clashing"] and not r["differs"] else DIFFERS if r["differs"] else "", r["field"]]
        + [r["label"], repr(r["incoming"]), repr(r["current"])]
        for r in detail["evidence"]
    ]
    print_table(["", "FIELD", "LABEL", "A", "B"], rows)
    print(f"matched: {', '.join(detail['matched']) or 'nothing'} (= matched, {DIFFERS} differs)")
    return 0


def cmd_decide_duplicate(args: argparse.Namespace) -> int:
    """Keep both dossiers, or mark one the duplicate of the other (nothing is deleted)."""
    done = open_server(args).decide_duplicate(args.conflict, args.decision, args.reason)
    if done["change_id"] is None:
        print(f"conflict {args.conflict} closed (both records kept)")
    else:
        print(f"conflict {args.conflict} decided by change {done['change_id']}")
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    """Show every commune's sync health."""
    health = open_server(args).health()
    if args.json:
        print_json(health)
        return 0
    rows = [
        [h["commune"], h["devices"], when(h["last_sync"]), "STALE" if h["stale"] else "ok"]
        + [h["conflicts_open"], h["errors"], h["pending"], h["dossiers"], h["name"]]
        for h in health
    ]
    headers = ["COMMUNE", "DEVICES", "LAST SYNC", "SYNC", "CONFLICTS", "ERRORS", "PENDING"]
    print_table([*headers, "DOSSIERS", "NAME"], rows)
    return 0


def print_stats_cube(cube: list[StatsRow], form: str) -> None:
    """Print the dossier count cube as a table, ``json`` or ``csv``."""
    if form == "json":
        print_json(cube)
        return
    keys = ("period", "commune", "procedure", "status", "late_registration", "processing")
    rows = [[r[k] for k in keys] + [r["count"]] for r in cube]  # type: ignore[literal-required]
    if form == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([*keys, "count"])
        writer.writerows(rows)
        return
    print_table([k.upper() for k in keys] + ["COUNT"], rows)


def cmd_history(args: argparse.Namespace) -> int:
    """Show every version of a record, oldest first (losing values included)."""
    versions = open_server(args).history(args.entity_id)
    if args.json:
        print_json(versions)
        return 0
    rows = [
        [v["version"], v["server_seq"], v["kind"], v["device_id"], v["clerk"]]
        + [when(v["received_at"]), "deleted" if v["deleted"] else repr(v["changed"])]
        for v in versions
    ]
    print_table(["VERSION", "SEQ", "KIND", "DEVICE", "CLERK", "RECEIVED", "CHANGED"], rows)
    return 0


def cmd_operator_code(args: argparse.Namespace) -> int:
    """Issue a one-time code that enrols a console; the code is the last line printed."""
    issued = open_server(args).issue_operator_code(args.name, args.ttl_hours)
    print(f"one-time operator code for {issued['name']}, valid {args.ttl_hours:g} h:")
    print(issued["code"])
    return 0


def cmd_operators(args: argparse.Namespace) -> int:
    """List the operators enrolled to use a console."""
    operators = open_server(args).operators()
    if args.json:
        print_json(operators)
        return 0
    if not operators:
        print("no operators enrolled")
        return 0
    rows = [
        [o["operator_id"], o["status"], when(o["enrolled_at"]), when(o["last_seen"]), o["name"]]
        for o in operators
    ]
    print_table(["OPERATOR", "STATUS", "ENROLLED", "LAST SEEN", "NAME"], rows)
    return 0


def cmd_revoke_operator(args: argparse.Namespace) -> int:
    """Revoke an operator: its console is refused from its next request on."""
    open_server(args).revoke_operator(args.operator, args.reason)
    print(f"operator {args.operator} revoked")
    return 0


CONSOLE_COMMANDS: dict[str, tuple[str, Callable[[argparse.Namespace], int]]] = {
    "conflict": ("show one conflict side by side", cmd_conflict),
    "duplicate": ("show a suspected duplicate and its evidence", cmd_duplicate),
    "decide-duplicate": ("keep both, or mark one the duplicate of the other", cmd_decide_duplicate),
    "health": ("sync health of every commune", cmd_health),
    "history": ("every version of a record", cmd_history),
    "operator-code": ("issue a one-time code that enrols a console", cmd_operator_code),
    "operators": ("list the operators enrolled to use a console", cmd_operators),
    "revoke-operator": ("revoke an operator", cmd_revoke_operator),
}


def add_console_arguments(parsers: dict[str, argparse.ArgumentParser]) -> None:
    """Add the arguments of the console commands to their parsers."""
    for name in ("conflict", "duplicate", "decide-duplicate"):
        parsers[name].add_argument("conflict", type=int, help="conflict number (see `conflicts`)")
    for name in ("conflict", "duplicate", "health", "history", "operators"):
        parsers[name].add_argument("--json", action="store_true", help="print JSON")
    p = parsers["decide-duplicate"]
    p.add_argument(
        "--decision", required=True, choices=DECISIONS, help="a is the conflict's record"
    )
    p.add_argument("--reason", required=True, help="why (sent to the devices with the decision)")
    parsers["history"].add_argument("entity_id", help="the record's id")
    p = parsers["operator-code"]
    p.add_argument("--name", required=True, help="who will use the console (signs resolutions)")
    p.add_argument("--ttl-hours", type=float, default=72.0, help="lifetime (default 72)")
    p = parsers["revoke-operator"]
    p.add_argument("operator", help="operator id (see `operators`)")
    p.add_argument("--reason", required=True, help="shown to the console and in `operators`")


def parsed_choices(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Return the per-field choices of ``resolve --choose FIELD=current|incoming``.

    Raises:
        InvalidArgument: for a malformed choice.
    """
    choices: dict[str, dict[str, Any]] = {}
    for item in args.choose:
        field, _, side = item.partition("=")
        if not field or side not in ("current", "incoming"):
            raise InvalidArgument("choices", f"expects FIELD=current|incoming, not {item!r}")
        choices[field] = {"take": side}
    return choices
