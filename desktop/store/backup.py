"""Online backup of a whole profile to one encrypted file, and restore.

File layout::

    b"MOTCUA-BACKUP-1\\n"
    u32 header length, header JSON: format, created_at, commune, device_id, salt,
        chunk_size, keyslots (the profile's key slot file, as text)
    encrypted stream (desktop.store.chunkcrypt) of an uncompressed tar holding
        config.json, keyslots.json, store.db, attachments/**

The stream key is HKDF(database key, salt, "motcua backup v1") with a fresh random salt per
backup, and the header's hash is the chunks' associated data, so the header cannot be
swapped. The key slots travel in the header: restoring needs a clerk's password (or the
recovery key) *as it was when the backup was made*. The database inside is a consistent
snapshot made with ``VACUUM INTO`` on the writer thread, itself encrypted with the same key.

Restore unpacks into a temporary directory beside the target, checks the database opens and
passes ``integrity_check``, and only then moves the old profile aside
(``<dir>.before-restore-<time>``) and renames the new one into place, so an interruption
never leaves a half-restored profile.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import struct
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from desktop.store import audit, chunkcrypt, database, profile
from desktop.store.context import WriteContext
from desktop.store.database import Connection
from desktop.store.errors import BackupError, ProfileExists, StoreError, WrongPassword
from desktop.store.fileio import fsync_dir
from desktop.store.keyslots import KeySlots

MAGIC = b"MOTCUA-BACKUP-1\n"
CHUNK_SIZE = 1024 * 1024
KEY_INFO = b"motcua backup v1"
_ALLOWED_TOP = {profile.CONFIG, profile.KEYSLOTS, profile.DATABASE, profile.ATTACHMENTS}


def write_backup(
    dest: Path,
    *,
    snapshot_db: Path,
    profile_dir: Path,
    key: bytes,
    commune: str,
    device_id: str,
) -> int:
    """Write the backup file from a database snapshot and the profile's other files.

    Returns:
        The size of the backup file in bytes.
    """
    dest = Path(dest)
    p = profile.paths(profile_dir)
    salt = os.urandom(16)
    header = {
        "format": 1,
        "created_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "commune": commune,
        "device_id": device_id,
        "salt": salt.hex(),
        "chunk_size": CHUNK_SIZE,
        "keyslots": p["keyslots"].read_text("utf-8"),
    }
    header_bytes = json.dumps(header, sort_keys=True).encode("utf-8")
    context = hashlib.sha256(header_bytes).digest()
    stream_key = chunkcrypt.derive_key(key, KEY_INFO, salt)
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(MAGIC)
            fh.write(struct.pack(">I", len(header_bytes)))
            fh.write(header_bytes)
            writer = chunkcrypt.ChunkWriter(fh, stream_key, context, CHUNK_SIZE)
            with tarfile.open(fileobj=writer, mode="w|") as tar:  # type: ignore[call-overload]
                tar.add(p["config"], arcname=profile.CONFIG)
                tar.add(p["keyslots"], arcname=profile.KEYSLOTS)
                tar.add(snapshot_db, arcname=profile.DATABASE)
                if p["attachments"].exists():
                    tar.add(p["attachments"], arcname=profile.ATTACHMENTS)
            writer.close()
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
    finally:
        if tmp.exists():
            tmp.unlink()
    return dest.stat().st_size


def read_header(src: BinaryIO) -> tuple[dict[str, Any], bytes]:
    """Read and check the backup header; return it with its raw bytes.

    Raises:
        BackupError: not a backup file, or a damaged header.
    """
    if src.read(len(MAGIC)) != MAGIC:
        raise BackupError("this file is not a motcua backup")
    raw_len = src.read(4)
    if len(raw_len) != 4:
        raise BackupError("the backup file is truncated")
    (length,) = struct.unpack(">I", raw_len)
    if length > 16 * 1024 * 1024:
        raise BackupError("the backup header is damaged")
    header_bytes = src.read(length)
    try:
        header = json.loads(header_bytes)
        assert isinstance(header, dict) and header.get("format") == 1
    except (ValueError, AssertionError) as exc:
        raise BackupError("the backup header is damaged") from exc
    return header, header_bytes


def _unlock(slots: KeySlots, username: str | None, password: str) -> bytes:
    if username:
        return slots.unlock(username, password)
    for name in slots.usernames():
        try:
            return slots.unlock(name, password)
        except WrongPassword:
            continue
    raise WrongPassword("the password opens no key slot of this backup")


def _safe_members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    for member in tar:
        parts = Path(member.name).parts
        if (
            not parts
            or parts[0] not in _ALLOWED_TOP
            or member.name.startswith("/")
            or ".." in parts
            or not (member.isfile() or member.isdir())
        ):
            raise BackupError(f"unexpected entry in backup: {member.name!r}")
        yield member


def restore_backup(
    backup_path: Path,
    profile_dir: Path,
    password: str | None = None,
    *,
    username: str | None = None,
    recovery_private_key: bytes | None = None,
) -> Path | None:
    """Restore a profile from a backup file.

    Args:
        backup_path: the file made by ``Store.backup``.
        profile_dir: where the profile goes; an existing profile there is moved aside.
        password: a clerk's password at the time of the backup.
        username: that clerk (None: try every clerk's slot).
        recovery_private_key: the province's recovery key, instead of a password.

    Returns:
        Where the previous profile was moved, or None if there was none.

    Raises:
        WrongPassword: the password or key opens nothing (nothing is written).
        BackupError: the file is not a backup, or is damaged or tampered with.
    """
    profile_dir = Path(profile_dir).absolute()
    try:
        src = open(backup_path, "rb")  # noqa: SIM115 - closed in finally
    except OSError as exc:
        raise BackupError(f"cannot read {backup_path}: {exc}") from exc
    staging: Path | None = None
    try:
        header, header_bytes = read_header(src)
        slots = KeySlots.from_bytes(profile_dir / profile.KEYSLOTS, header["keyslots"].encode())
        key = _backup_key(slots, username, password, recovery_private_key)
        stream_key = chunkcrypt.derive_key(key, KEY_INFO, bytes.fromhex(header["salt"]))
        context = hashlib.sha256(header_bytes).digest()
        profile_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(
            tempfile.mkdtemp(prefix=f".{profile_dir.name}.restore-", dir=profile_dir.parent)
        )
        chunks = chunkcrypt.read_chunks(src, stream_key, context, int(header["chunk_size"]))
        _extract(_ChunkReader(chunks), staging)
        _check_database(staging, key)
        aside = _swap_into_place(staging, profile_dir)
        staging = None
        return aside
    except (KeyError, TypeError) as exc:
        raise BackupError("the backup header is damaged") from exc
    finally:
        src.close()
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def _backup_key(
    slots: KeySlots, username: str | None, password: str | None, recovery_key: bytes | None
) -> bytes:
    """Unwrap the database key of the backup with the recovery key or a password."""
    if recovery_key is not None:
        return slots.unlock_with_recovery(recovery_key)
    if password is not None:
        return _unlock(slots, username, password)
    raise WrongPassword("a password or the recovery key is needed")


def _extract(plain: _ChunkReader, staging: Path) -> None:
    """Unpack the decrypted tar stream into ``staging``, checking every chunk.

    Raises:
        BackupError: a damaged or tampered stream, or an entry outside the profile's files.
    """
    try:
        with tarfile.open(fileobj=plain, mode="r|") as tar:  # type: ignore[call-overload]
            for member in _safe_members(tar):
                tar.extract(member, staging, set_attrs=False)
        plain.drain()
    except (ValueError, tarfile.TarError, OSError) as exc:
        raise BackupError(f"the backup is damaged or was tampered with: {exc}") from exc
    except Exception as exc:  # InvalidTag from a tampered chunk
        if type(exc).__name__ == "InvalidTag":
            raise BackupError("the backup is damaged or was tampered with") from exc
        raise
    if not profile.exists(staging):
        raise BackupError("the backup does not contain a whole profile")


def _check_database(staging: Path, key: bytes) -> None:
    """Refuse a restored database that does not open or fails ``integrity_check``."""
    conn = database.connect(staging / profile.DATABASE, key)
    try:
        problems = database.integrity_check(conn)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    if problems != ["ok"]:
        raise BackupError(f"the database in the backup is damaged: {problems[:3]}")


def _swap_into_place(staging: Path, profile_dir: Path) -> Path | None:
    """Move the current profile aside and the restored one into place; return where aside."""
    aside: Path | None = None
    if profile_dir.exists():
        if any(profile_dir.iterdir()):
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            aside = profile_dir.with_name(f"{profile_dir.name}.before-restore-{stamp}")
            if aside.exists():
                raise ProfileExists(f"{aside} already exists; try again in a second")
            os.replace(profile_dir, aside)
        else:
            profile_dir.rmdir()
    os.replace(staging, profile_dir)
    fsync_dir(profile_dir.parent)
    return aside


class _ChunkReader:
    """A read-only file object over an iterator of decrypted chunks (for ``tarfile`` r|)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""
        self._done = False

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._buffer) < size):
            try:
                self._buffer += next(self._chunks)
            except StopIteration:
                self._done = True
        if size < 0:
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out

    def drain(self) -> None:
        """Read to the end so the final chunk (and so truncation) is checked."""
        while self.read(1024 * 1024):
            pass


def audit_backup(conn: Connection, ctx: WriteContext, size: int) -> None:
    """Record in the audit log that a backup of ``size`` bytes was written."""
    audit.append_audit(
        conn, at=ctx.timestamp(), clerk=ctx.clerk, action="profile.backup", summary=f"{size} bytes"
    )


def snapshot(conn: Connection, dest: Path) -> None:
    """Write a consistent, encrypted copy of the database with ``VACUUM INTO``.

    Raises:
        StoreError: ``dest`` exists.
    """
    if Path(dest).exists():
        raise StoreError(f"{dest} exists")
    conn.execute("VACUUM INTO ?", (str(dest),))
