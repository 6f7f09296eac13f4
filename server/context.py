"""What every part of the server works with: the storage, the clock and the server's keys."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

from protocol.keys import PrivateKeys, PublicKeys
from server.errors import NotInitialised
from server.storage import Storage

__all__ = ["ServerContext", "now_ms"]


def now_ms() -> int:
    """Return the time in Unix milliseconds."""
    return int(time.time() * 1000)


class ServerContext:
    """The storage, the clock and the server's keys (read once from ``server_meta``).

    The request handlers and administration calls of the server's modules take one; the
    :class:`server.service.SyncServer` façade is one.

    Args:
        storage: the database.
        clock: returns the server time in Unix ms (tests may pass a fake, or set it later).
    """

    def __init__(self, storage: Storage, *, clock: Callable[[], int] = now_ms) -> None:
        self.storage = storage
        self.clock = clock
        self._keys: PrivateKeys | None = None
        self._public: PublicKeys | None = None

    @property
    def keys(self) -> PrivateKeys:
        """Return the server's private keys.

        Raises:
            NotInitialised: when the database was never initialised.
        """
        if self._keys is None:
            try:
                with self.storage.read() as tx:
                    raw = tx.get_meta("server_keys")
            except Exception as exc:  # no tables yet
                raise NotInitialised() from exc
            if raw is None:
                raise NotInitialised()
            self._keys = PrivateKeys.from_bytes(base64.b64decode(raw))
        return self._keys

    def public_keys(self) -> PublicKeys:
        """Return the server's public keys (what devices pin)."""
        if self._public is None:
            self._public = self.keys.public()
        return self._public
