"""Offline installers for commune PCs: a Windows setup .exe and a Debian/Ubuntu tarball.

``python -m installer.build_windows --out DIR`` and ``python -m installer.build_debian --out DIR``
build them; ``python -m installer.lock`` re-pins the dependencies (``installer/locks``). Every
download comes from PyPI or Debian's archive and is cached under ``~/.cache/motcua-installer``
(``MOTCUA_INSTALLER_CACHE``), never in the repository. See ``installer/README.md``.
"""
