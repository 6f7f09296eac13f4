"""Unlock a profile from a command line: who acts, and their password (env or prompt).

Shared by ``desktop/cli.py`` and the sync helper's CLI commands. The password comes from
``MOTCUA_PASSWORD`` or a prompt; the acting clerk from ``--username``, ``MOTCUA_USER``, or
the only clerk of the profile.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from desktop.store.errors import StoreError
from desktop.store.store import Store


def read_password(
    prompt: str = "Password: ", env: str = "MOTCUA_PASSWORD", confirm: bool = False
) -> str:
    """Return a password from the environment variable ``env`` or a prompt.

    Raises:
        StoreError: no variable, no terminal to prompt on, or an empty password.
    """
    value = os.environ.get(env)
    if value is None:
        if not sys.stdin.isatty():
            raise StoreError(f"no password: set {env} or run in a terminal")
        value = getpass.getpass(prompt)
        if confirm and getpass.getpass("Repeat: ") != value:
            raise StoreError("the passwords do not match")
    if not value:
        raise StoreError("the password must not be empty")
    return value


def acting_username(profile_dir: Path, username: str | None) -> str:
    """Return who acts: ``username``, else ``MOTCUA_USER``, else the profile's only clerk.

    Raises:
        StoreError: several clerks and none named.
    """
    name = username or os.environ.get("MOTCUA_USER")
    if name:
        return name
    names = Store.profile_usernames(profile_dir)
    if len(names) == 1:
        return names[0]
    raise StoreError(
        f"this profile has {len(names)} clerks: say who you are with --username or MOTCUA_USER"
    )


def open_store(profile_dir: Path, username: str | None = None) -> Store:
    """Unlock and open a profile for a CLI command.

    Raises:
        ProfileNotFound, WrongPassword, StoreError.
    """
    name = acting_username(profile_dir, username)
    return Store.open(profile_dir, name, read_password(f"Password for {name}: "))
