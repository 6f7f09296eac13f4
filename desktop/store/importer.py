"""Import dossiers from a JSON-lines file (format: docs/import-format.md).

Two passes, so that bad input writes nothing: :func:`check_file` reads and validates every
line (and checks for duplicates) and raises :class:`ImportFailed` listing each bad line by
number; only a clean file reaches :func:`import_lines`, which saves one dossier per
transaction and calls ``on_saved`` after each commit. Every saved line's hash is recorded in
the same transaction, so re-running an import that was interrupted (power cut, killed
process) saves the remaining lines and skips the saved ones: never half a dossier, never a
dossier twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.forms.validation_result import ValidationError
from desktop.store import dossiers
from desktop.store.context import WriteContext
from desktop.store.database import Connection
from desktop.store.errors import StoreError

if TYPE_CHECKING:
    from desktop.store.store import Store

#: Stop listing problems after this many (the file is refused anyway).
MAX_PROBLEMS = 50


@dataclass(frozen=True)
class ImportProblem:
    """A bad line: its 1-based number and what is wrong (English, with field messages)."""

    line_no: int
    message: str

    def __str__(self) -> str:
        """Return ``line N: message``."""
        return f"line {self.line_no}: {self.message}"


class ImportFailed(StoreError):
    """The file has bad lines; nothing was imported.

    Attributes:
        problems: the bad lines (at most :data:`MAX_PROBLEMS`).
    """

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} bad line(s); nothing was imported")


@dataclass
class ImportLine:
    """A checked line, ready to save."""

    line_no: int
    line_hash: str
    prepared: dossiers.PreparedDossier
    allow_duplicate: bool


@dataclass(frozen=True)
class ImportReport:
    """What an import did."""

    saved: int
    skipped: int


def _parse_received(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError("received_at must be an ISO date-time string")
    when = dt.datetime.fromisoformat(value)
    if when.tzinfo is not None:
        when = when.astimezone().replace(tzinfo=None)
    return when


def _describe(exc: Exception) -> str:
    """Return a bad line's problem: each field's message, or the parse error."""
    if isinstance(exc, ValidationError) and exc.errors:
        return "; ".join(f"{e.field or 'data'}: {e.message}" for e in exc.errors)
    return str(exc)


def check_file(store: Store, path: Path, *, allow_duplicates: bool = False) -> list[ImportLine]:
    """Read and validate every line of an import file (each line is validated once).

    Args:
        store: the open store (for duplicate checks and the clock).
        path: the JSON-lines file.
        allow_duplicates: accept dossiers that look like ones in the store or earlier in
            the file.

    Returns:
        The checked lines, in file order (blank lines are ignored).

    Raises:
        ImportFailed: at least one line is bad (nothing is imported).
        StoreError: the file cannot be read.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"cannot read {path}: {exc}") from exc
    problems: list[ImportProblem] = []
    lines: list[ImportLine] = []
    seen_keys: dict[str, int] = {}
    for line_no, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        if len(problems) >= MAX_PROBLEMS:
            break
        try:
            line = _check_line(store, line_no, raw, allow_duplicates)
        except ValueError as exc:  # JSON errors and ValidationError are ValueErrors
            problems.append(ImportProblem(line_no, _describe(exc)))
            continue
        key = line.prepared.dup_key
        if not allow_duplicates and key:
            if key in seen_keys:
                problems.append(
                    ImportProblem(line_no, f"same event as line {seen_keys[key]} (duplicate)")
                )
                continue
            seen_keys[key] = line_no
        lines.append(line)
    if not allow_duplicates and not problems:
        problems = _duplicates_in_store(store, lines)
    if problems:
        raise ImportFailed(problems)
    return lines


_LINE_KEYS = {"procedure", "received_at", "data", "id", "record", "server_version"}


def _check_line(store: Store, line_no: int, raw: str, allow_duplicate: bool) -> ImportLine:
    """Parse and validate one line.

    Raises:
        ValueError: bad JSON, a bad shape, or invalid dossier data (``ValidationError``).
    """
    obj = json.loads(raw)
    if not isinstance(obj, dict):
        raise ValueError("a line must be a JSON object")
    unknown = set(obj) - _LINE_KEYS
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
    if not isinstance(obj.get("procedure"), str):
        raise ValueError("'procedure' (a string) is required")
    if not isinstance(obj.get("data"), dict):
        raise ValueError("'data' (an object of field values) is required")
    received = _parse_received(obj["received_at"]) if obj.get("received_at") is not None else None
    prepared = store.prepare_dossier(obj["procedure"], obj["data"], received_at=received)
    canonical = json.dumps(
        {k: obj.get(k) for k in ("procedure", "received_at", "data")},
        ensure_ascii=False,
        sort_keys=True,
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return ImportLine(line_no, digest, prepared, allow_duplicate)


def _imported_hashes(conn: Connection) -> set[str]:
    return {h for (h,) in conn.execute("SELECT line_hash FROM imported_lines")}


def _duplicates_in_store(store: Store, lines: list[ImportLine]) -> list[ImportProblem]:
    """Return a problem for each new line that looks like a dossier already in the store."""
    done = store.read(_imported_hashes)
    problems = []
    for line in lines:
        if line.line_hash in done:
            continue  # saved by an earlier run of this import: skipped, not a duplicate
        dups = store.find_duplicates(line.prepared)
        if dups:
            problems.append(
                ImportProblem(
                    line.line_no,
                    "likely duplicate of dossier(s) already in the store: "
                    + ", ".join(d.dossier_no for d in dups[:3]),
                )
            )
    return problems


def import_lines(
    store: Store,
    lines: Iterable[ImportLine],
    on_saved: Callable[[ImportLine, str | None], None] | None = None,
) -> ImportReport:
    """Save checked lines, one transaction each; skip lines an earlier run already saved.

    Args:
        store: the open store.
        lines: from :func:`check_file`.
        on_saved: called after each commit with the line and the new dossier id (None when
            the line was skipped because it was imported before).
    """
    saved = skipped = 0
    for line in lines:

        def fn(conn: Connection, ctx: WriteContext, line: ImportLine = line) -> str | None:
            if conn.execute(
                "SELECT 1 FROM imported_lines WHERE line_hash = ?", (line.line_hash,)
            ).fetchone():
                return None
            record = dossiers.insert(conn, ctx, line.prepared, allow_duplicate=True)
            conn.execute(
                "INSERT INTO imported_lines (line_hash, dossier_id, imported_at) VALUES (?, ?, ?)",
                (line.line_hash, record.id, ctx.timestamp()),
            )
            return record.id

        dossier_id = store.write(fn)
        if dossier_id is None:
            skipped += 1
        else:
            saved += 1
        if on_saved is not None:
            on_saved(line, dossier_id)
    return ImportReport(saved=saved, skipped=skipped)
