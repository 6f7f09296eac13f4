"""Push: apply a device's batch of changes, in device order, under the write lock.

Each change is numbered, decided by :mod:`server.merge`, applied (:func:`record_version`) or
kept as a conflict, and logged (:func:`log_change`), whatever its status. A change already held
is answered as it was the first time; a change after a gap in the device's sequence is
deferred. The dossiers stored are then checked for domain conflicts
(:mod:`server.domain_conflicts`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from protocol import wire
from server import merge
from server.changes import change_result, log_change, record_version
from server.domain_conflicts import StoredDossier, find_domain_conflicts
from server.rows import DeviceRow, NewConflict, RecordRow
from server.storage import Tx

__all__ = ["ClonedIdentity", "push_changes"]

RecordKey = tuple[str, str]


class ClonedIdentity(Exception):
    """A device sent two different changes under one ``device_seq``: two machines share it.

    Args:
        device_seq: the number sent twice.
    """

    def __init__(self, device_seq: int) -> None:
        super().__init__(f"device_seq {device_seq} sent twice with different changes")
        self.device_seq = device_seq


def push_changes(
    tx: Tx, device: DeviceRow, changes: Sequence[Mapping[str, Any]], now: int
) -> tuple[list[dict[str, Any]], int]:
    """Apply a device's pushed changes (the caller holds the write lock).

    Returns:
        One result per change, in device order, and the device's highest ``device_seq`` held
        without a gap.

    Raises:
        ClonedIdentity: before anything is applied, when a held number comes with another
            change.
    """
    ordered = sorted(changes, key=lambda c: c["device_seq"])
    held = tx.changes_by_device_seqs(device.device_id, [c["device_seq"] for c in ordered])
    for change in ordered:
        known = held.get(change["device_seq"])
        if known is not None and known.change_id != change["change_id"]:
            raise ClonedIdentity(change["device_seq"])
    held_conflicts = tx.conflict_ids_by_seq([c.server_seq for c in held.values()])
    fresh = [c for c in ordered if c["device_seq"] not in held]
    batch = _Batch(tx, device, now, fresh)
    top = device.last_device_seq
    results: list[dict[str, Any]] = []
    for change in ordered:
        known = held.get(change["device_seq"])
        if known is not None:
            results.append(change_result(known, held_conflicts.get(known.server_seq, [])))
        elif change["device_seq"] != top + 1:
            results.append(
                {
                    "device_seq": change["device_seq"],
                    "change_id": change["change_id"],
                    "status": wire.STATUS_DEFERRED,
                    "reason": f"device_seq {top + 1} is missing: send it first",
                }
            )
        else:
            results.append(batch.apply(change))
            top = change["device_seq"]
    find_domain_conflicts(tx, batch.stored, results, now)
    return results, top


class _Batch:
    """The new changes of one push, applied one by one.

    ``cache`` holds the batch's records (kept current as changes apply) and ``taken`` the
    change ids already in the log, so a batch costs few round trips; ``stored`` collects the
    dossiers written, for the domain pass.
    """

    def __init__(
        self, tx: Tx, device: DeviceRow, now: int, fresh: Sequence[Mapping[str, Any]]
    ) -> None:
        self.tx = tx
        self.device = device
        self.now = now
        self.taken = tx.existing_change_ids([c["change_id"] for c in fresh])
        keys = [(c["entity"], c["entity_id"]) for c in fresh]
        self.cache: dict[RecordKey, RecordRow | None] = dict.fromkeys(keys)
        self.cache.update(tx.get_records(keys))
        self.stored: list[StoredDossier] = []

    def apply(self, change: Mapping[str, Any]) -> dict[str, Any]:
        """Decide, apply and log one change.

        Returns:
            The change's result, exactly as a replay of it will report it.
        """
        key = (change["entity"], change["entity_id"])
        record = self.cache[key] if key in self.cache else self.tx.get_record(*key)
        decision = self._decide(change, record)
        self.taken.add(change["change_id"])
        number = self.tx.next_seq(change["change_id"])
        seq = number[0]
        new_version: int | None = None
        applied: dict[str, list[Any]] = {}
        conflict_ids: list[int] = []
        if decision.status in (wire.STATUS_APPLIED, wire.STATUS_MERGED):
            # Same values as held: nothing changes, no new version.
            if record is None or decision.writes or decision.delete:
                written, applied = record_version(
                    self.tx, record, change, decision.writes, delete=decision.delete, seq=seq
                )
                new_version = written.version
                self.cache[key] = written
                if change["entity"] == "dossier":
                    self.stored.append(StoredDossier(written, record, change, seq))
        elif decision.status == wire.STATUS_CONFLICT:
            assert record is not None
            conflict_ids.append(self._keep_conflict(change, record, decision, seq))
        row = log_change(
            self.tx,
            change,
            number,
            status=decision.status,
            new_version=new_version,
            applied=applied,
            reason=decision.reason,
            conflict_ids=conflict_ids,
            received_at=self.now,
        )
        return change_result(row, conflict_ids)

    def _decide(self, change: Mapping[str, Any], record: RecordRow | None) -> merge.Decision:
        """Refuse what this device may not push; let the merge rules decide the rest."""
        if change["change_id"] in self.taken:
            return merge.Decision("rejected", reason="change_id already used by another change")
        if change["commune"] != self.device.commune:
            return merge.Decision(
                "rejected", reason="change is for another commune than this device's"
            )
        if record is not None and record.commune != self.device.commune:
            return merge.Decision("rejected", reason="record belongs to another commune")
        steps = []
        if record is not None and record.version > change["base_version"]:
            for v in self.tx.versions(
                change["entity"], change["entity_id"], after=change["base_version"]
            ):
                steps.append(
                    merge.VersionStep(v["version"], v["device_id"], v["changed"], v["deleted"])
                )
        state = (
            None
            if record is None
            else merge.RecordState(record.version, record.values, record.deleted)
        )
        incoming = merge.Incoming(
            self.device.device_id, change["op"], change["base_version"], change["fields"]
        )
        return merge.decide(state, steps, incoming)

    def _keep_conflict(
        self, change: Mapping[str, Any], record: RecordRow, decision: merge.Decision, seq: int
    ) -> int:
        """Store the conflict ``change`` raised against ``record``; return its id."""
        entity, entity_id = change["entity"], change["entity_id"]
        touched = sorted(set(change["fields"]) | set(decision.clashing))
        base_values = self.tx.version_values(entity, entity_id, change["base_version"]) or {}
        incoming: dict[str, Any] = {k: v[1] for k, v in change["fields"].items()}
        if change["op"] == "delete":
            incoming = {"_op": "delete"}
        return self.tx.insert_conflict(
            NewConflict(
                kind=decision.kind or "field",
                entity=entity,
                entity_id=entity_id,
                other_entity_id=None,
                commune=record.commune,
                other_commune=None,
                change_id=change["change_id"],
                server_seq=seq,
                base_version=change["base_version"],
                current_version=record.version,
                fields=list(decision.clashing),
                base={k: base_values.get(k) for k in touched},
                current={k: record.values.get(k) for k in touched}
                | ({"_op": "delete"} if record.deleted else {}),
                incoming=incoming,
                device_id=self.device.device_id,
                clerk=change["clerk"],
                hlc=change["hlc"],
                created_at=self.now,
            )
        )
