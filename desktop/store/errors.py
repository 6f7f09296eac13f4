"""Errors raised by the local store, all subclasses of :class:`StoreError`."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every error the local store raises on purpose."""


class ProfileNotFound(StoreError):
    """The profile directory does not hold a store (no key slots or no database)."""


class ProfileExists(StoreError):
    """A store already exists where a new one was to be created."""


class WrongPassword(StoreError):
    """The password (or recovery key) does not unlock any key slot; nothing was touched."""


class UnknownClerk(StoreError):
    """The named clerk has no account in this profile."""


class DossierNotFound(StoreError):
    """No dossier has the given id."""


class InvalidTransition(StoreError):
    """The lifecycle does not allow moving the dossier to the requested status."""


class DuplicateDossier(StoreError):
    """The dossier looks like one already in the store; the caller must confirm.

    Attributes:
        duplicates: summaries of the likely duplicates, most recent first.
    """

    def __init__(self, message: str, duplicates: list) -> None:  # type: ignore[type-arg]
        super().__init__(message)
        self.duplicates = duplicates


class StoreClosed(StoreError):
    """The store was closed; no further reads or writes are possible."""


class BackupError(StoreError):
    """A backup file is unreadable, truncated, tampered with or not a backup at all."""
