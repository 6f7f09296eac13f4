"""Encrypt a byte stream in fixed-size, individually authenticated AES-GCM chunks.

Used for attachments (so sync can upload and resume chunk by chunk) and backups (so a huge
database streams through without being held in memory). Each chunk's associated data binds
it to its stream (``context``), its index and whether it is the last chunk, so chunks cannot
be reordered, swapped between files or the stream cut short unnoticed.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Iterator
from typing import Any

TAG = 16


def derive_key(master: bytes, info: bytes, salt: bytes = b"") -> bytes:
    """Derive a 32-byte subkey from the database key with HKDF-SHA256."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt or None, info=info).derive(master)


def _aad(context: bytes, index: int, final: bool) -> bytes:
    return context + struct.pack(">QB", index, 1 if final else 0)


def chunk_nonce(key: bytes, context: bytes, index: int) -> bytes:
    """Return the nonce of chunk ``index``: derived, so equal content gives equal chunks.

    Safe because a (key, context, index) always encrypts the same plaintext: for attachments
    the context is the content's SHA-256; for backups the key is fresh per backup.
    """
    mac = hmac.new(key, context + struct.pack(">Q", index), hashlib.sha256).digest()
    return mac[:12]


def encrypt_chunk(key: bytes, context: bytes, index: int, final: bool, plain: bytes) -> bytes:
    """Encrypt one chunk (ciphertext with its 16-byte tag)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key).encrypt(chunk_nonce(key, context, index), plain, _aad(context, index, final))


def decrypt_chunk(key: bytes, context: bytes, index: int, final: bool, sealed: bytes) -> bytes:
    """Decrypt one chunk.

    Raises:
        cryptography.exceptions.InvalidTag: wrong key, tampered or misplaced chunk.
    """
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key).decrypt(
        chunk_nonce(key, context, index), sealed, _aad(context, index, final)
    )


class ChunkWriter:
    """A write-only file object that encrypts what is written, chunk by chunk, into ``out``."""

    def __init__(self, out: Any, key: bytes, context: bytes, chunk_size: int) -> None:
        self._out, self._key, self._context, self._size = out, key, context, chunk_size
        self._buffer = bytearray()
        self._index = 0
        self.plain_bytes = 0

    def write(self, data: bytes) -> int:
        """Buffer ``data``; flush every full chunk except the last (it may be final)."""
        self._buffer += data
        self.plain_bytes += len(data)
        while len(self._buffer) > self._size:
            self._emit(bytes(self._buffer[: self._size]), final=False)
            del self._buffer[: self._size]
        return len(data)

    def _emit(self, plain: bytes, *, final: bool) -> None:
        sealed = encrypt_chunk(self._key, self._context, self._index, final, plain)
        self._out.write(struct.pack(">I", len(sealed)))
        self._out.write(sealed)
        self._index += 1

    def close(self) -> None:
        """Write the final chunk (possibly empty), which marks the end of the stream."""
        self._emit(bytes(self._buffer), final=True)
        self._buffer.clear()


def read_chunks(src: Any, key: bytes, context: bytes, max_chunk: int) -> Iterator[bytes]:
    """Yield the decrypted chunks of a stream written by :class:`ChunkWriter`.

    Raises:
        ValueError: the stream is truncated or has a chunk larger than ``max_chunk``.
        cryptography.exceptions.InvalidTag: wrong key or tampered data.
    """
    index = 0
    while True:
        head = src.read(4)
        if len(head) < 4:
            raise ValueError("the encrypted stream is truncated")
        (length,) = struct.unpack(">I", head)
        if length > max_chunk + TAG:
            raise ValueError("the encrypted stream has an oversized chunk")
        sealed = src.read(length)
        if len(sealed) != length:
            raise ValueError("the encrypted stream is truncated")
        # A chunk shorter than a full one must be the final chunk; try final first then.
        final_guess = length < max_chunk + TAG
        try:
            plain = decrypt_chunk(key, context, index, final_guess, sealed)
            final = final_guess
        except Exception:
            if final_guess:
                raise
            plain = decrypt_chunk(key, context, index, True, sealed)
            final = True
        yield plain
        if final:
            return
        index += 1
