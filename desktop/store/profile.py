"""The profile directory: configuration, key slots, database and attachments of one install.

```
<profile>/config.json     commune code, device id, server url, settings (no personal data)
<profile>/keyslots.json   wrapped database keys (desktop.store.keyslots)
<profile>/store.db        the SQLCipher database (+ store.db-wal, store.db-shm)
<profile>/attachments/    encrypted content-addressed files
```

A corrupt ``config.json`` is moved aside and reported rather than crashing (Thonny's way).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from desktop.store.errors import ProfileNotFound, StoreError
from desktop.store.fileio import atomic_write

CONFIG = "config.json"
KEYSLOTS = "keyslots.json"
DATABASE = "store.db"
ATTACHMENTS = "attachments"

#: A commune's clerks registering dossiers, or provincial IT running the console.
ROLE_COMMUNE, ROLE_PROVINCE = "commune", "province"
ROLES = (ROLE_COMMUNE, ROLE_PROVINCE)


@dataclass
class ProfileConfig:
    """The non-secret settings of a profile.

    Attributes:
        commune: 5-digit code of the commune this device registers for ("" for the province).
        device_id: this device's UUIDv7 (a provincial profile's operator id).
        server_url: the provincial server, once known.
        settings: UI and sync settings (interval, printer, date-in-words style …).
        role: ``commune`` (clerks) or ``province`` (provincial IT's console); profiles from
            before the console have no role in their file and are communes.
    """

    commune: str
    device_id: str
    server_url: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    format: int = 1
    role: str = ROLE_COMMUNE


def paths(profile_dir: Path) -> dict[str, Path]:
    """Return the paths of a profile's files."""
    root = Path(profile_dir)
    return {
        "config": root / CONFIG,
        "keyslots": root / KEYSLOTS,
        "database": root / DATABASE,
        "attachments": root / ATTACHMENTS,
    }


def exists(profile_dir: Path) -> bool:
    """Return True when the directory holds a store."""
    p = paths(profile_dir)
    return p["keyslots"].exists() and p["database"].exists()


def load_config(profile_dir: Path) -> ProfileConfig:
    """Read ``config.json``.

    Raises:
        ProfileNotFound: there is no config file.
        StoreError: the file is corrupt (it is moved aside to ``config.json.corrupt``).
    """
    path = paths(profile_dir)["config"]
    try:
        raw = json.loads(path.read_text("utf-8"))
        role = str(raw.get("role", ROLE_COMMUNE))
        if role not in ROLES:
            raise ValueError(f"unknown profile role {role!r}")
        return ProfileConfig(
            commune=str(raw["commune"]),
            device_id=str(raw["device_id"]),
            server_url=raw.get("server_url"),
            settings=dict(raw.get("settings") or {}),
            format=int(raw.get("format", 1)),
            role=role,
        )
    except FileNotFoundError as exc:
        raise ProfileNotFound(f"no profile at {profile_dir}") from exc
    except (ValueError, KeyError, TypeError) as exc:
        aside = path.with_name(CONFIG + ".corrupt")
        path.replace(aside)
        raise StoreError(f"{path} was corrupt and was moved to {aside}") from exc


def save_config(profile_dir: Path, config: ProfileConfig) -> None:
    """Write ``config.json`` atomically."""
    text = json.dumps(asdict(config), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    atomic_write(paths(profile_dir)["config"], text.encode("utf-8"))


def update_config(profile_dir: Path, config: ProfileConfig, **changes: Any) -> None:
    """Change ``server_url`` or ``settings`` of ``config`` and write it.

    Raises:
        StoreError: another field was named (nothing is changed).
    """
    for key in changes:
        if key not in ("server_url", "settings"):
            raise StoreError(f"config field {key!r} cannot be changed")
    for key, value in changes.items():
        setattr(config, key, value)
    save_config(profile_dir, config)


def default_profile_dir() -> Path:
    """Return ``MOTCUA_PROFILE``, else the per-user data folder (``%APPDATA%\\motcua`` or
    ``~/.local/share/motcua``)."""
    import os

    env = os.environ.get("MOTCUA_PROFILE")
    if env:
        return Path(env)
    if os.name == "nt" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "motcua"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "motcua"
