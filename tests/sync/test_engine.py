"""The sync engine: status values, batch sizing, backoff, size-scaled timeouts, sessions,
resumable scan uploads, and how one server answer is applied to the store (epoch re-push,
stale pages, refused edits giving way to the server's value)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.faultproxy import FaultProxy
from desktop.store import sync_local
from desktop.store.store import Store
from desktop.sync.client import HttpTransport, TransportPolicy
from desktop.sync.status import SyncState, SyncStatus
from tests.forms.samples import RECEIVED
from tests.store.factory import birth
from tests.sync.conftest import COMMUNE, PASSWORD, TEST_POLICY, Device

# -- applying a server answer (no server needed) -----------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.create(
        tmp_path / "p", commune=COMMUNE, username="lan", password=PASSWORD, full_name="Lò Thị Lan"
    )
    yield s
    s.close()


def _apply(store: Store, **page: Any) -> sync_local.PageOutcome:
    page.setdefault("synced_at", "2026-11-26T10:00:00+07:00")
    page.setdefault("epoch", "e1")
    return store.write(
        lambda conn, ctx: sync_local.apply_sync_page(conn, ctx, sync_local.SyncPage(**page))
    )


def _result(change: Any, status: str, server_seq: int, **extra: Any) -> dict[str, Any]:
    return {
        "device_seq": change.device_seq,
        "change_id": change.change_id,
        "status": status,
        "server_seq": server_seq,
        **extra,
    }


def _pulled(entity_id: str, seq: int, version: int, fields: dict[str, list[Any]]) -> dict[str, Any]:
    return {
        "server_seq": seq,
        "change_id": f"remote-{seq}",
        "device_id": "another-device",
        "device_seq": seq,
        "entity": "dossier",
        "entity_id": entity_id,
        "op": "upsert",
        "version": version,
        "fields": fields,
        "hlc": f"{int(time.time() * 1000):013d}-0000-another-device",
        "clerk": "hoa",
        "commune": COMMUNE,
        "kind": "change",
        "status": "applied",
    }


def test_results_are_recorded_and_deferred_ones_stay_pending(store: Store) -> None:
    one = store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    two = store.register_dossier("khai_sinh", birth(2), received_at=RECEIVED)
    first, second = store.pending_changes()
    out = _apply(
        store,
        results=[
            _result(first, "applied", 10, conflict_ids=[7]),
            {"device_seq": second.device_seq, "change_id": second.change_id, "status": "deferred"},
        ],
        cursor="10.aaaaaaaaaaaaaaaa",
        max_device_seq=first.device_seq,
    )
    assert out.statuses["applied"] == 1 and out.deferred == 1
    assert out.new_conflicts == ["7"]
    assert [c.entity_id for c in store.pending_changes()] == [two.id]
    assert store.sync_state().server_epoch == "e1"
    assert [c.state for c in store.all_changes(one.id)] == ["durable"]
    # The same answer again (a replay after a lost response) reports no new conflict.
    again = _apply(
        store,
        results=[_result(first, "applied", 10, conflict_ids=[7])],
        cursor="10.aaaaaaaaaaaaaaaa",
        max_device_seq=first.device_seq,
    )
    assert again.new_conflicts == []


def test_a_server_that_lost_changes_gets_them_again(store: Store) -> None:
    for i in range(3):
        store.register_dossier("khai_sinh", birth(i), received_at=RECEIVED)
    changes = store.pending_changes()
    _apply(
        store,
        results=[_result(c, "applied", 10 + i) for i, c in enumerate(changes)],
        cursor="12.aaaaaaaaaaaaaaaa",
        max_device_seq=3,
    )
    assert store.outbox_summary().pending == 0
    # Restored from a backup that held only the first change, under a new epoch.
    out = _apply(store, cursor="", reset=True, epoch="e2", max_device_seq=1)
    assert out.requeued == 2 and out.epoch_changed
    assert [c.device_seq for c in store.pending_changes()] == [2, 3]
    assert store.read(lambda conn: sync_local.get_meta(conn, sync_local.META_CURSOR)) == ""


def test_a_stale_pulled_change_never_overwrites_a_newer_value(store: Store) -> None:
    record = store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    store.update_dossier(record.id, {"so_ban_sao": "4"})
    create, edit = store.pending_changes()
    # The server applied both edits (seq 20, 30); a page arrives later with another device's
    # older edit of the same field (seq 25).
    _apply(
        store,
        results=[_result(create, "applied", 20), _result(edit, "applied", 30)],
        cursor="30.aaaaaaaaaaaaaaaa",
        max_device_seq=2,
    )
    _apply(
        store,
        changes=[_pulled(record.id, 25, 2, {"data.so_ban_sao": ["2", "3"]})],
        cursor="31.bbbbbbbbbbbbbbbb",
        max_device_seq=2,
    )
    assert store.get_dossier(record.id).record["data.so_ban_sao"] == "4"
    # A newer one wins.
    _apply(
        store,
        changes=[_pulled(record.id, 40, 4, {"data.so_ban_sao": ["4", "1"]})],
        cursor="40.cccccccccccccccc",
        max_device_seq=2,
    )
    assert store.get_dossier(record.id).record["data.so_ban_sao"] == "1"
    assert store.get_dossier(record.id).server_version == 4


def test_a_refused_edit_gives_way_to_the_servers_value_and_stays_visible(store: Store) -> None:
    record = store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    (create,) = store.pending_changes()
    _apply(
        store, results=[_result(create, "applied", 5)], cursor="5.a" + "a" * 15, max_device_seq=1
    )
    store.update_dossier(record.id, {"tre_noi_sinh": "Tại nhà"})
    (edit,) = store.pending_changes()
    # Meanwhile another PC changed the place of birth; both arrive in one answer.
    out = _apply(
        store,
        changes=[
            _pulled(
                record.id,
                8,
                2,
                {"data.tre_noi_sinh": ["Trạm y tế xã Khao Mang", "Bệnh viện huyện"]},
            )
        ],
        results=[_result(edit, "conflict", 9, conflict_ids=[3])],
        cursor="9.b" + "b" * 15,
        max_device_seq=2,
    )
    # The pulled value waited while the edit was pending, then replaced it.
    assert out.statuses["conflict"] == 1 and out.restored_fields == 1
    assert store.get_dossier(record.id).record["data.tre_noi_sinh"] == "Bệnh viện huyện"
    assert store.outbox_summary().conflicts == 1
    # Edit again, refused again without any pull: the value goes back to the server's.
    store.update_dossier(record.id, {"tre_noi_sinh": "Tại nhà"})
    (again,) = store.pending_changes()
    out = _apply(
        store, results=[_result(again, "rejected", 10)], cursor="10.c" + "c" * 15, max_device_seq=3
    )
    assert out.restored_fields == 1
    assert store.get_dossier(record.id).record["data.tre_noi_sinh"] == "Bệnh viện huyện"
    assert store.outbox_summary().rejected == 1


def test_resolution_closes_the_local_conflict(store: Store) -> None:
    record = store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    (create,) = store.pending_changes()
    _apply(
        store,
        results=[_result(create, "conflict", 5, conflict_ids=[11])],
        cursor="5.a" + "a" * 15,
        max_device_seq=1,
    )
    assert store.read(sync_local.open_conflicts) == 1
    resolution = _pulled(record.id, 6, 1, {"data.so_ban_sao": ["2", "3"]})
    resolution.update(kind="resolution", device_id="server", parents=[1, create.change_id])
    out = _apply(store, changes=[resolution], cursor="6.b" + "b" * 15, max_device_seq=1)
    assert out.resolved == 1
    assert store.read(sync_local.open_conflicts) == 0


# -- the engine against a real server -----------------------------------------------------------


def test_status_moves_through_the_states(sqlite_server, make_device) -> None:
    device = make_device(sqlite_server, "a", enrol=False)
    assert device.engine.status().state is SyncState.NOT_ENROLLED
    assert device.sync().error_code == "not_enrolled"
    device.engine.enrol(sqlite_server.url, sqlite_server.enrol_code())
    seen: list[SyncStatus] = []
    unsubscribe = device.engine.subscribe(seen.append)
    device.store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    assert device.engine.status().pending == 1
    report = device.sync()
    assert report.ok and report.state is SyncState.SYNCED
    states = [s.state for s in seen]
    assert states[0] is SyncState.SYNCING and states[-1] is SyncState.SYNCED
    assert seen[-1].pending == 0 and seen[-1].last_sync is not None
    assert seen[-1].clock_offset_s is not None and not seen[-1].clock_wrong
    unsubscribe()
    count = len(seen)

    sqlite_server.stop()
    failed = device.sync()
    assert not failed.ok and failed.error_code == "offline"
    status = device.engine.status()
    assert status.state is SyncState.OFFLINE
    assert status.last_error and "Không kết nối" in status.last_error
    assert len(seen) == count  # unsubscribed
    sqlite_server.start()
    assert device.sync().ok
    assert device.engine.status().last_error is None


def test_retries_back_off_with_jitter_when_the_server_is_down(sqlite_server, make_device) -> None:
    waits: list[float] = []
    policy = TransportPolicy(
        connect_timeout_s=1, backoff_base_s=2.0, backoff_max_s=5.0, max_attempts=4
    )
    device = make_device(sqlite_server, "a", policy=policy)
    device.engine.sleep = waits.append
    sqlite_server.stop()
    report = device.sync()
    assert report.error_code == "offline"
    assert report.requests == 4
    assert len(waits) == 3
    for n, wait in enumerate(waits):
        assert 0 <= wait <= min(5.0, 2.0 * 2**n)
    sqlite_server.start()


def test_a_big_push_goes_in_growing_batches(sqlite_server, make_device) -> None:
    policy = TransportPolicy(
        connect_timeout_s=3,
        read_base_s=5,
        backoff_base_s=0.01,
        max_attempts=3,
        batch_start_bytes=2048,
        batch_min_bytes=1024,
        batch_max_bytes=16384,
    )
    device = make_device(sqlite_server, "a", policy=policy)
    for i in range(40):
        device.store.register_dossier("khai_sinh", birth(i), received_at=RECEIVED)
    report = device.sync()
    assert report.ok and report.applied == 40
    assert report.rounds >= 4  # 40 dossiers do not fit in the first 2 KiB batches
    assert device.engine.sizer.budget == 16384  # doubled after each success, capped
    assert device.engine.status().pending == 0


def test_a_timeout_halves_the_batch_budget(sqlite_server, make_device) -> None:
    port = int(sqlite_server.url.rsplit(":", 1)[1])
    policy = TransportPolicy(
        connect_timeout_s=2,
        read_base_s=0.4,
        read_bytes_per_s=10**9,
        backoff_base_s=0.01,
        max_attempts=2,
        batch_start_bytes=65536,
    )
    with FaultProxy("127.0.0.1", port) as proxy:
        device = make_device(
            sqlite_server, "a", url=f"http://127.0.0.1:{proxy.port}", policy=policy
        )
        device.store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
        proxy.configure(stall_random_per_kb=1000.0, stall_s=None)
        report = device.sync()
        assert not report.ok and report.error_code == "timeout"
        assert device.engine.sizer.budget == 16384  # two timeouts: 64 → 32 → 16 KiB
        assert device.engine.status().state is SyncState.OFFLINE
        proxy.configure(stall_random_per_kb=0.0)
        assert device.sync().ok
        assert device.engine.sizer.budget == 32768


def test_read_timeouts_scale_with_what_a_request_moves(sqlite_server, make_device) -> None:
    seen: list[tuple[int, float]] = []

    class Recording(HttpTransport):
        def timeouts(self, request_bytes: int, expected: int = 0) -> tuple[float, float]:
            connect, read = super().timeouts(request_bytes, expected)
            seen.append((request_bytes, read))
            return connect, read

    device = make_device(sqlite_server, "a")
    device.engine._transport = Recording(sqlite_server.url, policy=TEST_POLICY)
    device.sync()
    seen.clear()
    device.sync()  # quiet: one small request
    for i in range(30):
        device.store.register_dossier("khai_sinh", birth(i), received_at=RECEIVED)
    device.sync()
    quiet, busy = seen[0], max(seen)
    assert busy[0] > 4 * quiet[0]
    # 4 KB/s is the slowest link waited for: each extra byte adds 1/4096 s.
    policy = TEST_POLICY
    assert busy[1] - quiet[1] >= (busy[0] - quiet[0]) / policy.read_bytes_per_s - 1e-6


def test_a_quiet_sync_is_one_small_request(sqlite_server, make_device) -> None:
    device = make_device(sqlite_server, "a")
    first = device.sync()  # HPKE, asks for a session and book-number blocks
    quiet = device.sync()
    assert quiet.ok and quiet.requests == 1 and quiet.rounds == 1
    assert quiet.bytes_up < 600 < first.bytes_up  # the session saves the 1.1 KB hybrid KEM
    assert quiet.bytes_down < 700


def test_an_expired_session_falls_back_to_hpke(sqlite_server, make_device) -> None:
    device = make_device(sqlite_server, "a")
    device.sync()
    session = device.engine._session
    assert session is not None
    session.session_id = "not-a-session-the-server-knows"
    report = device.sync()
    assert report.ok and report.requests == 2
    assert device.engine._session is not None
    assert device.engine._session.session_id != "not-a-session-the-server-knows"


def test_a_scan_upload_resumes_after_a_cut(sqlite_server, make_device) -> None:
    port = int(sqlite_server.url.rsplit(":", 1)[1])
    # A link that cuts every connection after 150 kB sent: a 300 kB scan cannot go in one.
    with FaultProxy("127.0.0.1", port, cut_after_bytes=150_000, cut_direction="up") as proxy:
        device: Device = make_device(sqlite_server, "a", url=f"http://127.0.0.1:{proxy.port}")
        record = device.store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
        scan = os.urandom(300_000)  # incompressible: 5 chunks of 64 KiB
        device.store.add_attachment(record.id, scan, "scan.jpg", "image/jpeg")
        report = device.sync()
        assert report.ok and report.applied == 2
        assert report.attachment_error is None, report.attachment_error
        assert report.attachments_uploaded == 1
        counters = proxy.counters()
        assert counters.cuts_up >= 1
        # Each cut costs at most the chunk that was in flight.
        chunk = 64 * 1024
        assert report.attachment_bytes <= len(scan) + counters.cuts_up * chunk
        proxy.configure(cut_after_bytes=None)
        again = device.sync()
        assert again.attachments_uploaded == 0 and again.requests == 1
        assert device.engine.head_offset(_sha(scan)) == len(scan)


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_each_sync_signs_the_new_audit_entries(sqlite_server, make_device) -> None:
    from protocol.keys import b64d

    device = make_device(sqlite_server, "a")
    device.store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    device.sync()
    device.store.register_dossier("khai_sinh", birth(2), received_at=RECEIVED)
    device.sync()
    device.sync()
    rows = device.store.read(
        lambda conn: conn.execute(
            "SELECT first_audit_seq, last_audit_seq, key_id, signature FROM batch_signatures "
            "ORDER BY id"
        ).fetchall()
    )
    assert len(rows) >= 2
    assert rows[0][0] == 1 and all(b[0] == a[1] + 1 for a, b in zip(rows, rows[1:]))
    public = device.engine._keys.public()  # what the server pinned at enrolment
    assert {r[2] for r in rows} == {public.key_id}

    def head(conn: Any, seq: int) -> str:
        return conn.execute("SELECT hash FROM audit WHERE seq = ?", (seq,)).fetchone()[0]

    for first, last, _key, signature in rows:
        message = sync_local.audit_message(
            device.store.device_id, first, last, device.store.read(lambda c, n=last: head(c, n))
        )
        assert public.verify(b64d(signature), message)
    forged = sync_local.audit_message(device.store.device_id, rows[0][0], rows[0][1], "0" * 64)
    assert not public.verify(b64d(rows[0][3]), forged)


def test_a_resolution_not_signed_by_the_pinned_server_is_refused(
    sqlite_server, make_device
) -> None:
    from desktop.sync.engine import SyncError
    from protocol.keys import PrivateKeys, b64e
    from protocol.wire import resolution_message

    device = make_device(sqlite_server, "a")
    forged = {
        "kind": "resolution",
        "change_id": "f" * 32,
        "device_id": "server",
        "entity": "dossier",
        "entity_id": "x",
        "commune": COMMUNE,
        "op": "upsert",
        "base_version": 1,
        "fields": {"data.so_ban_sao": ["2", "9"]},
        "parents": [1, "c"],
        "hlc": "1",
        "clerk": "it",
    }
    forged["signature"] = b64e(PrivateKeys.generate().sign(resolution_message(forged)))
    with pytest.raises(SyncError, match="not signed by the server"):
        device.engine._check_resolutions([forged])
    with pytest.raises(SyncError):
        device.engine._check_resolutions([{**forged, "signature": None}])
    device.engine._check_resolutions([{**forged, "kind": "change"}])  # plain changes pass


def test_a_paper_printed_before_enrolment_verifies_with_the_key_the_province_holds(
    sqlite_server, make_device, tmp_path: Path
) -> None:
    import json
    import subprocess

    from sqlalchemy import create_engine, text

    from desktop.forms.procedures import get_procedure
    from desktop.forms.receipt import build_receipt
    from desktop.printing.pdf import render_receipt
    from desktop.printing.verify import verify_printout
    from protocol.keys import PrivateKeys, PublicKeys

    device = make_device(sqlite_server, "printer", enrol=False)
    record = device.store.register_dossier("khai_sinh", birth(7), received_at=RECEIVED)
    slip = build_receipt(
        get_procedure("khai_sinh"),
        dict(record.record),
        commune_name="Xã Khao Mang",
        clerk_name="Lò Thị Lan",
    )
    out = render_receipt(
        slip, signer=device.engine.printout_signer(), out_path=tmp_path / "slip.pdf"
    )
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True)
    payload = next(
        line.split(":", 1)[1].strip()
        for line in info.stdout.splitlines()
        if line.startswith("Keywords:")
    )

    device.engine.enrol(sqlite_server.url, sqlite_server.enrol_code())
    engine = create_engine(sqlite_server.db.url)
    try:
        with engine.connect() as conn:
            keys_json = conn.execute(
                text("SELECT keys FROM devices WHERE device_id = :d"),
                {"d": device.store.device_id},
            ).scalar_one()
    finally:
        engine.dispose()
    enrolled = PublicKeys.from_json(json.loads(keys_json))
    assert verify_printout(payload, enrolled.sign, record)
    assert not verify_printout(payload, PrivateKeys.generate().public().sign)
