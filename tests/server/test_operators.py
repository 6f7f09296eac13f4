"""Operators: a console enrols with a one-time code and talks to ``POST /admin`` sealed; who is
not an enrolled, active operator is refused with the usual error bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from protocol import sealing, wire
from protocol.admin import PATH_ADMIN
from server.service import SyncServer
from tests.server.fake_device import FakeDevice, SyncFailed, asgi_post
from tests.server.fake_operator import FakeOperator

NewDevice = Callable[..., FakeDevice]
NewOperator = Callable[..., FakeOperator]


def test_an_operator_enrols_and_the_answer_is_bound_to_its_code(
    server: SyncServer, client: Any
) -> None:
    issued = server.issue_operator_code("  Nguyễn   Văn An ", ttl_hours=2)
    assert issued["name"] == "Nguyễn Văn An"
    assert issued["expires_at"] == pytest.approx(server.clock() + 2 * 3600_000, abs=5000)
    console = FakeOperator(asgi_post(client))
    payload = console.enrol(issued["code"])
    assert (payload["operator_id"], payload["name"], payload["scope"]) == (
        console.operator_id,
        "Nguyễn Văn An",
        "province",
    )
    assert payload["epoch"] == server.epoch()
    assert console.server_keys == server.public_keys()
    # The answer was lost: the same request is answered again, without a second enrolment.
    console.enrol(issued["code"])
    [listed] = server.operators()
    assert (listed["operator_id"], listed["name"], listed["status"]) == (
        console.operator_id,
        "Nguyễn Văn An",
        "active",
    )
    assert "keys" not in listed
    assert console.call("health.communes")  # and it may act


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("wrong", "operator code is wrong"),
        ("used", "already used"),
        ("expired", "expired"),
        ("device_code", "operator code is wrong"),
    ],
)
def test_operator_codes_are_one_time_and_only_for_operators(
    server: SyncServer, client: Any, setup: str, message: str
) -> None:
    code = server.issue_operator_code("Lò Văn Minh")["code"]
    if setup == "wrong":
        code = "ABCDE-FGHJK"
    elif setup == "used":
        FakeOperator(asgi_post(client)).enrol(code)
    elif setup == "expired":
        server.clock = lambda: sealing.now_ms() + 73 * 3600_000
    elif setup == "device_code":
        code = server.issue_code("02701")  # a commune's code cannot enrol a console
    with pytest.raises(SyncFailed) as refused:
        FakeOperator(asgi_post(client)).enrol(code)
    assert refused.value.status == 403 and refused.value.body["code"] == "enrol_refused"
    assert message in refused.value.body["error"]


def test_an_operator_code_cannot_enrol_a_device(server: SyncServer, client: Any) -> None:
    code = server.issue_operator_code("Lò Văn Minh")["code"]
    with pytest.raises(SyncFailed) as refused:
        FakeDevice(asgi_post(client)).enrol(code)
    assert refused.value.status == 403


def _raw_admin(client: Any, sealed: sealing.SealedRequest) -> tuple[int, dict[str, Any]]:
    resp = client.post(PATH_ADMIN, content=sealed.data)
    return resp.status_code, resp.json()


def test_who_is_not_an_active_operator_is_refused(
    server: SyncServer, client: Any, new_operator: NewOperator, new_device: NewDevice
) -> None:
    console = new_operator()
    device = new_device()
    # A device's key on the admin endpoint: not an operator.
    sealed = device.seal({"action": "health.communes", "args": {}})
    assert _raw_admin(client, sealed) == (
        403,
        {"error": "operator is not enrolled", "code": "unknown_device"},
    )
    # A stranger who never enrolled.
    stranger = FakeOperator(asgi_post(client))
    stranger.server_keys = console.server_keys
    status, body = _raw_admin(client, stranger.seal("health.communes"))
    assert (status, body["code"]) == (403, "unknown_device")
    # A stranger with fresh keys claiming the operator's id: the signature fails.
    stranger = FakeOperator(asgi_post(client))
    stranger.operator_id, stranger.server_keys = console.operator_id, console.server_keys
    status, body = _raw_admin(client, stranger.seal("health.communes"))
    assert (status, body["code"]) == (400, "bad_envelope")
    # A revoked operator: refused with the reason.
    server.revoke_operator(console.operator_id, "người dùng đã nghỉ việc")
    with pytest.raises(SyncFailed) as refused:
        console.call("health.communes")
    assert refused.value.status == 403 and refused.value.body == {
        "error": "operator revoked: người dùng đã nghỉ việc",
        "code": "revoked",
    }
    assert server.operators()[0]["status"] == "revoked"


def test_a_revoked_operator_comes_back_with_a_fresh_code(
    server: SyncServer, new_operator: NewOperator
) -> None:
    console = new_operator("Lò Văn Minh")
    server.revoke_operator(console.operator_id, "máy bị mất")
    console.keys = type(console.keys).generate()  # a new PC's keys, the same console id
    console.enrol(server.issue_operator_code("Lò Thị Hoa")["code"])
    assert console.name == "Lò Thị Hoa"
    assert console.call("devices.list") == []


def test_an_admin_envelope_is_single_use_and_must_be_hpke(
    client: Any, new_operator: NewOperator
) -> None:
    console = new_operator()
    sealed = console.seal("devices.list")
    assert console.send(sealed) == []
    with pytest.raises(SyncFailed) as replayed:
        console.send(sealed)
    assert (replayed.value.status, replayed.value.body["code"]) == (409, "replayed")
    assert console.server_keys is not None
    session = sealing.seal_request(
        wire.canonical_json({"action": "devices.list"}),
        device_id=console.operator_id,
        device_keys=console.keys,
        session=("nope", b"k" * 32),
    )
    status, body = _raw_admin(client, session)
    assert (status, body["code"]) == (400, "bad_envelope")


@pytest.mark.parametrize(
    ("action", "args", "status", "names"),
    [
        ("conflicts.list", {"limit": 0}, 400, "args.limit"),
        ("conflicts.get", {"id": "x"}, 400, "args.id"),
        ("conflicts.get", {"id": 999}, 404, "no conflict 999"),
        ("duplicates.get", {"id": 999}, 404, "no conflict 999"),
        ("conflicts.resolve", {"id": 999, "choices": {"a": {"take": "current"}}}, 400, "reason"),
        (
            "conflicts.resolve",
            {"id": 999, "choices": {"a": {"take": "x"}}, "reason": "r"},
            400,
            "args.choices",
        ),
        ("duplicates.decide", {"id": 1, "decision": "merge", "reason": "r"}, 400, "args.decision"),
        ("devices.revoke", {"device_id": "nobody", "reason": "r"}, 404, "no device"),
        ("devices.revoke", {"device_id": "nobody"}, 400, "args.reason"),
        ("devices.issue_code", {"commune": "27"}, 400, "args.commune"),
        ("records.history", {"entity_id": "nothing"}, 404, "no record"),
        ("stats.dossiers", {"period": "year"}, 400, "args.period"),
        ("nope", {}, 400, "unknown admin action"),
    ],
)
def test_bad_arguments_and_unknown_ids_are_named(
    new_operator: NewOperator, action: str, args: dict[str, Any], status: int, names: str
) -> None:
    console = new_operator()
    with pytest.raises(SyncFailed) as refused:
        console.call(action, **args)
    assert refused.value.status == status
    assert names in refused.value.body["error"]
    assert refused.value.body["code"] == ("not_found" if status == 404 else "bad_request")
