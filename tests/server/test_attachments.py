"""Attachments: which hashes are missing, resumable chunked upload, hash check."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

import pytest

from protocol import wire
from server.service import SyncServer
from tests.server.fake_device import FakeDevice, SyncFailed

NewDevice = Callable[..., FakeDevice]


def test_missing_lists_what_the_server_lacks(server: SyncServer, new_device: NewDevice) -> None:
    a = new_device()
    have = os.urandom(1000)
    a.upload(have)
    lack = hashlib.sha256(b"other scan").hexdigest()
    answer = a.request(
        wire.PATH_ATTACHMENTS_MISSING, {"hashes": [hashlib.sha256(have).hexdigest(), lack]}
    )
    assert answer == {"missing": [{"sha256": lack, "offset": 0}]}


def test_cut_upload_resumes_from_the_last_acknowledged_chunk(
    server: SyncServer, new_device: NewDevice
) -> None:
    a = new_device()
    scan = os.urandom(300 * 1024)
    sha = hashlib.sha256(scan).hexdigest()
    first = a.upload(scan, chunk=64 * 1024, stop_after=2)  # the link dies after two chunks
    assert (first["offset"], first["complete"]) == (128 * 1024, False)
    status, offset = a.head_offset(sha)
    assert (status, int(offset)) == (200, 128 * 1024)
    missing = a.request(wire.PATH_ATTACHMENTS_MISSING, {"hashes": [sha]})
    assert missing["missing"] == [{"sha256": sha, "offset": 128 * 1024}]
    rest = a.upload(scan, chunk=64 * 1024)
    assert rest["complete"] and rest["chunks_sent"] == 3  # nothing re-sent
    with server.storage.read() as tx:
        assert tx.attachment_content(sha) == scan
    # Uploading again is a no-op.
    assert a.upload(scan)["chunks_sent"] == 0


def test_wrong_offset_is_409_with_the_right_one(server: SyncServer, new_device: NewDevice) -> None:
    a = new_device()
    scan = os.urandom(10_000)
    sha = hashlib.sha256(scan).hexdigest()
    a.upload(scan, chunk=4000, stop_after=1)
    piece = scan[8000:]
    extra = {"a": sha, "o": 8000, "n": len(scan), "c": hashlib.sha256(piece).hexdigest()}
    with pytest.raises(SyncFailed) as err:
        a.request(wire.PATH_ATTACHMENTS + sha, piece, method="PATCH", compress=False, extra=extra)
    assert err.value.status == 409 and err.value.body["offset"] == 4000


def test_bad_chunk_checksum_and_bad_file_hash(server: SyncServer, new_device: NewDevice) -> None:
    a = new_device()
    scan = os.urandom(5000)
    sha = hashlib.sha256(scan).hexdigest()
    extra = {"a": sha, "o": 0, "n": 5000, "c": hashlib.sha256(b"other").hexdigest()}
    with pytest.raises(SyncFailed) as err:
        a.request(wire.PATH_ATTACHMENTS + sha, scan, method="PATCH", compress=False, extra=extra)
    assert err.value.status == 400 and "checksum" in err.value.body["error"]
    liar = os.urandom(5000)  # content that does not hash to the name it is uploaded under
    extra = {"a": sha, "o": 0, "n": 5000, "c": hashlib.sha256(liar).hexdigest()}
    with pytest.raises(SyncFailed) as err:
        a.request(wire.PATH_ATTACHMENTS + sha, liar, method="PATCH", compress=False, extra=extra)
    assert err.value.status == 422
    assert int(a.head_offset(sha)[1]) == 0  # the bad upload was thrown away


def test_head_needs_a_valid_signature(client: object, new_device: NewDevice) -> None:
    a = new_device()
    resp = client.head(  # type: ignore[attr-defined]
        wire.PATH_ATTACHMENTS + "a" * 64,
        headers={wire.HEADER_DEVICE: a.device_id, wire.HEADER_TIME: "1"},
    )
    assert resp.status_code == 400
