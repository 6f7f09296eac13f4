"""Diacritic-insensitive search over names, ID numbers and dossier numbers (FTS5).

The index is an FTS5 table whose rowid is the dossier's rowid and whose one column holds the
*folded* text (``vietnamese.fold``: no diacritics, đ→d, lower case) of the procedure's search
terms plus the dossier number, joined by `` | ``. Prefix indexes of 1, 2 and 3 characters
make search-as-you-type cheap. It is kept in step in the transaction that
writes the dossier (and lives inside the encrypted database like everything else).

Query rule (search as you type): the words are a phrase whose last word is a prefix
("giang a x" → ``"giang a x"*``), so they match consecutive words of one name, an ID number
or a dossier number. When that finds nothing, every word is tried as a prefix anywhere
(``giang* x*``), for names typed out of order. Candidates come newest first
(``ORDER BY rowid DESC``, which FTS5 walks without sorting, so the cost stays bounded at a
province's history) and are ranked on the indexed text: a term equal to the query (an exact
ID or dossier number or full name), then a term starting with it, then the rest; newest first
within each group.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from desktop.store import domain
from desktop.store.database import Connection

#: How many of the newest index hits are ranked per query.
CANDIDATES = 200
SEPARATOR = " | "
_WORD = re.compile(r"[0-9a-z]+")


def terms_for(record: Mapping[str, Any]) -> list[str]:
    """Return the folded search terms of a flat dossier record."""
    from desktop.forms.records import record_data

    terms: list[str] = []
    code = record.get("procedure")
    if code:
        try:
            procedure = domain.get_procedure(str(code))
        except ValueError:
            procedure = None
        if procedure is not None:
            terms.extend(procedure.search_terms(record_data(record)))
    if record.get("dossier_no"):
        terms.append(str(record["dossier_no"]))
    folded = (" ".join(_WORD.findall(domain.fold(t))) for t in terms if t)
    return [t for t in folded if t]


def index_record(conn: Connection, rowid: int, record: Mapping[str, Any] | str) -> None:
    """Put (or replace) a dossier's terms in the index, in the caller's transaction."""
    if isinstance(record, str):
        record = json.loads(record)
    assert not isinstance(record, str)
    text = SEPARATOR.join(terms_for(record))
    conn.execute("INSERT OR REPLACE INTO dossier_fts (rowid, terms) VALUES (?, ?)", (rowid, text))


def unindex(conn: Connection, rowid: int) -> None:
    """Remove a dossier from the index."""
    conn.execute("DELETE FROM dossier_fts WHERE rowid = ?", (rowid,))


def query_words(text: str) -> list[str]:
    """Return the folded words of a query (letters and digits only)."""
    return _WORD.findall(domain.fold(text or ""))


def _prefix_ok(word: str) -> bool:
    """Whether a word may match as a prefix.

    Letters always may (prefix indexes of 1-3 characters keep that fast). Digits of 4-6
    characters may not: thousands of distinct ID numbers share such a prefix, and merging them
    costs seconds at a province's history, so an ID matches as a prefix from its 7th digit
    (as typed: "0010990") and shorter numbers (dossier number parts) match whole.
    """
    return not (word.isdigit() and 4 <= len(word) <= 6)


def phrase_expression(words: list[str]) -> str:
    """Return the MATCH expression: the words as a phrase, the last one a prefix."""
    return '"' + " ".join(words) + '"' + ("*" if _prefix_ok(words[-1]) else "")


def loose_expression(words: list[str]) -> str:
    """Return the fallback MATCH expression: every word a prefix, in any order."""
    return " ".join(f'"{w}"' + ("*" if _prefix_ok(w) else "") for w in words)


def candidates(conn: Connection, text: str, limit: int = CANDIDATES) -> list[tuple[int, str]]:
    """Return (rowid, indexed text) of the newest dossiers matching ``text``."""
    words = query_words(text)
    if not words:
        return []
    sql = (
        "SELECT rowid, terms FROM dossier_fts WHERE dossier_fts MATCH ? ORDER BY rowid DESC LIMIT ?"
    )
    rows = conn.execute(sql, (phrase_expression(words), limit)).fetchall()
    if not rows and len(words) > 1:
        rows = conn.execute(sql, (loose_expression(words), limit)).fetchall()
    return [(int(r[0]), str(r[1])) for r in rows]


def _score(query: str, indexed: str) -> int:
    terms = indexed.split(SEPARATOR)
    if query in terms:
        return 0
    if any(t.startswith(query) for t in terms):
        return 1
    return 2


def rank(text: str, indexed: str) -> int:
    """Return a hit's rank: 0 a term equals the query, 1 a term starts with it, 2 other."""
    return _score(" ".join(query_words(text)), indexed)


def ranked_rowids(conn: Connection, text: str, limit: int) -> list[int]:
    """Return the rowids of the best ``limit`` hits, best first (newest first per rank)."""
    query = " ".join(query_words(text))
    scored = sorted((_score(query, indexed), -rowid) for rowid, indexed in candidates(conn, text))
    return [-neg for _, neg in scored[:limit]]
