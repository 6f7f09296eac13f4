"""The demo's embedded provincial server and its commune PCs (open, enrol, sync)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.demo.dossiers import DEMO_COMMUNE, DEMO_FULL_NAME, DEMO_PASSWORD, DEMO_USER

if TYPE_CHECKING:
    from desktop.store.store import Store
    from desktop.sync.engine import SyncEngine
    from server.embedded import RunningServer
    from server.service import SyncServer

log = logging.getLogger(__name__)


DEMO_SERVER_PORT = 8765  # fixed so the enrolled device finds the server on every run


def start_embedded_server(data_dir: Path) -> RunningServer | None:
    """Start the provincial server on SQLite; return it, or None when it cannot start."""
    from server.embedded import start_server  # the server's libraries load only for the demo

    data_dir.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{(data_dir / 'server.db').absolute()}"
    for port in (DEMO_SERVER_PORT, 0):
        try:
            return start_server(db_url, port=port)
        except OSError:
            continue  # the fixed port is taken: use any free one
        except Exception as exc:
            print(f"Không khởi động được máy chủ nhúng ({exc}); ứng dụng chạy ngoại tuyến.")
            return None
    return None


@dataclass
class DemoDevice:
    """An open demo commune PC: its store, its sync engine, whether it was enrolled just now."""

    name: str
    store: Store
    engine: SyncEngine
    enrolled_now: bool = False

    def sync(self) -> None:
        """Sync once.

        Raises:
            RuntimeError: when the sync fails.
        """
        report = self.engine.sync_once()
        if not report.ok:
            raise RuntimeError(f"{self.name}: {report.clerk_error or report.error}")

    def close(self) -> None:
        """Close the engine and the store."""
        self.engine.close()
        self.store.close()


def open_device(folder: Path, commune: str, server: RunningServer, label: str) -> DemoDevice:
    """Open (or create) a demo commune PC; enrol it unless the server knows it at its address."""
    from desktop.store import profile
    from desktop.store.store import Store
    from desktop.sync.engine import SyncEngine

    if not profile.exists(folder):
        Store.create(
            folder,
            commune=commune,
            username=DEMO_USER,
            password=DEMO_PASSWORD,
            full_name=DEMO_FULL_NAME,
        ).close()
    store = Store.open(folder, DEMO_USER, DEMO_PASSWORD)
    device = DemoDevice(folder.name, store, SyncEngine(store))
    provincial = provincial_server(server)
    try:
        known = {d["device_id"]: d["status"] for d in provincial.devices()}
        if known.get(store.device_id) != "active" or device.engine.server_url != server.url:
            code = provincial.issue_code(commune)
            device.engine.enrol(server.url, code, label=label)
            store.update_config(server_url=server.url)
            device.enrolled_now = True
    except Exception:
        device.close()
        raise
    return device


def enrol_demo_device(profile_dir: Path, server: RunningServer | None) -> None:
    """Enrol the demo device to the embedded server unless it already is (same address)."""
    if server is None:
        return
    try:
        device = open_device(profile_dir, DEMO_COMMUNE, server, "Máy một cửa Khao Mang")
        device.close()
        if device.enrolled_now:
            print(f"Đã đăng ký máy trình diễn với máy chủ tỉnh nhúng tại {server.url}")
    except Exception as exc:  # the demo goes on offline, as a commune without network would
        print(f"Chưa đăng ký được máy với máy chủ nhúng ({exc}); ứng dụng vẫn chạy ngoại tuyến.")


def provincial_server(server: RunningServer) -> SyncServer:
    from server.service import SyncServer

    provincial = server.server
    assert isinstance(provincial, SyncServer)
    return provincial
