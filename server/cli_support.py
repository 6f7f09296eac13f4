"""What the ``motcua-server`` commands share: opening the server, times, values and tables."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.service import SyncServer

__all__ = ["open_server", "parse_value", "print_json", "print_table", "when"]


def when(ms: int | None) -> str:
    """Return a server time (Unix ms) as ``YYYY-MM-DD HH:MM`` UTC, ``-`` for none."""
    if ms is None:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M")


def open_server(args: argparse.Namespace, *, init: bool = False) -> SyncServer:
    """Open the server database the command line names (``--db``)."""
    from server.service import SyncServer

    return SyncServer.open(args.db, init=init)


def parse_value(text: str) -> Any:
    """Return a typed field value: JSON when it parses to a scalar (``7``, ``null``), else text."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return text if isinstance(value, (dict, list)) else value


def print_json(obj: Any) -> None:
    """Print ``obj`` as indented JSON, Vietnamese letters as they are."""
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print rows under headers in columns as wide as their widest cell (the last one free)."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    for row in [list(headers), *cells]:
        padded = [c.ljust(w) for c, w in zip(row[:-1], widths[:-1])]
        print("  ".join([*padded, row[-1]]).rstrip())
