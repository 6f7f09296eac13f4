"""What the store remembers about sync: the one state record and the device's sync identity.

* :class:`StoredSyncState` is the one ``sync_state`` row (migration ``006_one_sync_state``):
  the server's opaque cursor, its epoch, the last sync, the last error (its code and the
  clerk's message, always together), the clock offset and the server's flags. Every sync
  write changes it in the transaction of the work it describes.
* :class:`SyncIdentity` is the device's keys, the pinned server keys and the session; with
  the keys made for an enrolment still under way, they are secrets, so they live in the
  ``meta`` table, inside the SQLCipher-encrypted database, never in ``config.json``.

The server's address is not here: its one home is the profile's ``config.json``
(``Store.config.server_url``). Profiles from before kept it in meta ``sync.server_url``;
the store moves it to ``config.json`` once, when it opens (:func:`legacy_server_url`).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from desktop.store.database import Connection

META_DEVICE_KEYS = "sync.device_keys"
META_SERVER_KEYS = "sync.server_keys"
META_ENROLLED_AT = "sync.enrolled_at"
META_SESSION = "sync.session"
META_PENDING_KEYS = "sync.enrol_keys"
#: Where profiles before ``006_one_sync_state`` kept the server address.
META_LEGACY_SERVER_URL = "sync.server_url"


@dataclass(frozen=True)
class StoredSyncState:
    """The one record of sync state.

    Attributes:
        cursor: the server's opaque pull cursor ("" before the first pull or after a reset).
        server_epoch: the server's epoch at the last answer.
        last_sync_at: local ISO time of the last answer applied.
        error_code: why the last attempt failed (``offline``, ``timeout``, ``revoked``, …).
        last_error: the same for the clerk, in Vietnamese; None after a good sync.
        clock_offset: server time minus local time, seconds.
        skew_flagged: the server flagged this PC's clock.
        conflicts_open: the commune's open conflicts on the server, once told.
        revoked: the server refused this device for good.
    """

    cursor: str = ""
    server_epoch: str | None = None
    last_sync_at: str | None = None
    error_code: str | None = None
    last_error: str | None = None
    clock_offset: float | None = None
    skew_flagged: bool = False
    conflicts_open: int | None = None
    revoked: bool = False


_STATE_FIELDS = (
    "cursor",
    "server_epoch",
    "last_sync_at",
    "error_code",
    "last_error",
    "clock_offset",
    "skew_flagged",
    "conflicts_open",
    "revoked",
)


def read_state(conn: Connection) -> StoredSyncState:
    """Return the stored sync state."""
    row = conn.execute(f"SELECT {', '.join(_STATE_FIELDS)} FROM sync_state WHERE id = 1").fetchone()
    if row is None:
        return StoredSyncState()
    values = dict(zip(_STATE_FIELDS, row))
    values["skew_flagged"] = bool(values["skew_flagged"])
    values["revoked"] = bool(values["revoked"])
    return StoredSyncState(**values)


def update_state(conn: Connection, **values: Any) -> None:
    """Set some fields of the sync state (in the caller's transaction).

    Raises:
        ValueError: an unknown field name.
    """
    unknown = set(values) - set(_STATE_FIELDS)
    if unknown:
        raise ValueError(f"unknown sync state fields: {sorted(unknown)}")
    if values:
        sets = ", ".join(f"{k} = ?" for k in values)
        conn.execute(f"UPDATE sync_state SET {sets} WHERE id = 1", tuple(values.values()))


# -- the identity, in meta --------------------------------------------------------------------


@dataclass(frozen=True)
class SyncIdentity:
    """The device's sync secrets as stored.

    Attributes:
        device_keys: the enrolled private keys (``PrivateKeys.to_bytes()``), if enrolled.
        server_keys: the pinned server public keys (``PublicKeys.to_json()``), if enrolled.
        session: the session the server offered, as the sync engine saved it.
    """

    device_keys: bytes | None = None
    server_keys: dict[str, Any] | None = None
    session: str | None = None


def get_meta(conn: Connection, key: str) -> str | None:
    """Return a value of the ``meta`` table, or None."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(conn: Connection, key: str, value: str | None) -> None:
    """Set (or, with None, delete) a value of the ``meta`` table (caller's transaction)."""
    if value is None:
        conn.execute("DELETE FROM meta WHERE key = ?", (key,))
    else:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


def encode_secret(data: bytes) -> str:
    """Return key bytes as the text the ``meta`` table keeps (base64)."""
    return base64.b64encode(data).decode("ascii")


def decode_secret(text: str | None) -> bytes | None:
    """Return key bytes kept by :func:`encode_secret` (None when there are none)."""
    return base64.b64decode(text) if text else None


def read_identity(conn: Connection) -> SyncIdentity:
    """Return the stored sync secrets.

    Raises:
        ValueError: a stored value is unreadable (the device must enrol again).
    """
    server_keys = get_meta(conn, META_SERVER_KEYS)
    return SyncIdentity(
        device_keys=decode_secret(get_meta(conn, META_DEVICE_KEYS)),
        server_keys=json.loads(server_keys) if server_keys else None,
        session=get_meta(conn, META_SESSION),
    )


def read_pending_keys(conn: Connection) -> bytes | None:
    """Return keys made for an enrolment not finished yet (or for an early printout)."""
    return decode_secret(get_meta(conn, META_PENDING_KEYS))


def save_pending_keys(conn: Connection, keys: bytes) -> None:
    """Keep keys made for an enrolment before anything is sent (caller's transaction)."""
    set_meta(conn, META_PENDING_KEYS, encode_secret(keys))


def save_session(conn: Connection, session: str | None) -> None:
    """Keep (or with None forget) the session the server offered."""
    set_meta(conn, META_SESSION, session)


@dataclass(frozen=True)
class Enrolment:
    """What a successful enrolment pins.

    Attributes:
        device_keys: the device's private keys the server registered.
        server_keys: the server's public keys, as JSON data.
        enrolled_at: local ISO time.
        epoch: the server's epoch ("" when it gave none).
        clock_offset: server time minus local time, seconds.
    """

    device_keys: bytes
    server_keys: dict[str, Any]
    enrolled_at: str
    epoch: str
    clock_offset: float


def save_enrolment(conn: Connection, enrolment: Enrolment) -> None:
    """Pin the server and start sync afresh: no session, no cursor, no error, not revoked."""
    set_meta(conn, META_DEVICE_KEYS, encode_secret(enrolment.device_keys))
    set_meta(conn, META_SERVER_KEYS, json.dumps(enrolment.server_keys))
    set_meta(conn, META_ENROLLED_AT, enrolment.enrolled_at)
    set_meta(conn, META_SESSION, None)
    set_meta(conn, META_PENDING_KEYS, None)
    update_state(
        conn,
        cursor="",
        server_epoch=enrolment.epoch or None,
        clock_offset=enrolment.clock_offset,
        error_code=None,
        last_error=None,
        revoked=0,
    )


def record_failure(conn: Connection, *, code: str, clerk_message: str, revoked: bool) -> None:
    """Record why a sync failed; ``revoked`` also marks the device refused for good."""
    values: dict[str, Any] = {"error_code": code, "last_error": clerk_message}
    if revoked:
        values["revoked"] = 1
    update_state(conn, **values)


def legacy_server_url(conn: Connection) -> str | None:
    """Return the server address an older profile kept in meta, if it still holds one."""
    return get_meta(conn, META_LEGACY_SERVER_URL)


def drop_legacy_server_url(conn: Connection) -> None:
    """Forget the old meta copy of the server address (config.json holds it now)."""
    set_meta(conn, META_LEGACY_SERVER_URL, None)
