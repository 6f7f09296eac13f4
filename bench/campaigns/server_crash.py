"""Server crash campaign: SIGKILL the server process mid-sync at random, on PostgreSQL.

Three devices of one commune and one real ``motcua-server serve`` process on a fresh
PostgreSQL database. Each trial: the devices register and edit dossiers offline (so that a push
carries 1-40 changes), then all three sync at once on threads (one pushes a lot, the others
push a little and pull) while the parent SIGKILLs the server after a random delay. The server
is restarted on the same port and, after each trial:

* all devices converge: each device's dossiers == the server's, nothing pending;
* nothing is lost: every dossier any device registered is on the server;
* no change is applied twice: (device_id, device_seq) and change_id unique in the server's log,
  server_seq gap-free, each record's versions 1..n with the record at its last version and
  no version made by two changes.

Run::

    .venv/bin/python -m bench.campaigns.server_crash --trials 200 --json /tmp/server.json
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import report
from bench.campaigns import common
from desktop.store.dossiers import DossierLocked, InvalidTransition
from desktop.store.errors import StoreError

__all__ = ["main", "run"]

EDITS = {
    "so_ban_sao": ["1", "2", "3", "4"],
    "nguoi_yeu_cau_dien_thoai": ["0912000111", "0912000222", "0987000333"],
    "tre_noi_sinh": ["Trạm y tế xã", "Tại nhà", "Bệnh viện huyện Bắc Hà"],
}


def _offline_work(
    device: common.Device, rng: random.Random, serial: list[int], registered: set[str], n: int
) -> None:
    """Register ``n`` dossiers and make a few edits on this PC without syncing."""
    from tests.forms.samples import RECEIVED
    from tests.store.factory import birth

    for _ in range(n):
        serial[0] += 1
        record = device.store.register_dossier(
            "khai_sinh", birth(serial[0], seed=23), received_at=RECEIVED
        )
        registered.add(record.id)
    live = [d for d in device.store.iter_dossiers() if d.status == "tiep_nhan"]
    for _ in range(rng.randint(0, 3)):
        if not live:
            break
        field = rng.choice(sorted(EDITS))
        try:
            device.store.update_dossier(rng.choice(live).id, {field: rng.choice(EDITS[field])})
        except (DossierLocked, InvalidTransition, StoreError, ValueError):
            pass


def _kill(server: common.ServerProcess) -> None:
    """SIGKILL the server process (no chance to finish anything)."""
    assert server.process is not None
    server.process.kill()
    server.process.wait(10)
    server.process = None


def _check(devices: list[common.Device], db: common.ServerDb, registered: set[str]) -> None:
    common.settle(devices)
    remote = common.server_records(db)
    for device in devices:
        common.check_matches_server(device, remote, when="after a clean sync")
    common.check_nothing_lost(registered, remote)
    common.check_change_log(db)


def run(
    trials: int,
    *,
    backend: str = "postgresql",
    seed: int = 20261126,
    workdir: Path | None = None,
    max_delay_s: float = 0.5,
    progress: bool = False,
) -> dict[str, Any]:
    """Run the campaign; return a summary.

    Raises:
        CampaignFailure: an invariant broke (the message names the trial).
    """
    rng = random.Random(seed)
    serial = [0]
    registered: set[str] = set()
    outcomes: Counter[str] = Counter()
    restarts = 0
    devices: list[common.Device] = []
    with common.campaign_rig("motcua-server-crash-", backend, workdir) as rig:
        server, db, work = rig.server, rig.db, rig.work
        try:
            devices = [common.make_device(server, work / f"pc-{n}", n) for n in ("a", "b", "c")]
            for trial in range(trials):
                big = rng.choice(devices)
                for device in devices:
                    n = rng.randint(10, 40) if device is big else rng.randint(0, 3)
                    _offline_work(device, rng, serial, registered, n)
                reports: dict[str, Any] = {}

                def sync(device: common.Device, into: dict[str, Any] = reports) -> None:
                    into[device.name] = device.sync()

                threads = [threading.Thread(target=sync, args=(d,)) for d in devices]
                for thread in threads:
                    thread.start()
                time.sleep(rng.uniform(0.0, max_delay_s))
                _kill(server)
                for thread in threads:
                    thread.join(120)
                for name in sorted(reports):
                    ok = reports[name].ok
                    outcomes["sync finished before the kill" if ok else "sync cut by the kill"] += 1
                server.start()
                restarts += 1
                try:
                    _check(devices, db, registered)
                except common.CampaignFailure as exc:
                    raise common.CampaignFailure(f"trial {trial}: {exc}") from exc
                if progress and (trial + 1) % 10 == 0:
                    print(
                        f"trial {trial + 1}/{trials}: {len(registered)} dossiers, "
                        f"{dict(outcomes)}, {time.monotonic() - rig.started:.0f} s",
                        flush=True,
                    )
            changes = common.server_changes(db)
        finally:
            for device in devices:
                device.close()
    return rig.summary(
        "server_crash",
        {
            "trials": trials,
            "server_kills": restarts,
            "device_syncs": dict(outcomes),
            "dossiers": len(registered),
            "changes_logged": len(changes),
        },
    )


def main(argv: list[str] | None = None) -> int:
    """Command line: run the campaign and print its summary as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--max-delay", type=float, default=0.5, help="latest kill, seconds")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--json", type=Path, help="write the summary here too")
    args = parser.parse_args(argv)
    summary = run(
        args.trials,
        backend=args.backend,
        seed=args.seed,
        workdir=args.workdir,
        max_delay_s=args.max_delay,
        progress=True,
    )
    report.print_summary(summary, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
