"""Operator enrolment of a provincial profile, against the stub ``/admin/enrol`` over real HTTP.

What provincial IT sees at the first start: a good code pins the server (keys in the encrypted
store, address in config.json) and names the operator; a wrong, used or expired code, no
server, or an answer that does not prove the code each say so in Vietnamese and pin nothing;
a lost answer is retried with the same keys.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable

import pytest

from desktop.console.client import AdminClient
from desktop.console.enrolment import enrol_operator, is_enrolled
from desktop.console.service import ConsoleError
from desktop.store.console_store import ConsoleStore
from desktop.store.store import Store
from tests.console.conftest import FAST_POLICY, OPERATOR
from tests.console.stub_server import Fault, StubServer

CODE = "7K2QD-M4XTA"


def _enrol(store: Store, url: str, code: str = CODE) -> object:
    return enrol_operator(
        store, url, code, label="PC CNTT", policy=FAST_POLICY, sleep=lambda s: None
    )


def test_a_good_code_pins_the_server_and_names_the_operator(
    province: Store, stub: StubServer
) -> None:
    stub.add_code(CODE, OPERATOR)
    assert not is_enrolled(province)
    done = enrol_operator(province, stub.url + "/", CODE.lower(), label="PC CNTT")
    assert done.operator_id == province.device_id
    assert done.name == OPERATOR
    assert done.server_url == stub.url
    assert done.server_key_id == stub.keys.public().key_id
    assert is_enrolled(province)
    # The proof was bound to the operator scope and the keys the store now holds.
    (request,) = [s.body for s in stub.seen]
    assert request["label"] == "PC CNTT"
    identity = ConsoleStore(province).identity()
    assert request["keys"].key_id == stub.operators[province.device_id].key_id
    assert identity.name == OPERATOR
    assert identity.server_keys is not None and identity.server_keys["key_id"] == done.server_key_id
    # The address is in config.json; no key is.
    config = json.loads((province.profile_dir / "config.json").read_text("utf-8"))
    assert config["server_url"] == stub.url and config["role"] == "province"
    assert "operator" not in json.dumps(config) and "key" not in json.dumps(config)
    entry = [e for e in province.audit_trail(province.device_id) if e.action == "console.enrol"]
    assert len(entry) == 1 and OPERATOR in entry[0].summary and entry[0].clerk == "an"
    # The pinned identity is what the client uses; it survives closing and opening the store.
    client = AdminClient.from_store(province)
    assert client.operator_id == province.device_id and client.name == OPERATOR
    client.close()


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        (lambda stub: stub.add_code("AAAAA-AAAAA", OPERATOR), "không đúng"),
        (
            lambda stub: stub.add_code(CODE, OPERATOR, used_by="another", used_keys="x"),
            "đã được dùng",
        ),
        (lambda stub: stub.add_code(CODE, OPERATOR, expired=True), "hết hạn"),
    ],
    ids=["wrong", "used", "expired"],
)
def test_a_refused_code_says_why_in_vietnamese_and_pins_nothing(
    province: Store, stub: StubServer, setup: Callable[[StubServer], None], words: str
) -> None:
    setup(stub)
    with pytest.raises(ConsoleError) as refused:
        _enrol(province, stub.url)
    assert refused.value.code == "enrol_refused"
    assert words in refused.value.clerk_message
    assert refused.value.clerk_message.startswith("Máy chủ tỉnh từ chối đăng ký")
    assert len(stub.seen) == 1  # a refusal is not retried
    assert not is_enrolled(province)


def test_no_server_is_offline(province: Store) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ConsoleError) as offline:
        _enrol(province, f"http://127.0.0.1:{port}")
    assert offline.value.code == "offline"
    assert "Không kết nối được máy chủ tỉnh" in offline.value.clerk_message
    assert not is_enrolled(province)


def test_an_answer_that_does_not_prove_the_code_pins_nothing(
    province: Store, stub: StubServer
) -> None:
    stub.add_code(CODE, OPERATOR)
    stub.faults.append(Fault(forge=True))  # someone else's server keys, a MAC without the code
    with pytest.raises(ConsoleError) as forged:
        _enrol(province, stub.url)
    assert forged.value.code == "bad_answer"
    assert "giả mạo" in forged.value.clerk_message
    assert not is_enrolled(province)
    assert province.config.server_url is None
    assert ConsoleStore(province).identity().server_keys is None


def test_a_lost_answer_is_retried_with_the_same_keys(province: Store, stub: StubServer) -> None:
    stub.add_code(CODE, OPERATOR)
    # The server enrols the operator, then every answer is lost on the way back.
    stub.faults.extend(Fault(delay_s=2.0, after=True) for _ in range(FAST_POLICY.max_attempts))
    with pytest.raises(ConsoleError) as lost:
        _enrol(province, stub.url)
    assert lost.value.code == "timeout"
    assert not is_enrolled(province)
    first_keys = {s.body["keys"].key_id for s in stub.seen}
    # Run again: the code is used, but by these very keys, so the server accepts it again.
    done = _enrol(province, stub.url)
    assert is_enrolled(province)
    assert {s.body["keys"].key_id for s in stub.seen} == first_keys
    assert done.name == OPERATOR  # type: ignore[attr-defined]


def test_only_a_provincial_profile_enrols_as_an_operator(tmp_path, stub: StubServer) -> None:
    stub.add_code(CODE, OPERATOR)
    with (
        Store.create(
            tmp_path / "commune", commune="02701", username="lan", password="x-y-z", full_name="Lan"
        ) as commune,
        pytest.raises(ConsoleError) as refused,
    ):
        _enrol(commune, stub.url)
    assert refused.value.code == "not_province"
    assert stub.seen == []


def test_a_malformed_code_or_address_is_refused_before_sending(
    province: Store, stub: StubServer
) -> None:
    with pytest.raises(ConsoleError) as bad_code:
        _enrol(province, stub.url, "12")
    assert bad_code.value.code == "bad_code" and "10 chữ" in bad_code.value.clerk_message
    with pytest.raises(ConsoleError) as bad_url:
        _enrol(province, "ftp://tinh", CODE)
    assert bad_url.value.code == "bad_url" and "http://" in bad_url.value.clerk_message
    assert stub.seen == []
