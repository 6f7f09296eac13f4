"""Per-profile user settings kept in a small JSON file (``settings.json`` in the profile dir).

A corrupt or unreadable file is moved aside and the defaults are used (Thonny's config.py):
a broken settings file must never stop a clerk from working. Values of the wrong type or out
of range fall back to their default one by one.

The provincial server's address is not a setting: its one home is the profile config
(``store.config.server_url``). Older releases kept it here too; :func:`move_server_url_to_profile`
moves such a value into the profile config once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop.store.store import Store

log = logging.getLogger(__name__)

SETTINGS_FILE = "settings.json"
#: The key older releases wrote the server address under (now in the profile config).
LEGACY_SERVER_URL = "server_url"

#: Themes offered in the settings screen: (ttkbootstrap theme name, Vietnamese label).
THEMES: tuple[tuple[str, str], ...] = (
    ("bootstrap-light", "Sáng"),
    ("bootstrap-dark", "Tối"),
    ("sandstone-light", "Sáng ấm"),
    ("minty-light", "Xanh bạc hà"),
)

ZERO_TENS_STYLES = ("linh", "lẻ")


@dataclasses.dataclass
class Settings:
    """User settings of one profile.

    Attributes:
        sync_interval_min: minutes between automatic syncs (1..1440).
        printer: the printer name to send slips and certificates to ("" = system default).
        date_words_mung: write days 1-10 as "mùng một" … "mùng mười" in dates in words.
        date_words_zero_tens: "linh" or "lẻ" for a zero tens digit ("hai nghìn không trăm linh năm").
        theme: the ttkbootstrap theme name.
        idle_lock_minutes: lock the window after this many idle minutes (0 = never).
        signer_name: the commune leader who signs certificates (printed under the signature).
        signer_title: the signer's position, e.g. "Chủ tịch" or "Phó Chủ tịch".
        font_path: a TrueType font file or folder to print with ("" = found at run time).
        path: the file the settings are saved to (None = not saved).
    """

    sync_interval_min: int = 5
    printer: str = ""
    date_words_mung: bool = True
    date_words_zero_tens: str = "linh"
    theme: str = "bootstrap-light"
    idle_lock_minutes: float = 10
    signer_name: str = ""
    signer_title: str = "Chủ tịch"
    font_path: str = ""
    path: Path | None = dataclasses.field(default=None, compare=False, repr=False)

    @classmethod
    def load(cls, profile_dir: str | os.PathLike[str]) -> Settings:
        """Read the settings of a profile; defaults when the file is missing or corrupt.

        A corrupt file is renamed to ``settings.json.corrupt-<timestamp>`` so it can be
        inspected, and a warning is logged.

        Args:
            profile_dir: the profile directory.

        Returns:
            The settings, bound to ``<profile_dir>/settings.json`` for ``save()``.
        """
        path = Path(profile_dir) / SETTINGS_FILE
        settings = cls(path=path)
        raw = _read_raw(path)
        if raw is not None:
            settings.update(raw)
        return settings

    def update(self, values: dict[str, Any]) -> list[str]:
        """Set the given values, keeping the current one for each invalid value.

        Args:
            values: field name → new value; unknown names are ignored.

        Returns:
            The names whose value was rejected.
        """
        rejected = []
        for name, value in values.items():
            if name == "path" or name not in _FIELDS:
                continue
            clean = _clean(name, value)
            if clean is _INVALID:
                rejected.append(name)
                log.warning("setting %s=%r rejected; keeping %r", name, value, getattr(self, name))
            else:
                setattr(self, name, clean)
        return rejected

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-ready dict (without the path)."""
        return {f: getattr(self, f) for f in _FIELDS}

    def save(self) -> None:
        """Write the settings atomically (temp file, fsync, rename); no-op without a path."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self.to_dict(), fh, ensure_ascii=False, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(self.path)


def _read_raw(path: Path) -> dict[str, Any] | None:
    """Return the JSON object in ``path``; None when there is none or it is moved aside."""
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("settings file does not hold a JSON object")
    except (OSError, ValueError) as exc:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = path.with_name(f"{SETTINGS_FILE}.corrupt-{stamp}")
        log.warning("settings file %s is unreadable (%s); moved to %s", path, exc, aside)
        try:
            path.replace(aside)
        except OSError:
            log.exception("could not move the corrupt settings file aside")
        return None
    return raw


def move_server_url_to_profile(profile_dir: str | os.PathLike[str], store: Store) -> bool:
    """Move a server address an older release kept in ``settings.json`` into the profile config.

    Done once, when the clerk signs in: the address goes to the profile config unless it
    already has one (the device enrolled with it), and the file is rewritten without it.

    Args:
        profile_dir: the profile directory.
        store: the open store of that profile.

    Returns:
        True when an address was moved into the profile config.
    """
    path = Path(profile_dir) / SETTINGS_FILE
    raw = _read_raw(path)
    if raw is None or LEGACY_SERVER_URL not in raw:
        return False
    url = raw[LEGACY_SERVER_URL]
    moved = isinstance(url, str) and bool(url.strip()) and not store.config.server_url
    if moved:
        store.update_config(server_url=url.strip())
        log.info("server address moved from %s to the profile config", path)
    settings = Settings(path=path)
    settings.update(raw)
    settings.save()
    return moved


_FIELDS = tuple(f.name for f in dataclasses.fields(Settings) if f.name != "path")
_INVALID = object()


def _clean(name: str, value: Any) -> Any:
    """Return ``value`` normalised for setting ``name``, or ``_INVALID``."""
    if name in ("printer", "signer_name", "signer_title", "font_path"):
        return value.strip() if isinstance(value, str) else _INVALID
    if name == "sync_interval_min":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return _INVALID
        return int(value) if 1 <= value <= 1440 else _INVALID
    if name == "idle_lock_minutes":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return _INVALID
        return value if 0 <= value <= 24 * 60 else _INVALID
    if name == "date_words_mung":
        return value if isinstance(value, bool) else _INVALID
    if name == "date_words_zero_tens":
        return value if value in ZERO_TENS_STYLES else _INVALID
    if name == "theme":
        return value if isinstance(value, str) and value else _INVALID
    return _INVALID
