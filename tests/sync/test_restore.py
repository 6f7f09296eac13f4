"""The server is restored from an older backup: the devices refill it and nothing is missing.

Snapshot the server database (a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on
PostgreSQL), sync more, put the snapshot back and restart the server. The devices notice
(their cursor points past the restored history, or the server holds fewer of their changes
than it acknowledged), push again what the server lost and pull everything again.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.forms.samples import RECEIVED
from tests.store.factory import birth
from tests.sync.conftest import Device, ServerProcess, server_changes, server_records


def _records(device: Device) -> dict[str, dict[str, Any]]:
    return {d.id: d.record for d in device.store.iter_dossiers()}


def _settle(devices: list[Device]) -> list[Any]:
    reports = []
    for _ in range(5):
        moved = 0
        for device in devices:
            report = device.sync()
            assert report.ok, f"{device.name}: {report.error}"
            reports.append(report)
            moved += report.pushed + report.pulled + report.requeued
        if moved == 0:
            return reports
    raise AssertionError("devices did not settle after the restore")


def _restore_scenario(server: ServerProcess, make_device: Any, *, announce: bool) -> None:
    a, b, c = (make_device(server, name) for name in "abc")
    first = [
        a.store.register_dossier("khai_sinh", birth(i), received_at=RECEIVED) for i in range(3)
    ]
    _settle([a, b, c])

    server.stop()
    snapshot = server.db.snapshot("before")
    server.start()

    # After the backup: new dossiers and edits, synced by a and b (c is offline meanwhile).
    later_a = a.store.register_dossier("khai_sinh", birth(10), received_at=RECEIVED)
    b.store.update_dossier(first[0].id, {"so_ban_sao": "4"})
    later_b = b.store.register_dossier("khai_sinh", birth(11), received_at=RECEIVED)
    b.store.transition(later_b.id, "dang_xu_ly")
    _settle([a, b])
    offline_c = c.store.register_dossier("khai_sinh", birth(12), received_at=RECEIVED)
    c.store.update_dossier(first[1].id, {"nguoi_yeu_cau_dien_thoai": "0912000999"})
    assert len(server_records(server.db)) == 5

    # The server's disk dies; provincial IT restores last night's backup.
    server.stop()
    server.db.restore(snapshot)
    if announce:
        server.cli("new-epoch")
    server.start()
    assert len(server_records(server.db)) == 3  # the restored server lost two dossiers

    reports = _settle([a, b, c])
    assert sum(r.requeued for r in reports) >= 3  # a's and b's lost changes were sent again
    assert any(r.epoch_changed for r in reports)

    on_server = server_records(server.db)
    expected = {d.id for d in first} | {later_a.id, later_b.id, offline_c.id}
    assert set(on_server) == expected
    for device in (a, b, c):
        assert _records(device) == on_server, device.name
        assert device.engine.status().pending == 0
    assert on_server[first[0].id]["data.so_ban_sao"] == "4"
    assert on_server[later_b.id]["status"] == "dang_xu_ly"
    assert on_server[first[1].id]["data.nguoi_yeu_cau_dien_thoai"] == "0912000999"
    logged = [(d, s) for d, s, _id, _st, kind in server_changes(server.db) if kind == "change"]
    assert max(Counter(logged).values()) == 1  # nothing applied twice
    everything = {
        (d.store.device_id, ch.device_seq) for d in (a, b, c) for ch in d.store.all_changes()
    }
    assert set(logged) == everything  # nothing missing
    assert server.conflicts() == []


def test_restored_server_is_refilled_by_the_devices(server, make_device) -> None:
    _restore_scenario(server, make_device, announce=False)


def test_restore_announced_with_a_new_epoch(sqlite_server, make_device) -> None:
    _restore_scenario(sqlite_server, make_device, announce=True)


@pytest.mark.parametrize("label", ["ok"])
def test_snapshot_helpers_round_trip(sqlite_server, label: str) -> None:
    before = sqlite_server.cli("stats", "--json")
    sqlite_server.stop()
    handle = sqlite_server.db.snapshot(label)
    sqlite_server.db.restore(handle)
    sqlite_server.start()
    assert sqlite_server.cli("stats", "--json") == before
