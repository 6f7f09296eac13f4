"""The sync engine against a real server: status values, batch sizing, backoff, size-scaled
timeouts, sessions, resumable scan uploads, audit signatures, signed resolutions, printouts.

How one server answer is applied to the store is in tests/store/test_sync_page.py."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from bench.faultproxy import FaultProxy
from desktop.sync.audit_signing import audit_message
from desktop.sync.client import HttpTransport, TransportPolicy
from desktop.sync.push_pull import check_resolutions
from desktop.sync.status import SyncState, SyncStatus
from tests.forms.samples import RECEIVED
from tests.store.factory import birth
from tests.sync.conftest import COMMUNE, TEST_POLICY, Device


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


def test_the_sync_panel_history_lists_each_attempt_in_vietnamese(
    sqlite_server, make_device
) -> None:
    device = make_device(sqlite_server, "a")
    device.store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    assert device.sync().ok
    sqlite_server.stop()
    assert not device.sync().ok
    sqlite_server.start()
    newest, oldest = device.engine.history(10)[:2]
    assert not newest.ok and "Không kết nối" in newest.message
    assert oldest.ok and oldest.message.startswith("Gửi 1 thay đổi, nhận 0")
    assert newest.at >= oldest.at
    assert len(device.engine.history(1)) == 1


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
    device.engine.channel.transport = Recording(sqlite_server.url, policy=TEST_POLICY)
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
    session = device.engine.channel.session
    assert session is not None
    session.session_id = "not-a-session-the-server-knows"
    report = device.sync()
    assert report.ok and report.requests == 2
    assert device.engine.channel.session is not None
    assert device.engine.channel.session.session_id != "not-a-session-the-server-knows"


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
    public = device.engine.channel.keys.public()  # what the server pinned at enrolment
    assert {r[2] for r in rows} == {public.key_id}

    def head(conn: Any, seq: int) -> str:
        return conn.execute("SELECT hash FROM audit WHERE seq = ?", (seq,)).fetchone()[0]

    for first, last, _key, signature in rows:
        message = audit_message(
            device.store.device_id, first, last, device.store.read(lambda c, n=last: head(c, n))
        )
        assert public.verify(b64d(signature), message)
    forged = audit_message(device.store.device_id, rows[0][0], rows[0][1], "0" * 64)
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
        check_resolutions(device.engine.channel.server_keys, [forged])
    with pytest.raises(SyncError):
        check_resolutions(device.engine.channel.server_keys, [{**forged, "signature": None}])
    check_resolutions(
        device.engine.channel.server_keys, [{**forged, "kind": "change"}]
    )  # plain changes pass


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


def test_an_old_profile_with_the_server_address_in_the_database_still_syncs(
    sqlite_server, make_device
) -> None:
    from desktop.store.store import Store
    from desktop.store.sync_state import set_meta
    from desktop.sync.engine import SyncEngine
    from tests.sync.conftest import PASSWORD

    device = make_device(sqlite_server, "old")
    device.store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    # What an older release left behind: the address in the database only, none in config.
    device.engine.close()
    device.store.write(lambda conn, ctx: set_meta(conn, "sync.server_url", sqlite_server.url))
    device.store.update_config(server_url=None)
    device.store.close()
    with Store.open(device.profile, "lan", PASSWORD) as store:
        assert store.config.server_url == sqlite_server.url  # moved once, on open
        engine = SyncEngine(store, policy=TEST_POLICY)
        try:
            assert engine.server_url == sqlite_server.url
            report = engine.sync_once()
            assert report.ok and report.applied == 1
        finally:
            engine.close()
    with Store.open(device.profile, "lan", PASSWORD) as store:
        assert (
            store.read(
                lambda conn: conn.execute(
                    "SELECT count(*) FROM meta WHERE key = 'sync.server_url'"
                ).fetchone()[0]
            )
            == 0
        )


class RecordingTransport(HttpTransport):
    """An HTTP transport that keeps every ``/sync`` body it sends (to open them in the test)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sync_bodies: list[bytes] = []

    def request(self, method: str, path: str, body: bytes = b"", **options: Any) -> Any:
        if path == "/sync":
            self.sync_bodies.append(body)
        return super().request(method, path, body, **options)


def _sent_reports(server: Any, device: Device, transport: RecordingTransport) -> list[Any]:
    """Open the recorded sync requests with the server's keys; return their reports."""
    import json

    from protocol import envelope, sealing

    keys = device.engine.channel.keys
    assert keys is not None
    reports = []
    for body in transport.sync_bodies:
        opened = sealing.open_request(
            envelope.parse(body), device_keys=keys.public(), server_keys=server.api().keys
        )
        reports.append(json.loads(opened.payload)["report"])
    transport.sync_bodies.clear()
    return reports


def test_each_sync_request_reports_pending_changes_version_and_last_error(
    sqlite_server, make_device
) -> None:
    from importlib import metadata

    device = make_device(sqlite_server, "a", use_sessions=False)
    transport = RecordingTransport(sqlite_server.url, policy=TEST_POLICY)
    device.engine.channel.transport = transport
    for i in range(2):
        device.store.register_dossier("khai_sinh", birth(i), received_at=RECEIVED)
    assert device.sync().ok
    version = metadata.version("motcua")
    assert _sent_reports(sqlite_server, device, transport) == [
        {"pending": 2, "app_version": version, "last_error": None}
    ]

    sqlite_server.stop()
    device.store.register_dossier("khai_sinh", birth(3), received_at=RECEIVED)
    assert device.sync().error_code == "offline"
    transport.sync_bodies.clear()  # the attempts that never arrived
    sqlite_server.start()
    assert device.sync().ok
    (report,) = _sent_reports(sqlite_server, device, transport)
    assert report == {"pending": 1, "app_version": version, "last_error": "offline"}
    assert device.sync().ok
    (quiet,) = _sent_reports(sqlite_server, device, transport)
    assert quiet == {"pending": 0, "app_version": version, "last_error": None}
