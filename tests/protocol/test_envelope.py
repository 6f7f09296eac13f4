"""Envelope crypto: round trips, and every way an envelope can be bad fails cleanly."""

from __future__ import annotations

import json

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import envelope as env
from protocol import errors, limits, sealing, wire
from protocol.keys import PrivateKeys, PublicKeys

DEVICE_ID = "0192f1e2-aaaa-7bbb-8ccc-123456789abc"


@pytest.fixture(scope="module")
def device() -> PrivateKeys:
    return PrivateKeys.generate()


@pytest.fixture(scope="module")
def server() -> PrivateKeys:
    return PrivateKeys.generate()


def _sync_payload() -> bytes:
    change = {
        "change_id": "0192f1e2-0000-7000-8000-000000000001",
        "device_id": DEVICE_ID,
        "device_seq": 17,
        "entity": "dossier",
        "entity_id": "0192f1e2-0000-7000-8000-0000000000aa",
        "op": "upsert",
        "base_version": 3,
        "fields": {"data.tre_ten": ["An", "Ân"], "status": ["tiep_nhan", "dang_xu_ly"]},
        "hlc": "1764145000123-0000-" + DEVICE_ID,
        "clerk": "lan",
        "commune": "02701",
    }
    return wire.canonical_json({"cursor": "", "changes": [change]})


def _request(device: PrivateKeys, server: PrivateKeys, payload: bytes) -> sealing.SealedRequest:
    return sealing.seal_request(
        payload,
        device_id=DEVICE_ID,
        device_keys=device,
        server_keys=server.public(),
        seq_range=(17, 17),
    )


def test_request_and_response_round_trip(device: PrivateKeys, server: PrivateKeys) -> None:
    payload = _sync_payload()
    sealed = _request(device, server, payload)
    opened = sealing.open_request(
        env.parse(sealed.data), device_keys=device.public(), server_keys=server
    )
    assert opened.payload == payload
    assert opened.header.seq_range == (17, 17)
    assert opened.header.key_id == server.public().key_id
    assert opened.response_key == sealed.response_key

    answer = wire.canonical_json({"results": [{"status": "applied"}]})
    response = sealing.seal_response(
        answer, request=opened.header, response_key=opened.response_key, server_keys=server
    )
    header, body = sealing.open_response(response, request=sealed, server_keys=server.public())
    assert body == answer
    assert header.batch_id == sealed.header.batch_id


def test_no_plaintext_on_the_wire(device: PrivateKeys, server: PrivateKeys) -> None:
    payload = wire.canonical_json({"name": "Nguyễn Thị Hoà", "id": "001099012345"})
    sealed = _request(device, server, payload)
    assert "Nguyễn".encode() not in sealed.data
    assert b"001099012345" not in sealed.data


def test_session_request_round_trip(device: PrivateKeys, server: PrivateKeys) -> None:
    first = _request(device, server, b"{}")
    key = sealing.derive_session_key(first.response_key, "sess1")
    sealed = sealing.seal_request(
        b'{"cursor":""}', device_id=DEVICE_ID, device_keys=device, session=("sess1", key)
    )
    assert sealed.header.key_id == "s:sess1"
    opened = sealing.open_request(
        env.parse(sealed.data), device_keys=device.public(), session_key=key
    )
    assert opened.payload == b'{"cursor":""}'
    with pytest.raises(errors.EnvelopeError, match="session"):
        sealing.open_request(
            env.parse(sealed.data), device_keys=device.public(), server_keys=server
        )


def test_uncompressed_chunk_round_trip(device: PrivateKeys, server: PrivateKeys) -> None:
    chunk = bytes(range(256)) * 100
    sealed = sealing.seal_request(
        chunk,
        device_id=DEVICE_ID,
        device_keys=device,
        server_keys=server.public(),
        compress=False,
        extra={"a": "0" * 64, "o": 0},
    )
    opened = sealing.open_request(
        env.parse(sealed.data), device_keys=device.public(), server_keys=server
    )
    assert opened.payload == chunk
    assert opened.header.extra == {"a": "0" * 64, "o": 0}
    assert not opened.header.compressed


