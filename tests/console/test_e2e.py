"""End to end: provincial IT's console against a real server process, with real devices.

A real ``motcua-server serve`` (SQLite and PostgreSQL), real commune profiles syncing over HTTP
on 127.0.0.1, and a provincial profile enrolled as an operator with a code from ``motcua-server
operator-code``. What provincial IT and the clerks would check: a conflict two PCs made is
listed, opened side by side, resolved field by field with a reason, and both PCs then hold the
decided values while the losing value stays in the record's history and each PC's audit trail
says who decided and why; a birth registered in two communes is marked a duplicate without
losing either record; a device revoked in the console is told why at its next sync and comes
back with a fresh code; the devices screen shows what the devices report; a lost answer over a
cut link does not make a decision twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bench.faultproxy import FaultProxy
from desktop.console.client import AdminClient
from desktop.console.enrolment import enrol_operator, is_enrolled
from desktop.console.service import ConsoleError
from desktop.store.store import Store
from desktop.sync.device_report import app_version
from desktop.sync.status import SyncState
from tests.console.conftest import (
    FAST_POLICY,
    OPERATOR,
    PHONE_TYPED,
    PLACE_A,
    PLACE_B,
    REASON,
    field_conflict,
    operator_code,
    sync_all,
)
from tests.forms.samples import RECEIVED
from tests.store.factory import birth
from tests.sync.conftest import (
    COMMUNE,
    OTHER_COMMUNE,
    PASSWORD,
    Device,
    ServerProcess,
    motcua_cli,
    server_changes,
    server_records,
)


@pytest.fixture
def console(server: ServerProcess, province: Store) -> Iterator[AdminClient]:
    """The provincial profile enrolled with the server, and its client."""
    enrol_operator(province, server.url, operator_code(server), label="PC CNTT tỉnh")
    client = AdminClient.from_store(province, policy=FAST_POLICY)
    try:
        yield client
    finally:
        client.close()


def test_an_operator_enrols_with_a_code_from_the_server(
    server: ServerProcess, make_province: Callable[[str], Store]
) -> None:
    first, second = make_province("one"), make_province("two")
    code = operator_code(server)
    with pytest.raises(ConsoleError) as wrong:
        enrol_operator(first, server.url, "AAAAA-AAAAA")
    assert wrong.value.code == "enrol_refused" and "không đúng" in wrong.value.clerk_message
    done = enrol_operator(first, server.url, code, label="PC CNTT")
    assert done.name == OPERATOR and done.operator_id == first.device_id
    assert is_enrolled(first)
    again = enrol_operator(first, server.url, code)  # the answer was lost: the same keys again
    assert again == done
    with pytest.raises(ConsoleError) as used:
        enrol_operator(second, server.url, code)
    assert "đã được dùng" in used.value.clerk_message and not is_enrolled(second)
    operators = json.loads(server.cli("operators", "--json"))
    assert [(o["operator_id"], o["name"]) for o in operators] == [(first.device_id, OPERATOR)]


def test_a_conflict_of_two_devices_is_resolved_field_by_field_and_reaches_both(
    server: ServerProcess, make_device: Callable[..., Device], console: AdminClient
) -> None:
    a, b, dossier, base = field_conflict(make_device, server)
    page = console.conflicts(commune=COMMUNE)
    assert page["total"] == 1
    (row,) = page["items"]
    assert row["kind"] == "field" and row["entity_id"] == dossier.id
    assert {"data.tre_noi_sinh", "data.nguoi_yeu_cau_dien_thoai"} <= set(row["fields"])
    assert console.conflicts(commune=OTHER_COMMUNE)["total"] == 0

    detail = console.conflict(row["id"])
    rows = {r["field"]: r for r in detail["fields"]}
    place = rows["data.tre_noi_sinh"]
    assert (place["base"], place["current"], place["incoming"]) == (
        base["data.tre_noi_sinh"],
        PLACE_A,
        PLACE_B,
    )
    assert place["differs"] and place["clashing"] and place["label"]
    assert detail["current"]["device_id"] == a.store.device_id
    assert detail["incoming"]["device_id"] == b.store.device_id
    assert detail["incoming"]["commune"] == COMMUNE and detail["incoming"]["clerk"] == "lan"

    choices = {
        "data.tre_noi_sinh": {"take": "incoming"},
        "data.nguoi_yeu_cau_dien_thoai": {"value": PHONE_TYPED},
    }
    resolved = console.resolve(row["id"], choices, REASON)
    assert resolved["conflict_id"] == row["id"] and resolved["change_id"]
    after = console.conflict(row["id"])
    assert after["resolution_reason"] == REASON and after["resolved_by"] == OPERATOR
    waiting = {d["device_id"]: d["received_at"] for d in after["deliveries"]}
    assert waiting == {a.store.device_id: None, b.store.device_id: None}
    (listed,) = console.conflicts(status="resolved")["items"]
    assert (listed["delivered"], listed["devices"]) == (0, 2)

    sync_all(a, b)
    for device in (a, b):
        record = device.store.get_dossier(dossier.id).record
        assert record["data.tre_noi_sinh"] == PLACE_B
        assert record["data.nguoi_yeu_cau_dien_thoai"] == PHONE_TYPED
        assert device.engine.status().conflicts == 0
        (entry,) = [
            e for e in device.store.audit_trail(dossier.id) if e.action == "sync.resolution"
        ]
        assert entry.clerk == OPERATOR and f"reason: {REASON}" in entry.summary
    assert [c[2] for c in b.engine.known_conflicts()] == ["resolved"]
    received = {d["device_id"]: d["received_at"] for d in console.conflict(row["id"])["deliveries"]}
    assert all(received.values()), received

    # The losing values stay in the record's history.
    history = console.history(dossier.id)
    assert any(v["changed"].get("data.tre_noi_sinh") == PLACE_A for v in history)
    assert history[-1]["kind"] == "resolution" and history[-1]["clerk"] == OPERATOR
    assert console.conflicts()["total"] == 0
    (listed,) = console.conflicts(status="resolved")["items"]
    assert (listed["delivered"], listed["devices"]) == (2, 2)  # the inbox row says so too
    with pytest.raises(ConsoleError) as twice:
        console.resolve(row["id"], choices, REASON)
    assert twice.value.code == "stale"


def test_a_duplicate_birth_in_two_communes_is_marked_without_losing_either(
    server: ServerProcess, make_device: Callable[..., Device], console: AdminClient
) -> None:
    x = make_device(server, "x", commune=COMMUNE)
    y = make_device(server, "y", commune=OTHER_COMMUNE)
    same = birth(7)
    on_x = x.store.register_dossier("khai_sinh", same, received_at=RECEIVED)
    sync_all(x, rounds=1)
    on_y = y.store.register_dossier("khai_sinh", same, received_at=RECEIVED)
    sync_all(y, x, rounds=1)

    page = console.conflicts(kind="duplicate")
    assert page["total"] == 1
    (row,) = page["items"]
    assert {row["entity_id"], row["other_entity_id"]} == {on_x.id, on_y.id}
    assert console.conflicts(kind="duplicate", commune=COMMUNE)["total"] == 1  # either side
    dup = console.duplicate(row["id"])
    assert dup["matched"] and all(
        not r["differs"] for r in dup["evidence"] if r["field"] in dup["matched"]
    )
    assert dup["a"]["data.tre_ten"] == dup["b"]["data.tre_ten"] == same["tre_ten"]

    # Mark x's record (the other one, ``b``) as the duplicate of y's.
    assert row["entity_id"] == on_y.id
    console.decide_duplicate(row["id"], "b_duplicate_of_a", "cùng một trẻ, đăng ký hai nơi")
    sync_all(x, y)
    marked = x.store.get_dossier(on_x.id)
    assert marked.duplicate_of == on_y.id and marked.status == on_x.status
    assert y.store.get_dossier(on_y.id).duplicate_of is None
    assert [s.duplicate_of for s in x.store.search(same["tre_ten"])] == [on_y.id]
    (entry,) = [e for e in x.store.audit_trail(on_x.id) if e.action == "sync.resolution"]
    assert "duplicate_of" in entry.summary and "hai nơi" in entry.summary
    # Nothing is deleted: both records stay on the server.
    assert on_x.id in server_records(server.db, COMMUNE)
    assert on_y.id in server_records(server.db, OTHER_COMMUNE)
    assert console.conflicts(kind="duplicate")["total"] == 0


def test_a_device_revoked_in_the_console_is_told_why_and_comes_back_with_a_fresh_code(
    server: ServerProcess, make_device: Callable[..., Device], console: AdminClient
) -> None:
    a = make_device(server, "a")
    a.store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    assert a.sync().ok
    server.stop()
    assert a.sync().error_code == "offline"
    server.start()
    assert a.sync().ok  # reports the "offline" it met
    (info,) = console.devices(COMMUNE)
    assert info["device_id"] == a.store.device_id and info["status"] == "active"
    assert info["app_version"] == app_version() and info["last_error"] == "offline"
    assert info["pending_reported"] == 0

    a.store.register_dossier("khai_sinh", birth(2), received_at=RECEIVED)
    console.revoke(a.store.device_id, "PC bị mất trộm")
    report = a.sync()
    assert not report.ok and report.error_code == "revoked"
    status = a.engine.status()
    assert status.state is SyncState.REVOKED and status.pending == 1
    assert status.last_error is not None
    assert "thu hồi" in status.last_error and "Lý do: PC bị mất trộm." in status.last_error
    (info,) = console.devices(COMMUNE)
    assert info["status"] == "revoked" and info["status_reason"] == "PC bị mất trộm"
    health = {c["commune"]: c for c in console.health()}
    assert len(health) >= 99 and health[COMMUNE]["errors"] == 1

    issued = console.issue_code(COMMUNE)
    assert issued["commune"] == COMMUNE
    a.engine.enrol(server.url, issued["code"], label="PC a")
    sync_all(a)
    assert a.engine.status().state is SyncState.SYNCED and a.engine.status().pending == 0
    (info,) = console.devices(COMMUNE)
    assert info["status"] == "active" and info["pending_reported"] == 0
    assert info["last_error"] is None


def test_a_revoked_operator_is_told_why(
    server: ServerProcess, province: Store, console: AdminClient
) -> None:
    assert len(console.health()) >= 99
    server.cli("revoke-operator", province.device_id, "--reason", "cán bộ chuyển công tác")
    with pytest.raises(ConsoleError) as revoked:
        console.health()
    assert revoked.value.code == "revoked"
    assert "Lý do: cán bộ chuyển công tác" in revoked.value.clerk_message
    enrol_operator(province, server.url, operator_code(server))  # a fresh code brings it back
    back = AdminClient.from_store(province)
    assert len(back.health()) >= 99
    back.close()


def test_a_lost_answer_over_a_cut_link_does_not_decide_twice(
    sqlite_server: ServerProcess, make_device: Callable[..., Device], province: Store
) -> None:
    port = int(sqlite_server.url.rsplit(":", 1)[1])
    with FaultProxy("127.0.0.1", port) as proxy:
        url = f"http://127.0.0.1:{proxy.port}"
        # Enrolment whose answers are all cut: nothing pinned; run again on a sound link.
        proxy.configure(cut_after_bytes=40, cut_direction="down")
        code = operator_code(sqlite_server)
        with pytest.raises(ConsoleError) as cut:
            enrol_operator(province, url, code, policy=FAST_POLICY, sleep=lambda s: None)
        assert cut.value.code == "offline" and not is_enrolled(province)
        proxy.configure(cut_after_bytes=None)
        enrol_operator(province, url, code, policy=FAST_POLICY, sleep=lambda s: None)

        a, b, dossier, _ = field_conflict(make_device, sqlite_server)
        healed: list[float] = []

        def heal(seconds: float) -> None:  # the link comes back while the client waits
            healed.append(seconds)
            proxy.configure(cut_after_bytes=None)

        client = AdminClient.from_store(province, policy=FAST_POLICY, sleep=heal)
        (row,) = client.conflicts()["items"]
        keep = {"data.tre_noi_sinh": {"take": "current"}}
        with pytest.raises(ConsoleError) as partial:  # every clashing field must be decided
            client.resolve(row["id"], keep, REASON)
        assert "«lựa chọn từng trường»" in partial.value.clerk_message
        keep["data.nguoi_yeu_cau_dien_thoai"] = {"take": "current"}
        settled: list[int] = []
        read_back = client._settled
        client._settled = lambda cid, args: settled.append(cid) or read_back(cid, args)  # type: ignore[method-assign]
        client.close()  # a new connection, whose answer is cut after 60 bytes
        proxy.configure(cut_after_bytes=60, cut_direction="down")
        resolved = client.resolve(row["id"], keep, REASON)
        client.close()
    assert healed, "the first answer was not lost"
    assert settled == [row["id"]]  # the resent copy was refused as a replay: read back
    assert resolved["conflict_id"] == row["id"] and resolved["change_id"]
    kinds = [c[4] for c in server_changes(sqlite_server.db)]
    assert kinds.count("resolution") == 1  # decided once
    sync_all(a, b)
    assert b.store.get_dossier(dossier.id).record["data.tre_noi_sinh"] == PLACE_A


def test_the_command_line_makes_and_enrols_a_console(
    sqlite_server: ServerProcess, tmp_path
) -> None:
    profile = tmp_path / "cli-province"

    def motcua(*args: str) -> Any:
        return motcua_cli(profile, *args)

    made = motcua("init", "--province", "--username", "an", "--full-name", OPERATOR)
    assert made.returncode == 0, made.stderr
    code = operator_code(sqlite_server)
    enrolled = motcua("console-enrol", "--server", sqlite_server.url, "--code", code)
    assert enrolled.returncode == 0, enrolled.stderr
    assert f"as {OPERATOR}" in enrolled.stdout
    again = motcua("console-enrol", "--server", sqlite_server.url, "--code", "AAAAA-AAAAA")
    assert again.returncode == 1 and "operator code is wrong" in again.stderr
    with Store.open(profile, "an", PASSWORD) as store:
        assert is_enrolled(store)  # and still enrolled after the refused second try
        client = AdminClient.from_store(store)
        assert len(client.health()) >= 99
        client.close()
