"""Append-only, hash-chained audit log: who did what, when.

Each entry holds ``prev_hash`` (the previous entry's hash; 64 zeros for the first) and
``hash`` = SHA-256 over the canonical JSON of the entry's fields including ``prev_hash``. An
edited, removed or reordered entry breaks the chain from that point, which
:func:`verify_audit` reports. Removing entries from the *end* cannot be seen from the chain
alone; the sync engine signs the chain head per batch (``batch_signatures``) for that.

Summaries carry no personal data (no names, no ID numbers): procedure, dossier number,
statuses and the names of changed fields only, so the log can be shown to IT as is.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from desktop.store.database import Connection

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    """One entry of the audit log."""

    seq: int
    at: str
    clerk: str | None
    action: str
    entity: str | None
    entity_id: str | None
    summary: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class AuditReport:
    """The result of checking the chain.

    Attributes:
        ok: every entry's hash is right and links to the one before.
        entries: how many entries were checked.
        first_bad_seq: the first entry that does not verify, or None.
    """

    ok: bool
    entries: int
    first_bad_seq: int | None


def entry_hash(
    *,
    seq: int,
    at: str,
    clerk: str | None,
    action: str,
    entity: str | None,
    entity_id: str | None,
    summary: str,
    prev_hash: str,
) -> str:
    """Return the SHA-256 hex digest of an entry's canonical JSON."""
    body = {
        "action": action,
        "at": at,
        "clerk": clerk,
        "entity": entity,
        "entity_id": entity_id,
        "prev_hash": prev_hash,
        "seq": seq,
        "summary": summary,
    }
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def append_audit(
    conn: Connection,
    *,
    at: str,
    clerk: str | None,
    action: str,
    summary: str,
    entity: str | None = None,
    entity_id: str | None = None,
) -> AuditEntry:
    """Append an entry in the caller's transaction and return it."""
    last = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    digest = entry_hash(
        seq=seq,
        at=at,
        clerk=clerk,
        action=action,
        entity=entity,
        entity_id=entity_id,
        summary=summary,
        prev_hash=prev,
    )
    conn.execute(
        "INSERT INTO audit (seq, at, clerk, action, entity, entity_id, summary, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, at, clerk, action, entity, entity_id, summary, prev, digest),
    )
    return AuditEntry(seq, at, clerk, action, entity, entity_id, summary, prev, digest)


_SELECT = "SELECT seq, at, clerk, action, entity, entity_id, summary, prev_hash, hash FROM audit"


def audit_trail(conn: Connection, entity_id: str) -> list[AuditEntry]:
    """Return the entries about one entity, oldest first."""
    rows = conn.execute(f"{_SELECT} WHERE entity_id = ? ORDER BY seq", (entity_id,))
    return [AuditEntry(*r) for r in rows.fetchall()]


def verify_audit(conn: Connection) -> AuditReport:
    """Check every entry's hash and link; report the first entry that breaks the chain."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for row in conn.execute(f"{_SELECT} ORDER BY seq"):
        entry = AuditEntry(*row)
        count += 1
        digest = entry_hash(
            seq=entry.seq,
            at=entry.at,
            clerk=entry.clerk,
            action=entry.action,
            entity=entry.entity,
            entity_id=entry.entity_id,
            summary=entry.summary,
            prev_hash=entry.prev_hash,
        )
        if entry.seq != expected_seq or entry.prev_hash != prev or entry.hash != digest:
            return AuditReport(ok=False, entries=count, first_bad_seq=entry.seq)
        prev = entry.hash
        expected_seq += 1
    return AuditReport(ok=True, entries=count, first_bad_seq=None)


def chain_head(conn: Connection) -> tuple[int, str]:
    """Return (seq, hash) of the last entry ((0, GENESIS) when empty): what a batch signs."""
    row = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


@dataclass(frozen=True)
class AuditRange:
    """Entries ``first_seq..last_seq`` of the chain, whose last entry has ``head_hash``."""

    first_seq: int
    last_seq: int
    head_hash: str


def unsigned_range(conn: Connection) -> AuditRange | None:
    """Return the entries no batch signature covers yet, or None when all are signed."""
    last, head = chain_head(conn)
    row = conn.execute("SELECT max(last_audit_seq) FROM batch_signatures").fetchone()
    signed = int(row[0] or 0)
    if last <= signed:
        return None
    return AuditRange(signed + 1, last, head)


def record_batch_signature(
    conn: Connection, signed: AuditRange, *, key_id: str, signature: str, signed_at: str
) -> None:
    """Keep the sync engine's signature over a range of the chain (caller's transaction).

    The row also names the outbox entries written since the previous signature, so the
    signature can be matched to the changes it vouches for.
    """
    top = conn.execute("SELECT max(device_seq) FROM outbox").fetchone()[0]
    low = conn.execute("SELECT max(last_device_seq) FROM batch_signatures").fetchone()[0]
    conn.execute(
        "INSERT INTO batch_signatures (first_audit_seq, last_audit_seq, first_device_seq, "
        "last_device_seq, key_id, signature, signed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            signed.first_seq,
            signed.last_seq,
            int(low or 0) + 1 if top else None,
            int(top) if top else None,
            key_id,
            signature,
            signed_at,
        ),
    )