@pytest.mark.parametrize("region", ["length", "header", "body", "signature"])
def test_any_flipped_byte_is_refused(device: PrivateKeys, server: PrivateKeys, region: str) -> None:
    data = bytearray(_request(device, server, _sync_payload()).data)
    hlen = int.from_bytes(data[:2], "big")
    positions = {
        "length": [0, 1],
        "header": list(range(2, 2 + hlen, 7)),
        "body": list(range(2 + hlen, len(data) - 64, 97)),
        "signature": list(range(len(data) - 64, len(data), 5)),
    }[region]
    for pos in positions:
        bad = bytearray(data)
        bad[pos] ^= 0x01
        with pytest.raises(errors.EnvelopeError):
            parsed = env.parse(bytes(bad))
            sealing.open_request(parsed, device_keys=device.public(), server_keys=server)


def test_truncated_envelopes_are_refused(device: PrivateKeys, server: PrivateKeys) -> None:
    data = _request(device, server, _sync_payload()).data
    for cut in [0, 1, 2, 10, 100, len(data) // 2, len(data) - 65, len(data) - 1]:
        with pytest.raises(errors.EnvelopeError):
            sealing.open_request(
                env.parse(data[:cut]), device_keys=device.public(), server_keys=server
            )


def test_wrong_keys_are_refused(device: PrivateKeys, server: PrivateKeys) -> None:
    data = _request(device, server, _sync_payload()).data
    other = PrivateKeys.generate()
    with pytest.raises(errors.EnvelopeError, match="signature"):
        sealing.open_request(env.parse(data), device_keys=other.public(), server_keys=server)
    with pytest.raises(errors.EnvelopeError, match="wrong key"):
        sealing.open_request(env.parse(data), device_keys=device.public(), server_keys=other)


def test_response_must_answer_its_request(device: PrivateKeys, server: PrivateKeys) -> None:
    one = _request(device, server, b"{}")
    two = _request(device, server, b"{}")
    opened = sealing.open_request(
        env.parse(one.data), device_keys=device.public(), server_keys=server
    )
    response = sealing.seal_response(
        b"{}", request=opened.header, response_key=opened.response_key, server_keys=server
    )
    with pytest.raises(errors.EnvelopeError, match="does not answer"):
        sealing.open_response(response, request=two, server_keys=server.public())
    impostor = PrivateKeys.generate()
    forged = sealing.seal_response(
        b"{}", request=opened.header, response_key=opened.response_key, server_keys=impostor
    )
    with pytest.raises(errors.EnvelopeError, match="signature"):
        sealing.open_response(forged, request=one, server_keys=server.public())


def test_oversized_envelopes_are_refused(device: PrivateKeys, server: PrivateKeys) -> None:
    with pytest.raises(errors.EnvelopeError, match="too large"):
        env.parse(b"\x00" * (limits.MAX_ENVELOPE_BYTES + 1))
    import os

    noise = os.urandom(limits.MAX_ENVELOPE_BYTES + 10)
    with pytest.raises(errors.EnvelopeError, match="too large"):
        sealing.seal_request(
            noise,
            device_id=DEVICE_ID,
            device_keys=device,
            server_keys=server.public(),
            compress=False,
        )


def test_decompression_bomb_is_refused(device: PrivateKeys, server: PrivateKeys) -> None:
    bomb = zstandard.ZstdCompressor(level=3).compress(b"\0" * (limits.MAX_PLAINTEXT_BYTES + 1024))
    header = env.Header(
        key_id=server.public().key_id,
        mode=env.MODE_HPKE,
        device_id=DEVICE_ID,
        batch_id="b1",
        created_at_ms=0,
        compressed=True,
    )
    # Seal the already-compressed bomb as if it were the payload.
    data = env.seal(
        bomb,
        env.Header(**{**header.__dict__, "compressed": False}),
        signer=device,
        recipient=server.public(),
    )
    hacked = env.parse(data)
    envelope = env.Envelope(
        header=header,
        header_bytes=hacked.header_bytes,
        body=hacked.body,
        signature=hacked.signature,
        signed_part=hacked.signed_part,
    )
    with pytest.raises(errors.EnvelopeError, match="too large|zstd"):
        envelope.open_hpke(server)


def test_header_must_be_well_formed() -> None:
    good = env.Header(key_id="k", mode="h", device_id="d", batch_id="b", created_at_ms=1)
    assert env.Header.from_bytes(good.to_bytes()) == good
    for bad in [
        b"not json",
        b"[]",
        json.dumps({**good.to_json(), "v": 99}).encode(),
        json.dumps({**good.to_json(), "m": "x"}).encode(),
        json.dumps({k: v for k, v in good.to_json().items() if k != "d"}).encode(),
        json.dumps({**good.to_json(), "t": "soon"}).encode(),
        json.dumps({**good.to_json(), "q": [1]}).encode(),
    ]:
        with pytest.raises(errors.EnvelopeError):
            env.Header.from_bytes(bad)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_only_raise_envelope_error(data: bytes) -> None:
    server = _FUZZ_SERVER
    try:
        parsed = env.parse(data)
        sealing.open_request(parsed, device_keys=_FUZZ_DEVICE.public(), server_keys=server)
    except errors.EnvelopeError:
        pass


_FUZZ_SERVER = PrivateKeys.generate()
_FUZZ_DEVICE = PrivateKeys.generate()


def test_keys_serialise(device: PrivateKeys) -> None:
    assert PrivateKeys.from_bytes(device.to_bytes()) == device
    assert len(device.to_bytes()) == 132
    pub = device.public()
    assert PublicKeys.from_json(json.loads(json.dumps(pub.to_json()))) == pub
    assert len(pub.key_id) == 16


def test_overhead_report(device: PrivateKeys, server: PrivateKeys, capsys) -> None:
    """Measure the envelope's byte overhead (docs/protocol.md §9 quotes these numbers)."""
    quiet = wire.canonical_json(
        {
            "cursor": "5090.0be0c1d2e3f4a5b6",
            "epoch": "8c64f4a3633d4fa9ab7303cf313cb1e2",
            "changes": [],
            "limit": 1000,
            "want_blocks": [],
            "session": False,
        }
    )
    hpke = _request(device, server, quiet)
    key = sealing.derive_session_key(hpke.response_key, "AbCdEfGhIjKlMnOp")
    session = sealing.seal_request(
        quiet, device_id=DEVICE_ID, device_keys=device, session=("AbCdEfGhIjKlMnOp", key)
    )
    opened = sealing.open_request(
        env.parse(hpke.data), device_keys=device.public(), server_keys=server
    )
    answer = wire.canonical_json(
        {
            "results": [],
            "changes": [],
            "cursor": "5090.0be0c1d2e3f4a5b6",
            "more": False,
            "reset": False,
            "epoch": "8c64f4a3633d4fa9ab7303cf313cb1e2",
            "max_device_seq": 17,
            "server_time": 1764145000123,
            "clock_skew_ms": -412,
            "skew_flagged": False,
            "blocks": [],
            "conflicts_open": 0,
            "session": None,
        }
    )
    response = sealing.seal_response(
        answer, request=opened.header, response_key=opened.response_key, server_keys=server
    )
    with capsys.disabled():
        print(
            f"\nenvelope sizes: quiet request HPKE {len(hpke.data)} B (payload {len(quiet)} B), "
            f"session {len(session.data)} B, response {len(response)} B (payload {len(answer)} B)"
        )
    assert len(hpke.data) < 1600
    assert len(session.data) < 450
    assert len(response) < 450
