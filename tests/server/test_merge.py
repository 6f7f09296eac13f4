"""Merge rules (server/merge.py): examples from the protocol, and properties with hypothesis."""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from server.merge import Decision, Incoming, RecordState, VersionStep, decide

ME, OTHER = "dev-a", "dev-b"
BASE = {"data.tre_ten": "An", "data.tre_ho": "Giàng", "status": "tiep_nhan"}


def edit(fields: dict[str, Any], base: int = 1, device: str = ME) -> Incoming:
    return Incoming(device, "upsert", base, {k: [BASE.get(k), v] for k, v in fields.items()})


def state_after(changes: dict[str, Any], deleted: bool = False) -> RecordState:
    return RecordState(2, {**BASE, **changes}, deleted)


def step(changes: dict[str, Any], device: str = OTHER, deleted: bool = False) -> VersionStep:
    return VersionStep(2, device, changes, deleted)


# --- examples -------------------------------------------------------------------------------


def test_create_of_new_record_is_applied() -> None:
    d = decide(None, [], Incoming(ME, "upsert", 0, {"a": [None, 1]}))
    assert d == Decision("applied", writes={"a": 1})


def test_edit_or_delete_of_unknown_record_is_rejected() -> None:
    assert decide(None, [], edit({"a": 1}, base=3)).status == "rejected"
    assert decide(None, [], Incoming(ME, "delete", 0, {})).status == "rejected"


def test_untouched_base_is_applied() -> None:
    d = decide(RecordState(1, BASE), [], edit({"data.tre_ten": "Ân"}))
    assert (d.status, d.writes) == ("applied", {"data.tre_ten": "Ân"})


def test_disjoint_fields_merge() -> None:
    d = decide(
        state_after({"data.tre_ho": "Vàng"}),
        [step({"data.tre_ho": "Vàng"})],
        edit({"data.tre_ten": "Ân"}),
    )
    assert (d.status, d.writes) == ("merged", {"data.tre_ten": "Ân"})


def test_same_field_same_value_merges() -> None:
    d = decide(
        state_after({"data.tre_ten": "Ân"}),
        [step({"data.tre_ten": "Ân"})],
        edit({"data.tre_ten": "Ân"}),
    )
    assert (d.status, d.writes) == ("merged", {})


def test_same_field_other_value_conflicts() -> None:
    d = decide(
        state_after({"data.tre_ten": "Anh"}),
        [step({"data.tre_ten": "Anh"})],
        edit({"data.tre_ten": "Ân"}),
    )
    assert (d.status, d.kind, d.clashing, d.writes) == ("conflict", "field", ("data.tre_ten",), {})


def test_own_later_versions_are_known_to_the_device() -> None:
    # The device created the record (v1) and edits it again before pulling anything: base 0.
    rec = RecordState(1, {"a": 1})
    d = decide(rec, [VersionStep(1, ME, {"a": 1})], Incoming(ME, "upsert", 0, {"a": [1, 2]}))
    assert (d.status, d.writes) == ("applied", {"a": 2})


def test_create_of_existing_id_by_another_device_conflicts() -> None:
    rec = RecordState(1, {"a": 1})
    d = decide(rec, [VersionStep(1, OTHER, {"a": 1})], Incoming(ME, "upsert", 0, {"a": [None, 5]}))
    assert (d.status, d.kind) == ("conflict", "field")
    same = decide(
        rec, [VersionStep(1, OTHER, {"a": 1})], Incoming(ME, "upsert", 0, {"a": [None, 1]})
    )
    assert same.status == "merged"


def test_delete_against_edit_conflicts_both_ways() -> None:
    d = decide(
        state_after({"data.tre_ho": "Vàng"}),
        [step({"data.tre_ho": "Vàng"})],
        Incoming(ME, "delete", 1, {}),
    )
    assert (d.status, d.kind) == ("conflict", "delete")
    gone = RecordState(2, BASE, deleted=True)
    d = decide(gone, [step({}, deleted=True)], edit({"data.tre_ten": "Ân"}))
    assert (d.status, d.kind) == ("conflict", "delete")


def test_cancel_against_edit_conflicts_both_ways() -> None:
    d = decide(
        state_after({"data.tre_ho": "Vàng"}),
        [step({"data.tre_ho": "Vàng"})],
        edit({"status": "huy"}),
    )
    assert (d.status, d.kind) == ("conflict", "delete")
    d = decide(
        state_after({"status": "huy"}), [step({"status": "huy"})], edit({"data.tre_ten": "Ân"})
    )
    assert (d.status, d.kind) == ("conflict", "delete")


