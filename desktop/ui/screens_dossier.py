"""The clerk's dossier screens, registered with the shell by name.

``register(shell)`` adds "new_dossier" (pick a procedure, fill the generated form, save),
"search" (find as you type) and "dossier_detail" (kwargs ``dossier_id``). Each screen's
module is imported the first time it is shown, so start-up stays cheap.
"""

from __future__ import annotations

from desktop.ui.screen_registry import ScreenFactory, ScreenHost, ScreenLoader, lazy_factory


def _new_dossier() -> ScreenFactory:
    from desktop.ui.screen_new_dossier import NewDossierScreen

    return NewDossierScreen


def _search() -> ScreenFactory:
    from desktop.ui.screen_search import SearchScreen

    return SearchScreen


def _dossier_detail() -> ScreenFactory:
    from desktop.ui.screen_dossier_detail import DossierDetailScreen

    return DossierDetailScreen


#: Screen name → the loader of the screen, and its title in the shell.
SCREENS: dict[str, tuple[ScreenLoader, str]] = {
    "new_dossier": (_new_dossier, "Hồ sơ mới"),
    "search": (_search, "Tìm kiếm hồ sơ"),
    "dossier_detail": (_dossier_detail, "Chi tiết hồ sơ"),
}


def register(shell: ScreenHost) -> None:
    """Register the dossier screens with ``shell`` (``desktop.ui.shell.Shell``)."""
    for name, (load, title) in SCREENS.items():
        shell.register_screen(name, lazy_factory(load), title=title)
