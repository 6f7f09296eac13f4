"""What a device tells provincial IT about itself with every sync request (``report``).

Provincial IT's devices screen shows, per device, the changes still waiting on it, the app
version it runs and the last error it met (``protocol.wire.validate_device_report``). The
report is read fresh for every request: a retry after a failure reports that failure.
"""

from __future__ import annotations

import functools
from importlib import metadata
from typing import Any

from desktop.store.sync_store import SyncStore

__all__ = ["app_version", "device_report"]

#: The distribution name of the app (pyproject.toml).
DISTRIBUTION = "motcua"


@functools.cache
def app_version() -> str:
    """Return the installed app's version (``""`` when run from a source tree not installed)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # a bare checkout on PYTHONPATH has no metadata
        return ""


def device_report(store: SyncStore) -> dict[str, Any]:
    """Return the ``report`` of a sync request: pending changes, app version, last error code."""
    return {
        "pending": store.outbox_summary().pending,
        "app_version": app_version()[:32],
        "last_error": store.state().error_code,
    }
