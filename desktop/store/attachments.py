"""Attachments: scans and papers stored by content hash, encrypted at rest in chunks.

Content lives in ``<profile>/attachments/<sha256[:2]>/<sha256>`` as a header
(``MCA1``, chunk size, plaintext size) followed by AES-GCM chunks of :data:`CHUNK_SIZE`
plaintext bytes, under a key derived from the database key (HKDF, info
``motcua attachments v1``). Chunking lets sync upload resumably, one chunk at a time. The
metadata (``attachment`` entity: dossier_id, sha256, size, mime, name) is a row plus an
outbox entry, written in one transaction after the content file is safely on disk.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from desktop.store import chunkcrypt, journal
from desktop.store.context import WriteContext
from desktop.store.database import Connection
from desktop.store.errors import StoreError
from desktop.store.fileio import fsync_dir
from desktop.store.ids import uuid7

CHUNK_SIZE = 64 * 1024
MAGIC = b"MCA1"
_HEADER = struct.Struct(">4sIQ")
KEY_INFO = b"motcua attachments v1"


@dataclass(frozen=True)
class Attachment:
    """Metadata of one attachment."""

    id: str
    dossier_id: str
    sha256: str
    size: int
    mime: str
    name: str
    created_at: str


def content_path(root: Path, sha256: str) -> Path:
    """Return where the encrypted content of ``sha256`` lives."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise StoreError(f"not a SHA-256 hex digest: {sha256!r}")
    return Path(root) / sha256[:2] / sha256


def write_content(root: Path, key: bytes, content: bytes) -> str:
    """Encrypt ``content`` to its content-addressed file (if not already there).

    Returns:
        The SHA-256 hex digest of the content.
    """
    digest = hashlib.sha256(content).hexdigest()
    path = content_path(root, digest)
    if path.exists():
        return digest
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{digest}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(_HEADER.pack(MAGIC, CHUNK_SIZE, len(content)))
        writer = chunkcrypt.ChunkWriter(fh, key, digest.encode(), CHUNK_SIZE)
        for start in range(0, len(content), CHUNK_SIZE):
            writer.write(content[start : start + CHUNK_SIZE])
        writer.close()
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)
    return digest


def read_content(root: Path, key: bytes, sha256: str) -> bytes:
    """Decrypt an attachment's content and check it against its hash.

    Raises:
        StoreError: missing, damaged or tampered content.
    """
    path = content_path(root, sha256)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise StoreError(f"attachment {sha256} is not on this device") from exc
    try:
        magic, chunk_size, size = _HEADER.unpack_from(raw)
        if magic != MAGIC:
            raise ValueError("bad magic")
        src = io.BytesIO(raw[_HEADER.size :])
        plain = b"".join(chunkcrypt.read_chunks(src, key, sha256.encode(), chunk_size))
    except Exception as exc:
        raise StoreError(f"attachment {sha256} is damaged or was tampered with") from exc
    if len(plain) != size or hashlib.sha256(plain).hexdigest() != sha256:
        raise StoreError(f"attachment {sha256} does not match its hash")
    return plain


def iter_plain_chunks(root: Path, key: bytes, sha256: str) -> Iterator[bytes]:
    """Yield the content in :data:`CHUNK_SIZE` pieces (for resumable upload by the sync engine)."""
    content = read_content(root, key, sha256)
    for start in range(0, len(content), CHUNK_SIZE):
        yield content[start : start + CHUNK_SIZE]


def insert(
    conn: Connection,
    ctx: WriteContext,
    *,
    dossier_id: str,
    sha256: str,
    size: int,
    mime: str,
    name: str,
) -> Attachment:
    """Write the metadata row, outbox entry and audit entry (in the caller's transaction)."""
    if conn.execute("SELECT 1 FROM dossiers WHERE id = ?", (dossier_id,)).fetchone() is None:
        raise StoreError(f"no dossier with id {dossier_id}")
    at = ctx.timestamp()
    attachment_id = uuid7()
    conn.execute(
        "INSERT INTO attachments (id, dossier_id, sha256, size, mime, name, chunk_size, "
        "created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (attachment_id, dossier_id, sha256, size, mime, name, CHUNK_SIZE, at, ctx.clerk),
    )
    values = {"dossier_id": dossier_id, "sha256": sha256, "size": size, "mime": mime, "name": name}
    journal.record_create(
        conn,
        ctx,
        entity="attachment",
        entity_id=attachment_id,
        values=values,
        action="attachment.add",
        summary=f"dossier {dossier_id} {mime} {size} bytes",
        at=at,
    )
    return Attachment(attachment_id, dossier_id, sha256, size, mime, name, at)


def list_for(conn: Connection, dossier_id: str) -> list[Attachment]:
    """Return a dossier's attachments, oldest first."""
    rows = conn.execute(
        "SELECT id, dossier_id, sha256, size, mime, name, created_at FROM attachments "
        "WHERE dossier_id = ? ORDER BY created_at, id",
        (dossier_id,),
    ).fetchall()
    return [Attachment(*r) for r in rows]
