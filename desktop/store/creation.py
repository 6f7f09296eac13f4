"""Create a new profile: config, an empty migrated database, key slots, attachments folder.

The profile is built in a temporary directory beside the target and renamed into place, so
a crash during creation leaves no half-made profile.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from desktop.store import audit, database, migrations, profile
from desktop.store.clerks import check_username
from desktop.store.errors import ProfileExists, StoreError
from desktop.store.ids import uuid7
from desktop.store.keyslots import KeySlots, new_database_key

_COMMUNE = re.compile(r"^\d{5}$")


@dataclass(frozen=True)
class NewProfile:
    """What a new profile is made with.

    Attributes:
        commune: the 5-digit commune code.
        username: the first clerk (an admin).
        password: the first clerk's password.
        full_name: the first clerk's full name.
        recovery_public_key: the province's X25519 recovery key (32 raw bytes), if known.
        server_url: the provincial server, if known.
        role: ``commune`` or ``province`` (provincial IT: the commune may be "").
    """

    commune: str
    username: str
    password: str
    full_name: str
    recovery_public_key: bytes | None = None
    server_url: str | None = None
    role: str = profile.ROLE_COMMUNE


def create_profile(profile_dir: Path | str, new: NewProfile) -> tuple[Path, bytes, KeySlots]:
    """Make a new profile whose first clerk (an admin) is ``new.username``.

    Returns:
        Where the profile is, its database key and its key slots.

    Raises:
        ProfileExists: ``profile_dir`` exists and is not empty.
        StoreError: invalid role, commune code, username or empty name.
    """
    target = Path(profile_dir).absolute()
    commune, username = new.commune, new.username
    _check_new_profile(target, new)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.create-", dir=target.parent))
    key = new_database_key()
    try:
        config = profile.ProfileConfig(
            commune=commune, device_id=uuid7(), server_url=new.server_url, role=new.role
        )
        profile.save_config(staging, config)
        _init_database(staging / profile.DATABASE, key, config, username, new.full_name)
        slots = KeySlots(staging / profile.KEYSLOTS)
        slots.add_password_slot(username, new.password, key)
        if new.recovery_public_key is not None:
            slots.set_recovery(new.recovery_public_key, key)
        slots.save()
        (staging / profile.ATTACHMENTS).mkdir()
        if target.exists():
            target.rmdir()
        staging.replace(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    slots.path = target / profile.KEYSLOTS
    return target, key, slots


def _check_new_profile(target: Path, new: NewProfile) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ProfileExists(f"{target} exists and is not empty")
    if new.role not in profile.ROLES:
        raise StoreError(f"invalid profile role {new.role!r}: expected commune or province")
    # Provincial IT works for every commune: its profile may name none.
    province_wide = new.role == profile.ROLE_PROVINCE and new.commune == ""
    if not province_wide and not _COMMUNE.match(new.commune or ""):
        raise StoreError(f"invalid commune code {new.commune!r}: expected 5 digits, e.g. 02701")
    check_username(new.username)
    if not new.full_name or not new.full_name.strip():
        raise StoreError("the clerk's full name must not be empty")


def _scope(config: profile.ProfileConfig) -> str:
    """Return what the profile works for, for the audit log: its commune or the province."""
    if config.role == profile.ROLE_PROVINCE:
        return f"province (commune {config.commune})" if config.commune else "province"
    return f"commune {config.commune}"


def _init_database(
    path: Path, key: bytes, config: profile.ProfileConfig, username: str, full_name: str
) -> None:
    """Create the database with every migration, this device and its first clerk."""
    conn = database.connect(path, key)
    try:
        migrations.migrate(conn)
        now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('device_id', ?), ('commune', ?)",
            (config.device_id, config.commune),
        )
        conn.execute(
            "INSERT INTO clerks (username, full_name, role, created_at) VALUES (?, ?, ?, ?)",
            (username, full_name.strip(), "admin", now),
        )
        audit.append_audit(
            conn,
            at=now,
            clerk=username,
            action="profile.create",
            summary=f"{_scope(config)} device {config.device_id}",
        )
        audit.append_audit(
            conn,
            at=now,
            clerk=username,
            action="clerk.add",
            entity="clerk",
            entity_id=username,
            summary="role admin",
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