def test_both_cancel_or_both_delete_merge() -> None:
    d = decide(state_after({"status": "huy"}), [step({"status": "huy"})], edit({"status": "huy"}))
    assert d.status == "merged"
    gone = RecordState(2, BASE, deleted=True)
    assert decide(gone, [step({}, deleted=True)], Incoming(ME, "delete", 1, {})).status == "merged"


def test_delete_without_concurrent_edit_is_applied() -> None:
    d = decide(RecordState(1, BASE), [], Incoming(ME, "delete", 1, {}))
    assert (d.status, d.delete) == ("applied", True)


# --- properties ------------------------------------------------------------------------------

keys = st.sampled_from(["data.a", "data.b", "data.c", "data.d", "status"])
values = st.one_of(st.none(), st.integers(0, 3), st.sampled_from(["x", "y", "tiep_nhan", "huy"]))
field_maps = st.dictionaries(keys, values, max_size=4)


@st.composite
def scenario(draw: st.DrawFn) -> tuple[RecordState, list[VersionStep], Incoming]:
    base_values = draw(field_maps)
    steps = []
    current = dict(base_values)
    for i in range(draw(st.integers(0, 3))):
        changed = draw(field_maps)
        steps.append(VersionStep(2 + i, draw(st.sampled_from([ME, OTHER, "server"])), changed))
        current.update(changed)
    incoming_new = draw(field_maps)
    change = Incoming(
        ME, "upsert", 1, {k: [base_values.get(k), v] for k, v in incoming_new.items()}
    )
    return RecordState(1 + len(steps), current), steps, change


@settings(max_examples=400, deadline=None)
@given(scenario())
def test_conflicts_write_nothing_and_merges_keep_others_work(
    s: tuple[RecordState, list[VersionStep], Incoming],
) -> None:
    record, steps, change = s
    d = decide(record, steps, change)
    assert d.status in ("applied", "merged", "conflict")
    if d.status == "conflict":
        assert d.writes == {} and d.clashing
        return
    # Fields the change does not touch keep what the others wrote.
    assert set(d.writes) <= set(change.fields)
    merged = {**record.values, **d.writes}
    for k, v in record.values.items():
        if k not in change.fields:
            assert merged[k] == v
    # And every field the change touched ends at the change's new value.
    for k, (_old, new) in change.fields.items():
        assert merged.get(k) == new


@settings(max_examples=300, deadline=None)
@given(scenario())
def test_without_other_parties_there_is_never_a_conflict(
    s: tuple[RecordState, list[VersionStep], Incoming],
) -> None:
    record, steps, change = s
    own = [VersionStep(x.version, ME, x.changed) for x in steps]
    assert decide(record, own, change).status == "applied"


@settings(max_examples=300, deadline=None)
@given(scenario())
def test_disjoint_edits_never_conflict(s: tuple[RecordState, list[VersionStep], Incoming]) -> None:
    record, steps, change = s
    touched = {k for x in steps if x.device_id != ME for k in x.changed}
    assume(not touched & set(change.fields))
    assume(
        record.values.get("status") != "huy"
        and not any(x.changed.get("status") == "huy" for x in steps)
    )
    assume(change.fields.get("status", [None, None])[1] != "huy")
    assert decide(record, steps, change).status in ("applied", "merged")


@settings(max_examples=300, deadline=None)
@given(field_maps, st.sampled_from(["data.a", "data.b"]), values, values)
def test_two_devices_same_field_exactly_one_conflict(
    base: dict[str, Any], key: str, first: Any, second: Any
) -> None:
    """Two devices edit one field from the same base: the second to arrive conflicts iff the
    values differ (and the first never does), whatever the order of their clocks."""
    assume(first != base.get(key) and second != base.get(key))
    record = RecordState(1, base)
    a = Incoming(ME, "upsert", 1, {key: [base.get(key), first]})
    b = Incoming(OTHER, "upsert", 1, {key: [base.get(key), second]})
    da = decide(record, [], a)
    assert da.status == "applied"
    after = RecordState(2, {**base, **da.writes})
    db = decide(after, [VersionStep(2, ME, da.writes)], b)
    assert (db.status == "conflict") == (first != second)


@settings(max_examples=200, deadline=None)
@given(scenario())
def test_replaying_an_applied_change_writes_nothing(
    s: tuple[RecordState, list[VersionStep], Incoming],
) -> None:
    record, steps, change = s
    d = decide(record, steps, change)
    assume(d.status in ("applied", "merged"))
    after = RecordState(record.version + 1, {**record.values, **d.writes})
    again = decide(after, [*steps, VersionStep(record.version + 1, ME, d.writes)], change)
    assert again.status in ("applied", "merged") and again.writes == {}
