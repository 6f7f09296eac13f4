"""Enrolment: one-time expiring codes, proofs bound to the keys, pinned server keys."""

from __future__ import annotations

from typing import Any

import pytest

from protocol import enrolment, wire
from server.errors import ApiError
from server.service import SyncServer
from tests.server.fake_device import FakeDevice, SyncFailed, asgi_post
from tests.server.test_sync import BIRTH, NewDevice


def device(client: Any, commune: str = "02701") -> FakeDevice:
    return FakeDevice(asgi_post(client), commune=commune)


def test_enrol_pins_the_server_keys(server: SyncServer, client: Any) -> None:
    dev = device(client)
    answer = dev.enrol(server.issue_code("02701"))
    assert dev.server_keys == server.public_keys()
    assert answer["epoch"] == server.epoch()
    [row] = server.devices()
    assert (row["device_id"], row["commune"], row["status"]) == (dev.device_id, "02701", "active")


def test_code_is_single_use(server: SyncServer, client: Any) -> None:
    code = server.issue_code("02701")
    first = device(client)
    first.enrol(code)
    first.enrol(code)  # the same device retrying after a lost answer is fine
    with pytest.raises(SyncFailed) as err:
        device(client).enrol(code)
    assert err.value.status == 403 and "already used" in err.value.body["error"]


def test_expired_code_is_refused(server: SyncServer, client: Any) -> None:
    code = server.issue_code("02701", ttl_hours=1)
    server.clock = lambda: wire_now() + 2 * 3600 * 1000
    with pytest.raises(SyncFailed) as err:
        device(client).enrol(code)
    assert err.value.status == 403 and "expired" in err.value.body["error"]
    assert server.devices() == []


def wire_now() -> int:
    import time

    return int(time.time() * 1000)


def test_wrong_code_or_commune_is_refused(server: SyncServer, client: Any) -> None:
    code = server.issue_code("02701")
    with pytest.raises(SyncFailed) as err:
        device(client).enrol(enrolment.generate_code())
    assert err.value.status == 403 and "wrong" in err.value.body["error"]
    with pytest.raises(SyncFailed) as err:
        device(client, commune="02702").enrol(code)
    assert err.value.status == 403
    assert server.devices() == []


def test_proof_binds_the_keys(server: SyncServer, client: Any) -> None:
    """A man in the middle who swaps in his own keys cannot use the device's proof."""
    code = server.issue_code("02701")
    dev = device(client)
    body = wire.loads(dev.enrol_body(code))
    from protocol.keys import PrivateKeys

    body["keys"] = PrivateKeys.generate().public().to_json()
    status, answer = dev.post(wire.PATH_ENROL, wire.canonical_json(body), {})
    assert status == 403
    assert server.devices() == []


def test_malformed_enrolment_is_a_clear_400(client: Any) -> None:
    dev = device(client)
    for body in [b"", b"{", b"[]", b'{"device_id": "x"}']:
        status, answer = dev.post(wire.PATH_ENROL, body, {})
        assert status == 400, body
        assert wire.loads(answer)["error"]


def test_issue_code_checks_its_arguments(server: SyncServer) -> None:
    with pytest.raises(ApiError, match="5-digit"):
        server.issue_code("27")
    with pytest.raises(ApiError, match="positive"):
        server.issue_code("02701", ttl_hours=0)


def test_a_revoked_device_comes_back_with_a_fresh_code_and_keeps_its_history(
    server: SyncServer, new_device: NewDevice
) -> None:
    a = new_device()
    a.create(dict(BIRTH))
    a.sync()
    server.revoke(a.device_id, "PC sent for repair")
    a.enrol(server.issue_code("02701"))
    a.create(dict(BIRTH, **{"data.tre_ten": "Chứ"}))
    results = a.sync()["results"]
    assert [r["status"] for r in results] == ["applied"]
    [device] = server.devices()
    assert device["status"] == "active"
    assert server.stats()["changes"] == 2


def test_an_active_device_cannot_take_a_second_code(
    server: SyncServer, new_device: NewDevice
) -> None:
    a = new_device()
    with pytest.raises(SyncFailed) as err:
        a.enrol(server.issue_code("02701"))
    assert err.value.status == 409
