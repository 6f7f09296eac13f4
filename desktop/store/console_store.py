"""The store as provincial IT's console sees it: the operator's keys and the pinned server.

A provincial profile (``config.role == "province"``) is an *operator* of the provincial server:
enrolled like a device with a one-time code, its id is the profile's device id. Its private
keys, the keys made for an enrolment still under way and the pinned server keys are secrets,
so they live in the ``meta`` table inside the SQLCipher-encrypted database (apart from a
device's sync identity, :mod:`desktop.store.sync_state`); the server's address lives in the
profile's ``config.json`` like a commune's.

Typical use (by ``desktop.console``)::

    console = ConsoleStore(store)
    identity = console.identity()
    if identity.enrolled: ...
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktop.store import audit
from desktop.store.context import WriteContext
from desktop.store.database import Connection
from desktop.store.sync_state import decode_secret, encode_secret, get_meta, set_meta

if TYPE_CHECKING:
    from desktop.store.store import Store

__all__ = ["ConsoleStore", "OperatorEnrolled", "OperatorIdentity"]

META_OPERATOR_KEYS = "console.operator_keys"
META_SERVER_KEYS = "console.server_keys"
META_OPERATOR_NAME = "console.operator_name"
META_ENROLLED_AT = "console.enrolled_at"
META_PENDING_KEYS = "console.enrol_keys"


@dataclass(frozen=True)
class OperatorIdentity:
    """The operator's secrets as stored.

    Attributes:
        keys: the enrolled private keys (``PrivateKeys.to_bytes()``), once enrolled.
        server_keys: the pinned server public keys (``PublicKeys.to_json()``), once enrolled.
        name: the operator's name as the server holds it ("" before enrolment).
        enrolled_at: local ISO time of the enrolment, once enrolled.
    """

    keys: bytes | None = None
    server_keys: dict[str, Any] | None = None
    name: str = ""
    enrolled_at: str | None = None

    @property
    def enrolled(self) -> bool:
        """Whether the operator has keys and a pinned server."""
        return self.keys is not None and self.server_keys is not None


@dataclass(frozen=True)
class OperatorEnrolled:
    """What a successful operator enrolment pins.

    Attributes:
        keys: the operator's private keys the server registered.
        server_keys: the server's public keys, as JSON data.
        name: the operator's name as the server holds it.
        enrolled_at: local ISO time.
        server_url: the server it enrolled with.
    """

    keys: bytes
    server_keys: dict[str, Any]
    name: str
    enrolled_at: str
    server_url: str


class ConsoleStore:
    """Everything provincial IT's console reads from and writes to the store.

    Args:
        store: the open (provincial) store.
    """

    def __init__(self, store: Store) -> None:
        """Wrap an open store."""
        self._store = store

    @property
    def operator_id(self) -> str:
        """The operator's id: the profile's device id."""
        return self._store.device_id

    @property
    def role(self) -> str:
        """The profile's role (``commune`` or ``province``)."""
        return self._store.config.role

    @property
    def server_url(self) -> str | None:
        """The provincial server's address (the profile config's)."""
        return self._store.config.server_url

    def identity(self) -> OperatorIdentity:
        """Return the stored operator keys, pinned server and name.

        Raises:
            ValueError: a stored value is unreadable (enrol again).
        """
        return self._store.read(_read_identity)

    def pending_keys(self) -> bytes | None:
        """Return keys made for an operator enrolment not finished yet, if any."""
        return self._store.read(lambda conn: decode_secret(get_meta(conn, META_PENDING_KEYS)))

    def save_pending_keys(self, keys: bytes) -> None:
        """Keep keys made for an enrolment before the request goes out (a lost answer retries)."""
        self._store.write(lambda conn, ctx: set_meta(conn, META_PENDING_KEYS, encode_secret(keys)))

    def save_enrolment(self, enrolled: OperatorEnrolled) -> None:
        """Pin the server, keep the keys and name (one transaction, audited); record the URL."""
        self._store.write(lambda conn, ctx: _save_enrolment(conn, ctx, enrolled))
        self._store.update_config(server_url=enrolled.server_url)


def _read_identity(conn: Connection) -> OperatorIdentity:
    server_keys = get_meta(conn, META_SERVER_KEYS)
    return OperatorIdentity(
        keys=decode_secret(get_meta(conn, META_OPERATOR_KEYS)),
        server_keys=json.loads(server_keys) if server_keys else None,
        name=get_meta(conn, META_OPERATOR_NAME) or "",
        enrolled_at=get_meta(conn, META_ENROLLED_AT),
    )


def _save_enrolment(conn: Connection, ctx: WriteContext, enrolled: OperatorEnrolled) -> None:
    set_meta(conn, META_OPERATOR_KEYS, encode_secret(enrolled.keys))
    set_meta(conn, META_SERVER_KEYS, json.dumps(enrolled.server_keys))
    set_meta(conn, META_OPERATOR_NAME, enrolled.name)
    set_meta(conn, META_ENROLLED_AT, enrolled.enrolled_at)
    set_meta(conn, META_PENDING_KEYS, None)
    audit.append_audit(
        conn,
        at=ctx.timestamp(),
        clerk=ctx.clerk,
        action="console.enrol",
        entity="operator",
        entity_id=ctx.device_id,
        summary=f"enrolled with {enrolled.server_url} as operator {enrolled.name!r}, "
        f"server key {enrolled.server_keys.get('key_id', '?')}",
    )
