"""Audit: hash chain over every action, tamper detection, no personal data in summaries."""

from __future__ import annotations

from typing import Any

from desktop.store.store import Store
from tests.forms.samples import BIRTH, RECEIVED


def _fill(store: Store) -> str:
    record = store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    store.update_dossier(record.id, {"tre_ten": "Ân"})
    store.transition(record.id, "cho_ky")
    return record.id


def test_every_action_is_chained(store: Store) -> None:
    dossier_id = _fill(store)
    trail = store.audit_trail(dossier_id)
    assert [e.action for e in trail] == ["dossier.create", "dossier.update", "dossier.transition"]
    assert all(e.clerk == "lan" for e in trail)
    report = store.verify_audit()
    assert report.ok and report.first_bad_seq is None and report.entries >= 5


def test_summaries_hold_no_personal_data(store: Store) -> None:
    _fill(store)
    rows = store.read(lambda c: c.execute("SELECT summary FROM audit").fetchall())
    text = " ".join(r[0] for r in rows)
    for personal in ("Xà", "Ân", "Giàng", "Sùng", "015301001234"):
        assert personal not in text


def _tamper(store: Store, sql: str, *args: Any) -> None:
    # Bypass the API the way an attacker with the key would.
    store._writer.execute(lambda conn: conn.execute(sql, args))  # noqa: SLF001


def test_an_edited_entry_is_found(store: Store) -> None:
    _fill(store)
    _tamper(store, "UPDATE audit SET clerk = 'mallory' WHERE seq = 3")
    report = store.verify_audit()
    assert (report.ok, report.first_bad_seq) == (False, 3)


def test_a_removed_entry_is_found(store: Store) -> None:
    _fill(store)
    _tamper(store, "DELETE FROM audit WHERE seq = 2")
    assert store.verify_audit().first_bad_seq == 3


def test_a_rehashed_entry_still_breaks_the_link(store: Store) -> None:
    from desktop.store.audit import entry_hash

    _fill(store)
    row = store.read(
        lambda c: c.execute(
            "SELECT seq, at, clerk, action, entity, entity_id, summary, prev_hash FROM audit "
            "WHERE seq = 2"
        ).fetchone()
    )
    forged = entry_hash(
        seq=row[0],
        at=row[1],
        clerk="mallory",
        action=row[3],
        entity=row[4],
        entity_id=row[5],
        summary=row[6],
        prev_hash=row[7],
    )
    _tamper(store, "UPDATE audit SET clerk = 'mallory', hash = ? WHERE seq = 2", forged)
    assert store.verify_audit().first_bad_seq == 3
