"""``python -m desktop.demo``: prepare the demo profile and server, then run the app.

What it does is said in the package's docstring (:mod:`desktop.demo`).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import desktop.demo
from desktop.demo.console import prepare_console_demo
from desktop.demo.devices import enrol_demo_device, start_embedded_server
from desktop.demo.dossiers import DEMO_PASSWORD, DEMO_PROFILE, DEMO_USER, ensure_demo_profile

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    """Prepare the demo profile and server, then run the app."""
    parser = argparse.ArgumentParser(
        prog="python -m desktop.demo", description=desktop.demo.__doc__
    )
    parser.add_argument("--profile", type=Path, default=DEMO_PROFILE, help="%(default)s")
    parser.add_argument("--dossiers", type=int, default=30, help="%(default)s")
    parser.add_argument("--no-server", action="store_true", help="do not start the server")
    parser.add_argument(
        "--console",
        action="store_true",
        help="open provincial IT's console (demo-console-profile) over the demo server",
    )
    args, rest = parser.parse_known_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    profile_dir = args.profile.absolute()
    created = ensure_demo_profile(profile_dir, count=args.dossiers)
    print("=" * 60)
    print(f"Hồ sơ trình diễn: {profile_dir}{' (mới tạo)' if created else ''}")
    print(f"Đăng nhập:  tên «{DEMO_USER}», mật khẩu «{DEMO_PASSWORD}»")
    print("=" * 60)
    server = None
    if not args.no_server:
        server = start_embedded_server(profile_dir.parent / "demo-server")
        enrol_demo_device(profile_dir, server)
    try:
        from desktop.app import main as app_main

        shown = prepare_console_demo(profile_dir, server) if args.console else profile_dir
        return app_main(["--profile", str(shown), *rest])
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
