"""How screens are registered with the shell: by name, built by a factory on first use.

A factory is ``factory(master, services, **kwargs) -> widget``; a screen class is one. The
factories the app registers import their screen's module only when the screen is first built
(:func:`lazy_factory`), so start-up stays cheap; the import itself is a plain ``import`` in a
small loader function, so a broken module fails loudly the first time it is needed.
"""

from __future__ import annotations

import tkinter
from collections.abc import Callable
from typing import Any, Protocol

from desktop.ui.services import Services

#: Builds a screen: ``factory(master, services, **kwargs)``.
ScreenFactory = Callable[..., tkinter.Misc]
#: Imports a screen's module and returns its factory (the screen class).
ScreenLoader = Callable[[], ScreenFactory]


class ScreenHost(Protocol):
    """Where screens are registered (the shell)."""

    def register_screen(self, name: str, factory: ScreenFactory, *, title: str = "") -> None:
        """Register (or replace) the factory that builds screen ``name``."""
        ...


def lazy_factory(load: ScreenLoader) -> ScreenFactory:
    """Return a factory that calls ``load()`` (importing the screen's module) when first used."""

    def factory(master: tkinter.Misc, services: Services, **kwargs: Any) -> tkinter.Misc:
        return load()(master, services, **kwargs)

    return factory
