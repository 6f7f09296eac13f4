"""Clerk accounts of a profile: who may sign in, with which role.

An account is a row of ``clerks`` (kept after removal, so history still names its clerk) plus
a key slot in ``keyslots.json`` (``desktop.store.keyslots``) that the façade writes inside the
same transaction. Every change is in the audit log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from desktop.store import audit
from desktop.store.context import WriteContext
from desktop.store.database import Connection
from desktop.store.errors import StoreError, UnknownClerk

ROLES = ("clerk", "admin")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")


@dataclass(frozen=True)
class Clerk:
    """A clerk account of this profile."""

    username: str
    full_name: str
    role: str
    active: bool
    created_at: str


def check_username(username: str) -> None:
    """Refuse a username that is not 1-32 lower-case letters, digits, '.', '_' or '-'.

    Raises:
        StoreError: the username is invalid.
    """
    if not _USERNAME.match(username or ""):
        raise StoreError(
            f"invalid username {username!r}: use 1-32 lower-case letters, digits, '.', '_' or '-'"
        )


def check_new_clerk(username: str, full_name: str, password: str, role: str) -> None:
    """Refuse an account that cannot be made.

    Raises:
        StoreError: invalid username, empty name or password, unknown role.
    """
    check_username(username)
    if not full_name or not full_name.strip():
        raise StoreError("the clerk's full name must not be empty")
    if not password:
        raise StoreError("the password must not be empty")
    if role not in ROLES:
        raise StoreError(f"unknown role {role!r}")


def insert(conn: Connection, ctx: WriteContext, username: str, full_name: str, role: str) -> Clerk:
    """Add (or re-activate) an account and audit it, in the caller's transaction.

    Raises:
        StoreError: an active clerk has this username.
    """
    existing = conn.execute("SELECT active FROM clerks WHERE username = ?", (username,)).fetchone()
    if existing is not None and existing[0]:
        raise StoreError(f"clerk {username!r} already exists")
    at = ctx.timestamp()
    conn.execute(
        "INSERT INTO clerks (username, full_name, role, active, created_at) "
        "VALUES (?, ?, ?, 1, ?) ON CONFLICT (username) DO UPDATE SET "
        "full_name = excluded.full_name, role = excluded.role, active = 1",
        (username, full_name.strip(), role, at),
    )
    audit.append_audit(
        conn,
        at=at,
        clerk=ctx.clerk,
        action="clerk.add",
        entity="clerk",
        entity_id=username,
        summary=f"role {role}",
    )
    return Clerk(username, full_name.strip(), role, True, at)


def deactivate(conn: Connection, ctx: WriteContext, username: str) -> None:
    """Deactivate an account (its history is kept) and audit it, in the caller's transaction.

    Raises:
        UnknownClerk: no such active clerk.
    """
    cur = conn.execute(
        "UPDATE clerks SET active = 0 WHERE username = ? AND active = 1", (username,)
    )
    if cur.rowcount == 0:
        raise UnknownClerk(f"no active clerk {username!r}")
    audit.append_audit(
        conn,
        at=ctx.timestamp(),
        clerk=ctx.clerk,
        action="clerk.remove",
        entity="clerk",
        entity_id=username,
        summary="key slot removed",
    )


def active(conn: Connection) -> list[Clerk]:
    """Return the active clerks, by username."""
    rows = conn.execute(
        "SELECT username, full_name, role, active, created_at FROM clerks "
        "WHERE active = 1 ORDER BY username"
    )
    return [Clerk(r[0], r[1], r[2], bool(r[3]), r[4]) for r in rows.fetchall()]
