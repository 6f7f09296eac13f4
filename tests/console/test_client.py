"""The console's AdminClient against the stub ``/admin`` over real HTTP: its error handling.

Each failure provincial IT can meet reads as one Vietnamese sentence with a code the screens can
act on: no server, a slow one, a refused operator, something not found, a bad argument (named
before anything is sent), a server error, a forged answer. Reads are retried re-sealed; a write
is only ever resent as the very same bytes, and when the first copy's answer was lost the
server's replay guard refuses the copy and the client reads what the first one did.

The same calls against the real server are in tests/console/test_e2e.py.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from desktop.console.client import AdminClient
from desktop.console.enrolment import enrol_operator
from desktop.console.service import ConsoleError, ConsoleService
from desktop.store.store import Store
from protocol import errors
from tests.console.conftest import FAST_POLICY, OPERATOR
from tests.console.stub_server import Fault, StubRefusal, StubServer

CODE = "7K2QD-M4XTA"
PAGE = {"total": 0, "offset": 0, "items": []}
REASON = "giấy chứng sinh ghi sinh tại nhà"


@pytest.fixture
def client(province: Store, stub: StubServer) -> Iterator[AdminClient]:
    """An operator enrolled with the stub, and its client."""
    stub.add_code(CODE, OPERATOR)
    enrol_operator(province, stub.url, CODE)
    stub.seen.clear()
    waits: list[float] = []
    admin = AdminClient.from_store(province, policy=FAST_POLICY, sleep=waits.append)
    try:
        yield admin
    finally:
        admin.close()


def _resolved_detail(conflict_id: int, reason: str, status: str = "resolved") -> dict[str, Any]:
    resolution = {"conflict_id": conflict_id, "change_id": "c1", "server_seq": 9, "version": 3}
    return {
        "conflict": {"id": conflict_id, "status": status},
        "resolution": resolution if status == "resolved" else None,
        "resolution_reason": reason if status == "resolved" else None,
        "resolved_by": OPERATOR,
    }


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_a_call_is_checked_sealed_and_its_answer_verified(
    client: AdminClient, stub: StubServer
) -> None:
    service: ConsoleService = client  # the screens see only the protocol
    stub.handlers["conflicts.list"] = lambda args: {**PAGE, "total": 7, "offset": args["offset"]}
    page = service.conflicts(commune="02701", kind="field", offset=200)
    assert page == {"total": 7, "offset": 200, "items": []}
    (seen,) = stub.seen
    assert seen.action == "conflicts.list"
    assert seen.args["commune"] == "02701" and seen.args["kind"] == "field"
    assert seen.args["status"] == "open" and seen.args["limit"] == 200


def test_a_bad_argument_is_named_in_vietnamese_before_anything_is_sent(
    client: AdminClient, stub: StubServer
) -> None:
    with pytest.raises(ConsoleError) as no_reason:
        client.resolve(4, {"data.tre_ten": {"take": "incoming"}}, "   ")
    assert no_reason.value.code == errors.ERR_BAD_REQUEST
    assert "«lý do»" in no_reason.value.clerk_message
    with pytest.raises(ConsoleError) as no_choice:
        client.resolve(4, {}, REASON)
    assert "«lựa chọn từng trường»" in no_choice.value.clerk_message
    with pytest.raises(ConsoleError) as bad_choice:
        client.resolve(4, {"data.tre_ten": {"take": "both"}}, REASON)
    assert "«lựa chọn từng trường»" in bad_choice.value.clerk_message
    with pytest.raises(ConsoleError) as bad_commune:
        client.issue_code("2701")
    assert "«mã xã»" in bad_commune.value.clerk_message
    with pytest.raises(ConsoleError) as bad_period:
        client.statistics("year")
    assert "«kỳ thống kê»" in bad_period.value.clerk_message
    assert stub.seen == []


@pytest.mark.parametrize(
    ("status", "code", "message", "expected_code", "words"),
    [
        (403, "revoked", "operator revoked: máy bị mất", "revoked", "Lý do: máy bị mất"),
        (403, "unknown_device", "operator is not enrolled", "unknown_device", "không nhận ra"),
        (404, "not_found", "no conflict 4", "not_found", "Không tìm thấy xung đột"),
        (400, "bad_request", "args.decision must be one of", "bad_request", "«quyết định»"),
        (400, "bad_request", "something odd", "bad_request", "chưa hợp lệ"),
        (409, "bad_request", "conflict 4 is resolved", "stale", "cán bộ khác"),
        (400, "bad_envelope", "sealed to an unknown key", "bad_envelope", "đăng ký lại"),
        (500, "", "Internal Server Error", "server", "đang gặp lỗi (mã 500)"),
        (503, "busy", "try later", "busy", "đang bận"),
    ],
    ids=["revoked", "unknown", "not-found", "bad-arg", "bad", "stale", "envelope", "500", "busy"],
)
def test_each_refusal_reads_as_one_vietnamese_sentence(
    client: AdminClient,
    stub: StubServer,
    status: int,
    code: str,
    message: str,
    expected_code: str,
    words: str,
) -> None:
    stub.faults.extend(Fault(status=status, code=code, message=message) for _ in range(5))
    with pytest.raises(ConsoleError) as refused:
        client.conflict(4)
    assert refused.value.code == expected_code
    assert words in refused.value.clerk_message
    retried = status >= 500
    assert len(stub.seen) == (FAST_POLICY.max_attempts if retried else 1)


def test_a_revoked_operator_is_told_the_reason(client: AdminClient, stub: StubServer) -> None:
    stub.revoked[client.operator_id] = "cán bộ đã chuyển công tác"
    with pytest.raises(ConsoleError) as revoked:
        client.health()
    assert revoked.value.code == errors.ERR_REVOKED
    assert "thu hồi" in revoked.value.clerk_message
    assert "cán bộ đã chuyển công tác" in revoked.value.clerk_message


def test_no_server_is_offline_and_a_slow_one_a_timeout(
    client: AdminClient, stub: StubServer
) -> None:
    offline = AdminClient(
        _closed_port_url(),
        operator_id=client.operator_id,
        keys=client._keys,
        server_keys=client._server_keys,
        policy=FAST_POLICY,
        sleep=lambda s: None,
    )
    with pytest.raises(ConsoleError) as no_server:
        offline.devices()
    assert no_server.value.code == "offline"
    assert "Không kết nối được máy chủ tỉnh" in no_server.value.clerk_message
    offline.close()

    stub.handlers["devices.list"] = lambda args: []
    stub.faults.extend(Fault(delay_s=1.5) for _ in range(FAST_POLICY.max_attempts))
    with pytest.raises(ConsoleError) as slow:
        client.devices()
    assert slow.value.code == "timeout"
    assert "không trả lời kịp" in slow.value.clerk_message


def test_a_forged_or_garbled_answer_is_refused_and_not_retried(
    client: AdminClient, stub: StubServer
) -> None:
    stub.handlers["health.communes"] = lambda args: []
    stub.faults.append(Fault(forge=True))
    with pytest.raises(ConsoleError) as forged:
        client.health()
    assert forged.value.code == "bad_answer" and "giả mạo" in forged.value.clerk_message
    assert len(stub.seen) == 1
    stub.faults.append(Fault(garbage=True))
    with pytest.raises(ConsoleError) as garbled:
        client.health()
    assert garbled.value.code == "bad_answer"
    stub.handlers["health.communes"] = lambda args: {"not": "a list"}
    with pytest.raises(ConsoleError) as misshapen:
        client.health()
    assert misshapen.value.code == "bad_answer"


def test_a_read_is_sealed_afresh_for_each_retry(client: AdminClient, stub: StubServer) -> None:
    stub.handlers["records.history"] = lambda args: [{"version": 1}]
    stub.faults.append(Fault(status=500, message="Internal Server Error"))
    stub.faults.append(Fault(delay_s=1.5, after=True))  # answered too late: lost
    assert client.history("0192abcd") == [{"version": 1}]
    admin_requests = [s for s in stub.seen if s.action]
    assert len(admin_requests) == 2  # the 500 never opened the envelope
    assert admin_requests[0].batch_id != admin_requests[1].batch_id


def test_a_lost_resolve_is_resent_as_the_same_bytes_and_settled_by_reading(
    client: AdminClient, stub: StubServer
) -> None:
    resolved: list[dict[str, Any]] = []

    def resolve(args: dict[str, Any]) -> dict[str, Any]:
        resolved.append(args)
        return {"conflict_id": args["id"], "change_id": "c1", "server_seq": 9, "version": 3}

    stub.handlers["conflicts.resolve"] = resolve
    stub.handlers["conflicts.get"] = lambda args: _resolved_detail(args["id"], REASON)
    stub.faults.append(Fault(delay_s=1.5, after=True))  # done, but the answer is lost
    result = client.resolve(4, {"data.tre_noi_sinh": {"take": "incoming"}}, REASON)
    assert result == {"conflict_id": 4, "change_id": "c1", "server_seq": 9, "version": 3}
    assert len(resolved) == 1  # done once, never twice
    resolves = [s for s in stub.seen if s.action == "conflicts.resolve"]
    assert len(resolves) == 2 and resolves[0].batch_id == resolves[1].batch_id
    assert [s.action for s in stub.seen][-1] == "conflicts.get"


def test_a_resolve_refused_as_a_replay_but_not_done_says_so(
    client: AdminClient, stub: StubServer
) -> None:
    stub.handlers["conflicts.resolve"] = lambda args: {}
    stub.handlers["conflicts.get"] = lambda args: _resolved_detail(args["id"], "", status="open")
    stub.faults.append(Fault(delay_s=1.5, after=True))
    with pytest.raises(ConsoleError) as not_done:
        client.resolve(4, {"data.tre_noi_sinh": {"take": "incoming"}}, REASON)
    assert not_done.value.code == "not_done" and "chưa ghi nhận" in not_done.value.clerk_message
    stub.handlers["conflicts.get"] = lambda args: _resolved_detail(args["id"], "lý do khác")
    stub.faults.append(Fault(delay_s=1.5, after=True))
    with pytest.raises(ConsoleError) as other:
        client.decide_duplicate(4, "keep_both", REASON)
    assert other.value.code == "stale"


def test_a_lost_revoke_is_checked_and_a_lost_code_is_said_plainly(
    client: AdminClient, stub: StubServer
) -> None:
    stub.handlers["devices.revoke"] = lambda args: None
    stub.handlers["devices.list"] = lambda args: [{"device_id": "dev-1", "status": "revoked"}]
    stub.faults.append(Fault(delay_s=1.5, after=True))
    client.revoke("dev-1", "PC bị mất")
    assert stub.done.count("devices.revoke") == 1

    stub.handlers["devices.issue_code"] = lambda args: {"code": "ABCDE-FGHJK"}
    stub.faults.append(Fault(delay_s=1.5, after=True))
    with pytest.raises(ConsoleError) as lost:
        client.issue_code("02701")
    assert lost.value.code == "code_lost" and "cấp mã mới" in lost.value.clerk_message
    assert stub.done.count("devices.issue_code") == 1


def test_a_write_that_never_got_an_answer_says_to_check_first(
    client: AdminClient, stub: StubServer
) -> None:
    stub.handlers["devices.revoke"] = lambda args: None
    stub.faults.extend(Fault(delay_s=1.5) for _ in range(FAST_POLICY.max_attempts))
    with pytest.raises(ConsoleError) as unsure:
        client.revoke("dev-1", "PC bị mất")
    assert unsure.value.code == "timeout"
    assert "tải lại để kiểm tra" in unsure.value.clerk_message


def test_worker_threads_may_call_at_once(client: AdminClient, stub: StubServer) -> None:
    stub.handlers["devices.list"] = lambda args: [{"device_id": args["commune"] or "all"}]
    results: dict[int, Any] = {}
    failures: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for _ in range(5):
                results[n] = client.devices(f"0270{n}")
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    assert results == {n: [{"device_id": f"0270{n}"}] for n in range(6)}
    assert 1 <= client.link.connections <= 6  # never more connections than calls at once


def test_calls_from_new_threads_reuse_one_connection(client: AdminClient, stub: StubServer) -> None:
    # The task runner starts a thread per task: a keep-alive connection must outlive its thread
    # (on 2G a new one costs a ~600 ms handshake).
    stub.handlers["devices.list"] = lambda args: []
    for _ in range(8):
        thread = threading.Thread(target=client.devices)
        thread.start()
        thread.join(30)
    assert client.link.connections == 1


def test_an_unenrolled_profile_has_no_client(province: Store) -> None:
    with pytest.raises(ConsoleError) as missing:
        AdminClient.from_store(province)
    assert missing.value.code == "not_enrolled"
    assert "chưa được đăng ký" in missing.value.clerk_message


def test_a_handler_refusal_reaches_the_client(client: AdminClient, stub: StubServer) -> None:
    def refuse(args: dict[str, Any]) -> None:
        raise StubRefusal(404, errors.ERR_NOT_FOUND, f"no device {args['device_id']!r}")

    stub.handlers["devices.revoke"] = refuse
    with pytest.raises(ConsoleError) as unknown:
        client.revoke("dev-9", "thử")
    assert unknown.value.code == "not_found" and "thiết bị" in unknown.value.clerk_message
