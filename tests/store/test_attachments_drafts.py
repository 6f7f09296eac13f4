"""Attachments (content-addressed, encrypted in chunks) and drafts."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from desktop.store import attachments
from desktop.store.errors import StoreError
from desktop.store.store import Store
from tests.forms.samples import BIRTH, RECEIVED


def test_attachment_round_trip_and_outbox(store: Store, profile_dir: Path) -> None:
    record = store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    content = os.urandom(3 * attachments.CHUNK_SIZE + 123)
    att = store.add_attachment(record.id, content, "giay-chung-sinh.jpg", "image/jpeg")
    digest = hashlib.sha256(content).hexdigest()
    assert att.sha256 == digest and att.size == len(content)
    path = profile_dir / "attachments" / digest[:2] / digest
    assert path.exists() and content[:64] not in path.read_bytes()
    assert store.attachment_content(digest) == content
    assert b"".join(store.attachment_chunks(digest)) == content
    assert [len(c) for c in store.attachment_chunks(digest)][:3] == [attachments.CHUNK_SIZE] * 3
    assert [a.id for a in store.attachments(record.id)] == [att.id]
    change = store.all_changes(att.id)[0]
    assert change.entity == "attachment"
    assert change.fields["sha256"] == [None, digest]
    assert change.fields["dossier_id"] == [None, record.id]
    # Same content again: one file, two metadata rows.
    store.add_attachment(record.id, content, "copy.jpg", "image/jpeg")
    assert len(list((profile_dir / "attachments").rglob("*"))) == 2  # dir + file


def test_empty_and_exact_chunk_sizes(store: Store) -> None:
    record = store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    for content in (b"", b"x" * attachments.CHUNK_SIZE, b"y" * (2 * attachments.CHUNK_SIZE)):
        att = store.add_attachment(record.id, content, "f", "application/octet-stream")
        assert store.attachment_content(att.sha256) == content


def test_tampered_content_is_refused(store: Store, profile_dir: Path) -> None:
    record = store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    att = store.add_attachment(record.id, b"scan" * 1000, "s.png", "image/png")
    path = profile_dir / "attachments" / att.sha256[:2] / att.sha256
    raw = bytearray(path.read_bytes())
    raw[40] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(StoreError, match="tampered"):
        store.attachment_content(att.sha256)
    with pytest.raises(StoreError):
        store.attachment_content("0" * 63 + "g")


def test_attachment_needs_a_dossier(store: Store) -> None:
    with pytest.raises(StoreError):
        store.add_attachment("no-such", b"x", "x", "text/plain")
    assert store.all_changes() == []


def test_drafts(store: Store) -> None:
    store.save_draft("new-1", "khai_sinh", {"tre_ho": "Giàng"})
    store.save_draft("new-1", "khai_sinh", {"tre_ho": "Giàng", "tre_ten": "Xà"})
    store.save_draft("new-2", "khai_tu", {})
    drafts = {d.key: d for d in store.list_drafts()}
    assert drafts["new-1"].data == {"tre_ho": "Giàng", "tre_ten": "Xà"}
    assert drafts["new-1"].clerk == "lan"
    assert store.delete_draft("new-1") is True
    assert store.delete_draft("new-1") is False
    assert [d.key for d in store.list_drafts()] == ["new-2"]
    assert store.all_changes() == []  # drafts never sync
