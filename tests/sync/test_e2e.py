"""End to end: a real server process (SQLite and PostgreSQL) and several device profiles over HTTP.

What a commune and provincial IT would check: offline edits on two PCs of one commune end
up identical everywhere; the same field edited on two PCs makes exactly one conflict, which
provincial IT resolves with ``motcua-server resolve`` and every PC then shows; the same birth
registered twice and two dossiers with one register number are put in front of IT.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from desktop.sync.status import SyncState
from tests.forms.samples import RECEIVED
from tests.store.factory import birth
from tests.sync.conftest import COMMUNE, OTHER_COMMUNE, Device, motcua_cli, server_records


def records(device: Device) -> dict[str, dict[str, Any]]:
    """Return every dossier a device holds, by id."""
    return {d.id: d.record for d in device.store.iter_dossiers()}


def sync_all(*devices: Device, rounds: int = 2) -> None:
    """Sync every device ``rounds`` times, asserting each sync succeeded."""
    for _ in range(rounds):
        for device in devices:
            report = device.sync()
            assert report.ok, f"{device.name}: {report.error}"


def assert_converged(*devices: Device) -> None:
    """Every device holds the same dossiers with the same values, and nothing is pending."""
    first = records(devices[0])
    for device in devices:
        assert records(device) == first, f"{device.name} differs from {devices[0].name}"
        assert device.engine.status().pending == 0


def test_offline_edits_on_two_devices_converge(server, make_device) -> None:
    a, b, c = (make_device(server, name) for name in "abc")
    made = [a.store.register_dossier("khai_sinh", birth(i), received_at=RECEIVED) for i in range(3)]
    sync_all(a, b, c, rounds=1)
    assert set(records(c)) == {d.id for d in made}

    # Offline: a and b edit different fields of the same dossier; b and c register new ones.
    target = made[0].id
    a.store.update_dossier(target, {"nguoi_yeu_cau_dien_thoai": "0987654321"})
    b.store.update_dossier(target, {"so_ban_sao": "5"})
    b.store.transition(made[1].id, "dang_xu_ly")
    new_b = b.store.register_dossier("khai_sinh", birth(10), received_at=RECEIVED)
    new_c = c.store.register_dossier("khai_sinh", birth(11), received_at=RECEIVED)

    first = a.sync()
    second = b.sync()
    assert first.applied == 1
    assert second.merged == 1  # b's edit was made on an older version: merged, not conflict
    assert second.conflicts == 0
    sync_all(c, a, b)
    assert_converged(a, b, c)
    final = records(a)[target]
    assert final["data.nguoi_yeu_cau_dien_thoai"] == "0987654321"
    assert final["data.so_ban_sao"] == "5"
    assert records(c)[made[1].id]["status"] == "dang_xu_ly"
    assert {new_b.id, new_c.id} <= set(records(a))
    assert server.conflicts() == []
    for device in (a, b, c):
        status = device.engine.status()
        assert status.state is SyncState.SYNCED
        assert (status.pending, status.conflicts, status.rejected) == (0, 0, 0)


def test_overlapping_edits_make_one_conflict_and_its_resolution_reaches_every_device(
    server, make_device
) -> None:
    a, b, c = (make_device(server, name) for name in "abc")
    dossier = a.store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    sync_all(a, b, c, rounds=1)

    a.store.update_dossier(dossier.id, {"tre_noi_sinh": "Bệnh viện Đa khoa Bắc Hà"})
    b.store.update_dossier(dossier.id, {"tre_noi_sinh": "Tại nhà, bản Hồ Bốn"})
    assert a.sync().applied == 1
    report = b.sync()
    assert report.conflicts == 1 and len(report.new_conflicts) == 1
    sync_all(a, b, c)  # replays and further syncs must not make more conflicts

    conflicts = server.conflicts_cli()  # what provincial IT sees
    assert len(conflicts) == 1
    conflict = conflicts[0]
    assert conflict["entity_id"] == dossier.id and conflict["kind"] == "field"
    assert "Bệnh viện Đa khoa Bắc Hà" in conflict["current"].values()
    assert "Tại nhà, bản Hồ Bốn" in conflict["incoming"].values()
    # Until IT decides, the server's value stays and every PC shows it; b's edit is kept
    # in b's outbox as a conflict, visible in its status.
    assert_converged(a, b, c)
    assert records(b)[dossier.id]["data.tre_noi_sinh"] == "Bệnh viện Đa khoa Bắc Hà"
    assert [ch.server_status for ch in b.store.all_changes(dossier.id)][-1] == "conflict"
    assert b.engine.status().conflicts == 1
    (flagged,) = b.engine.needing_attention()
    assert flagged.fields["data.tre_noi_sinh"][1] == "Tại nhà, bản Hồ Bốn"
    assert b.engine.known_conflicts() == [(str(conflict["id"]), flagged.change_id, "open")]

    out = server.cli(
        "resolve",
        str(conflict["id"]),
        "--take",
        "incoming",
        "--reason",
        "giấy chứng sinh ghi tại nhà",
    )
    assert "resolved" in out
    sync_all(a, b, c)
    assert_converged(a, b, c)
    assert records(c)[dossier.id]["data.tre_noi_sinh"] == "Tại nhà, bản Hồ Bốn"
    assert server.conflicts() == []
    for device in (a, b, c):
        assert device.engine.status().conflicts == 0
    assert [row[2] for row in b.engine.known_conflicts()] == ["resolved"]


def test_duplicates_and_book_number_collisions_are_surfaced(server, make_device) -> None:
    # Two PCs that worked before enrolment: both numbered their books from 1.
    a = make_device(server, "a", enrol=False)
    b = make_device(server, "b", enrol=False)
    c = make_device(server, "c")
    same_birth = birth(7)
    on_a = a.store.register_dossier("khai_sinh", same_birth, received_at=RECEIVED)
    on_b = b.store.register_dossier("khai_sinh", same_birth, received_at=RECEIVED)
    numbered = []
    for device, i in ((a, 20), (b, 21)):
        record = device.store.register_dossier("khai_sinh", birth(i), received_at=RECEIVED)
        device.store.transition(record.id, "dang_xu_ly")
        numbered.append(device.store.transition(record.id, "cho_ky"))
    assert numbered[0].record["book_number"] == numbered[1].record["book_number"] == 1

    for device in (a, b):
        device.engine.enrol(server.url, server.enrol_code(), label=device.name)
    sync_all(a, b, c)

    kinds = sorted(c["kind"] for c in server.conflicts())
    assert kinds == ["book_number", "duplicate"]
    duplicate = next(c for c in server.conflicts() if c["kind"] == "duplicate")
    assert {duplicate["entity_id"], duplicate["other_entity_id"]} == {on_a.id, on_b.id}
    # Both records are kept and reach every device; the PC that sent the second copy was told.
    assert_converged(a, b, c)
    assert {on_a.id, on_b.id} <= set(records(c))
    seen = a.engine.known_conflicts() + b.engine.known_conflicts()
    assert len(seen) == 2
    assert {row[0] for row in seen} == {str(c["id"]) for c in server.conflicts()}
    assert c.engine.status().conflicts == 2  # the commune's open conflicts


def test_a_commune_never_sees_another_communes_dossiers(server, make_device) -> None:
    a = make_device(server, "a")
    other = make_device(server, "x", commune=OTHER_COMMUNE)
    mine = a.store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    theirs = other.store.register_dossier("khai_sinh", birth(2), received_at=RECEIVED)
    sync_all(a, other)
    assert set(records(a)) == {mine.id}
    assert set(records(other)) == {theirs.id}


def test_a_revoked_device_is_refused_and_says_so(server, make_device) -> None:
    a = make_device(server, "a")
    assert a.sync().ok
    server.cli("revoke", a.store.device_id, "--reason", "PC bị mất")
    a.store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    report = a.sync()
    assert not report.ok and report.error_code == "revoked"
    status = a.engine.status()
    assert status.state is SyncState.REVOKED
    assert status.pending == 1  # nothing lost: the dossier waits in the outbox
    assert "thu hồi" in (status.last_error or "")


def test_a_revoked_device_names_the_reason_stays_revoked_and_a_fresh_code_brings_it_back(
    server, make_device
) -> None:
    a = make_device(server, "a")
    assert a.sync().ok
    server.cli("revoke", a.store.device_id, "--reason", "PC bị mất trộm")
    waiting = a.store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    assert a.sync().error_code == "revoked"
    status = a.engine.status()
    assert status.state is SyncState.REVOKED
    assert status.last_error is not None
    assert "thu hồi" in status.last_error and "Lý do: PC bị mất trộm." in status.last_error

    # It stays so: the next syncs neither ask the server again nor lose the message, even offline.
    sent = a.engine.transport.requests_sent
    server.stop()
    again = a.sync()
    assert again.error_code == "revoked" and again.clerk_error == status.last_error
    assert a.engine.transport.requests_sent == sent
    assert a.engine.status() == status
    server.start()
    reopened = a.store.sync.state()
    assert reopened.revoked and reopened.last_error == status.last_error

    # Provincial IT issues a fresh code: the PC enrols again and sends what waited.
    a.engine.enrol(server.url, server.enrol_code(), label="PC a")
    report = a.sync()
    assert report.ok and report.applied == 1
    status = a.engine.status()
    assert status.state is SyncState.SYNCED and status.last_error is None and status.pending == 0
    assert waiting.id in server_records(server.db)


def test_a_wrong_clock_is_flagged_and_still_syncs(server, make_device) -> None:
    import time

    a = make_device(server, "a", clock=lambda: time.time() + 3600)
    a.store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    report = a.sync()
    assert report.ok and report.applied == 1
    status = a.engine.status()
    assert status.clock_wrong
    assert status.clock_offset_s == pytest.approx(-3600, abs=5)
    devices = json.loads(server.cli("devices", "--json"))
    assert [d["flagged_skew"] for d in devices] == [True]


def test_command_line_enrol_sync_status(sqlite_server, tmp_path) -> None:
    profile = tmp_path / "cli-profile"

    def motcua(*args: str) -> subprocess.CompletedProcess[str]:
        return motcua_cli(profile, *args)

    assert motcua("init", "--commune", COMMUNE).returncode == 0
    status = json.loads(motcua("status", "--json").stdout)
    assert status["state"] == "not_enrolled"
    bad = motcua("enrol", "--server", sqlite_server.url, "--code", "AAAAA-AAAAA")
    assert bad.returncode == 1 and "wrong" in bad.stderr
    code = sqlite_server.enrol_code_cli()
    enrolled = motcua("enrol", "--server", sqlite_server.url, "--code", code.lower())
    assert enrolled.returncode == 0, enrolled.stderr
    assert "enrolled device" in enrolled.stdout
    again = motcua("enrol", "--server", sqlite_server.url, "--code", code)
    assert again.returncode == 0  # a lost answer can be retried with the same code and keys

    sample = tmp_path / "one.jsonl"
    line = {"procedure": "khai_sinh", "received_at": RECEIVED.isoformat(), "data": birth(3)}
    sample.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    assert motcua("import", str(sample)).returncode == 0
    synced = motcua("sync")
    assert synced.returncode == 0, synced.stderr
    assert "pushed 1 (applied 1" in synced.stdout
    status = json.loads(motcua("status", "--json").stdout)
    assert status["state"] == "synced"
    assert status["pending"] == 0 and status["conflicts"] == 0
    assert status["last_sync"] and abs(status["clock_offset_s"]) < 60
    assert status["last_error"] is None

    sqlite_server.stop()
    offline = motcua("sync")
    assert offline.returncode == 1 and "cannot reach" in offline.stderr
    status = json.loads(motcua("status", "--json").stdout)
    assert status["state"] == "offline" and "Không kết nối" in status["last_error"]
    sqlite_server.start()
