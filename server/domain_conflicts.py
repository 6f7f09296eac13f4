"""Domain conflicts: the same event registered twice, or two dossiers with one book number.

After a push, the dossiers it stored are looked up by their hashed duplicate key and their
register-book key (:mod:`server.domain`). A match with another live dossier becomes a
conflict for provincial IT; both records are kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from server.rows import NewConflict, RecordRow
from server.storage import Tx

__all__ = ["StoredDossier", "find_domain_conflicts"]

#: The conflict kinds this pass raises, with the record column each is keyed on.
KINDS = (("duplicate", "dup_key"), ("book_number", "book_key"))
#: What a domain conflict shows of the two dossiers (no personal data).
SHOWN = ("procedure", "dossier_no", "book_type", "book_year", "book_number")


@dataclasses.dataclass(frozen=True)
class StoredDossier:
    """A dossier a push has just written.

    Attributes:
        record: its new state.
        before: its state before the change (None when the change created it).
        change: the change that wrote it.
        seq: that change's ``server_seq``.
    """

    record: RecordRow
    before: RecordRow | None
    change: Mapping[str, Any]
    seq: int


def find_domain_conflicts(
    tx: Tx, stored: Sequence[StoredDossier], results: list[dict[str, Any]], now: int
) -> None:
    """Record duplicate-event and same-book-number conflicts of the dossiers just stored.

    One query per key kind for the whole batch; only keys that are new or changed are
    looked up, so an edit of other fields costs nothing. A dossier is compared with
    everything stored before it (earlier in the batch included), as if applied one by one.
    The conflict ids are added to the results (by ``server_seq``) and to the logged changes.
    """
    if not stored:
        return
    # A record written twice in the batch is checked once, at its last state, against its
    # state before the batch.
    order = {s.record.entity_id: i for i, s in enumerate(stored)}
    first_before: dict[str, RecordRow | None] = {}
    for s in stored:
        first_before.setdefault(s.record.entity_id, s.before)
    by_seq = {r.get("server_seq"): r for r in results}
    for kind, column in KINDS:
        wanted = [
            (i, s)
            for i, s in enumerate(stored)
            if order[s.record.entity_id] == i
            and _key_is_new(s.record, first_before[s.record.entity_id], column)
        ]
        if not wanted:
            continue
        found: dict[str, list[RecordRow]] = {}
        for other in tx.records_with_keys(column, [getattr(s.record, column) for _i, s in wanted]):
            found.setdefault(getattr(other, column), []).append(other)
        for i, s in wanted:
            ids = []
            for other in found.get(getattr(s.record, column), []):
                if other.entity_id == s.record.entity_id or order.get(other.entity_id, -1) > i:
                    continue
                if tx.open_conflict_between(kind, s.record.entity_id, other.entity_id):
                    continue
                ids.append(tx.insert_conflict(_domain_conflict(kind, column, s, other, now)))
            if ids:
                result = by_seq[s.seq]
                result["conflict_ids"] = [*result.get("conflict_ids", []), *ids]
                tx.set_change_conflicts(s.seq, result["conflict_ids"])


def _key_is_new(record: RecordRow, before: RecordRow | None, column: str) -> bool:
    """Return True when a live record has a ``column`` key it did not have before the batch."""
    key = getattr(record, column)
    old = getattr(before, column) if before is not None and not before.deleted else None
    return bool(key) and key != old and not record.deleted


def _domain_conflict(
    kind: str, column: str, stored: StoredDossier, other: RecordRow, now: int
) -> NewConflict:
    """Return the conflict between a stored dossier and the ``other`` it matches."""
    record, change = stored.record, stored.change
    return NewConflict(
        kind=kind,
        entity="dossier",
        entity_id=record.entity_id,
        other_entity_id=other.entity_id,
        commune=record.commune,
        other_commune=other.commune,
        change_id=change["change_id"],
        server_seq=stored.seq,
        base_version=change["base_version"],
        current_version=other.version,
        fields=[column],
        base={},
        current={k: other.values.get(k) for k in SHOWN},
        incoming={k: record.values.get(k) for k in SHOWN},
        device_id=change["device_id"],
        clerk=change["clerk"],
        hlc=change["hlc"],
        created_at=now,
    )
