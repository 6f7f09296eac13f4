"""The clerk's dossier screens, registered with the shell by name.

``register(shell)`` adds "new_dossier" (pick a procedure, fill the generated form, save),
"search" (find as you type) and "dossier_detail" (kwargs ``dossier_id``). Each screen's
module is imported the first time it is shown, so start-up stays cheap.
"""

from __future__ import annotations

from typing import Any

#: Screen name → "module:class" of the screen, and its title in the shell.
SCREENS: dict[str, tuple[str, str]] = {
    "new_dossier": ("desktop.ui.screen_new_dossier:NewDossierScreen", "Hồ sơ mới"),
    "search": ("desktop.ui.screen_search:SearchScreen", "Tìm kiếm hồ sơ"),
    "dossier_detail": ("desktop.ui.screen_dossier_detail:DossierDetailScreen", "Chi tiết hồ sơ"),
}


def register(shell: Any) -> None:
    """Register the dossier screens with ``shell`` (``desktop.ui.shell.Shell``).

    Args:
        shell: anything with ``register_screen(name, factory, title=...)``.
    """
    from desktop.ui.shell import lazy_factory

    for name, (target, title) in SCREENS.items():
        shell.register_screen(name, lazy_factory(target), title=title)
