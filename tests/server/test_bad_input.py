"""Bad input never makes the server answer 500, and a refused request stores nothing."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import limits, sealing, wire
from server.service import SyncServer
from tests.server.fake_device import FakeDevice
from tests.server.test_sync import BIRTH

NewDevice = Callable[..., FakeDevice]
FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=25,
)
PATHS = [
    wire.PATH_SYNC,
    wire.PATH_ENROL,
    wire.PATH_ATTACHMENTS_MISSING,
    wire.PATH_ATTACHMENTS + "a" * 64,
    wire.PATH_ATTACHMENTS + "nothex",
    "/nope",
]


def _counts(server: SyncServer) -> tuple[int, int, int]:
    stats = server.stats()
    return stats["changes"], stats["records"], stats["server_seq"]


@FUZZ
@given(path=st.sampled_from(PATHS), body=st.binary(max_size=2000))
def test_arbitrary_bytes_get_a_4xx(client: Any, path: str, body: bytes) -> None:
    for method in ("POST", "PATCH", "HEAD", "GET"):
        resp = client.request(method, path, content=body)
        assert resp.status_code < 500, (method, path, resp.status_code)


@FUZZ
@given(path=st.sampled_from(PATHS), obj=json_values)
def test_arbitrary_json_gets_a_4xx(client: Any, path: str, obj: Any) -> None:
    resp = client.post(path, content=wire.canonical_json(obj))
    assert 400 <= resp.status_code < 500
    assert "error" in resp.json()


@FUZZ
@given(obj=json_values)
def test_sealed_garbage_from_an_enrolled_device_never_500(
    server: SyncServer, enrolled: FakeDevice, obj: Any
) -> None:
    before = _counts(server)
    for path in (wire.PATH_SYNC, wire.PATH_ATTACHMENTS_MISSING, wire.PATH_ATTACHMENTS + "b" * 64):
        sealed = enrolled.seal(obj)
        method = "PATCH" if path.startswith(wire.PATH_ATTACHMENTS + "b") else "POST"
        status, body = enrolled.post(path, sealed.data, {"X-Method": method})
        # Some garbage is a valid message (``{}`` is a quiet sync): never a 5xx, never a change.
        assert status < 500, (path, status)
    assert _counts(server) == before


change_keys = st.sampled_from(
    [
        "change_id",
        "device_id",
        "device_seq",
        "entity",
        "entity_id",
        "op",
        "base_version",
        "fields",
        "hlc",
        "clerk",
        "commune",
    ]
)


@FUZZ
@given(mutation=st.dictionaries(change_keys, json_values, min_size=1, max_size=3))
def test_mutated_changes_never_500(
    server: SyncServer, enrolled: FakeDevice, mutation: dict[str, Any]
) -> None:
    change = {
        "change_id": "c-" + str(enrolled.seq),
        "device_id": enrolled.device_id,
        "device_seq": enrolled.seq + 1,
        "entity": "dossier",
        "entity_id": "r1",
        "op": "upsert",
        "base_version": 0,
        "fields": {"status": [None, "tiep_nhan"]},
        "hlc": "1764145000000-0000-x",
        "clerk": "lan",
        "commune": enrolled.commune,
        **mutation,
    }
    sealed = enrolled.seal({"cursor": enrolled.cursor, "changes": [change]})
    status, body = enrolled.post(wire.PATH_SYNC, sealed.data, {})
    assert status < 500
    if status == 200:
        assert enrolled.server_keys is not None
        sealing.open_response(body, request=sealed, server_keys=enrolled.server_keys)


@pytest.fixture
def enrolled(new_device: NewDevice) -> FakeDevice:
    return new_device()


def test_tampered_truncated_and_wrong_key_envelopes(
    server: SyncServer, enrolled: FakeDevice
) -> None:
    enrolled.create(dict(BIRTH))
    good = enrolled.seal({"cursor": "", "changes": enrolled.pending()}).data
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0x40
    from protocol.keys import PrivateKeys

    wrong_server = PrivateKeys.generate().public()
    keep, enrolled.server_keys = enrolled.server_keys, wrong_server
    wrong_key = enrolled.seal({"cursor": ""}).data
    enrolled.server_keys = keep
    for bad in (bytes(flipped), good[:100], good[:-1], good + b"x", wrong_key, b""):
        status, body = enrolled.post(wire.PATH_SYNC, bad, {})
        assert status == 400, status
        assert wire.loads(body)["code"] == "bad_envelope"
    assert _counts(server) == (0, 0, 0)


def test_oversized_body_is_413(client: Any) -> None:
    resp = client.post(wire.PATH_SYNC, content=b"\0" * (limits.MAX_ENVELOPE_BYTES + 1))
    assert resp.status_code == 413 and resp.json()["code"] == "too_large"


def test_a_change_naming_another_device_is_refused(
    server: SyncServer, enrolled: FakeDevice
) -> None:
    enrolled.create(dict(BIRTH))
    change = copy.deepcopy(enrolled.outbox[0])
    change["device_id"] = "someone-else"
    sealed = enrolled.seal({"cursor": "", "changes": [change]})
    status, body = enrolled.post(wire.PATH_SYNC, sealed.data, {})
    assert status == 400 and "device_id" in wire.loads(body)["error"]
    assert _counts(server) == (0, 0, 0)


def test_logs_hold_no_personal_data(
    server: SyncServer, new_device: NewDevice, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    a, b = new_device(), new_device()
    name, id_number = "Thào Thị Mỷ Dung", "010199077777"
    rid = a.create({**BIRTH, "data.me_ten": name, "data.me_so_dinh_danh": id_number})
    a.sync()
    b.sync()
    a.edit(rid, **{"data.tre_ten": "Dung"})
    b.edit(rid, **{"data.tre_ten": "Dũng"})
    a.sync()
    b.sync()
    server.resolve(server.conflicts()[0]["id"], take="current", reason="kiểm tra")
    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "sync device=" in text  # the log did capture the syncs
    for secret in (name, id_number, "Dũng", "Mỷ", "Páo"):
        assert secret not in text
