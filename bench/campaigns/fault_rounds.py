"""Faulted-network campaign: many sync rounds, three devices, random cuts and stalls.

The long form of ``tests/sync/test_faults.py`` (whose clerk actions it reuses): three PCs of
one commune register, edit, move, cancel dossiers and attach small scans at random, and sync
through :class:`bench.faultproxy.FaultProxy` (2 Mbit/s, 10 ms RTT, connections cut at random
points of requests and responses, stalls until the client's read timeout gives up). Then the
link is healed and the devices settle. It checks:

* converge: every device's dossiers == the server's, nothing pending, every change
  acknowledged;
* nothing lost: every dossier registered anywhere is on the server (and so on every device),
  every scan is complete on the server;
* nothing duplicated: each device change is in the server's log exactly once, and the log
  holds exactly the changes the devices made;
* every conflict surfaced exactly once: one server conflict per conflicting change, the same
  changes marked ``conflict`` in the devices' outboxes, each conflict id reported to a device
  once.

Run::

    .venv/bin/python -m bench.campaigns.fault_rounds --rounds 1000 --json /tmp/faults.json
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import report
from bench.campaigns import common
from bench.faultproxy import FaultProxy
from tests.sync.test_faults import POLICY, _local_op

__all__ = ["main", "run"]


def _check(
    devices: list[common.Device],
    server: common.ServerProcess,
    registered: set[str],
    scans: set[str],
    reported_conflicts: list[str],
) -> dict[str, int]:
    """Check every invariant after the devices settled; return counts for the summary."""
    from tests.sync.conftest import server_attachments

    db = server.db
    on_server = common.server_records(db)
    for device in devices:
        common.check_matches_server(device, on_server, when="after settling")
        states = Counter(c.state for c in device.store.all_changes())
        if set(states) - {"acknowledged", "durable"}:
            raise common.CampaignFailure(f"{device.name}: outbox states {dict(states)}")
    common.check_nothing_lost(registered, on_server)
    held = server_attachments(db)
    incomplete = [s for s in scans if s not in held or not held[s][2] or held[s][0] != held[s][1]]
    if incomplete:
        raise common.CampaignFailure(f"{len(incomplete)} scans incomplete on the server")
    logged = [c for c in common.server_changes(db) if c[4] == "change"]
    keys = Counter((c[0], c[1]) for c in logged)
    sent = {(d.store.device_id, c.device_seq) for d in devices for c in d.store.all_changes()}
    if max(keys.values(), default=1) != 1 or len({c[2] for c in logged}) != len(logged):
        raise common.CampaignFailure("a device change is logged twice")
    if set(keys) != sent:
        raise common.CampaignFailure(
            f"server log != device outboxes: {len(set(keys) - sent)} extra, "
            f"{len(sent - set(keys))} missing"
        )
    common.check_change_log(db)
    conflicts = server.conflicts(all_=True)
    edit_conflicts = [c for c in conflicts if c["kind"] in ("field", "delete")]
    if len({c["change_id"] for c in edit_conflicts}) != len(edit_conflicts):
        raise common.CampaignFailure("one change raised two conflicts")
    marked = {
        c.change_id for d in devices for c in d.store.all_changes() if c.server_status == "conflict"
    }
    if marked != {c["change_id"] for c in edit_conflicts}:
        raise common.CampaignFailure(
            f"outbox conflict marks != server conflicts ({len(marked)} vs {len(edit_conflicts)})"
        )
    if Counter(reported_conflicts) != Counter(str(c["id"]) for c in conflicts):
        extra = Counter(reported_conflicts) - Counter(str(c["id"]) for c in conflicts)
        missing = Counter(str(c["id"]) for c in conflicts) - Counter(reported_conflicts)
        raise common.CampaignFailure(
            f"conflicts not reported exactly once: reported twice/unknown {dict(extra)}, "
            f"never reported {dict(missing)}"
        )
    return {
        "dossiers": len(on_server),
        "changes_logged": len(logged),
        "conflicts": len(conflicts),
        "edit_conflicts": len(edit_conflicts),
        "scans": len(scans),
    }


def run(
    rounds: int,
    *,
    backend: str = "sqlite",
    seed: int = 20261127,
    workdir: Path | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Run the campaign; return a summary.

    Raises:
        CampaignFailure: an invariant broke.
    """
    devices: list[common.Device] = []
    proxy: FaultProxy | None = None
    with common.campaign_rig("motcua-faults-", backend, workdir) as rig:
        server, work = rig.server, rig.work
        try:
            port = int(server.url.rsplit(":", 1)[1])
            proxy = FaultProxy(
                "127.0.0.1",
                port,
                kbps=2000,
                rtt_ms=10,
                cut_random_per_kb=0.0,  # enrolment over a sound link
                stall_random_per_kb=0.008,
                stall_s=None,  # stalled until the client's read timeout gives up on it
                seed=seed,
            )
            proxy_url = f"http://127.0.0.1:{proxy.start()}"
            devices = [
                common.make_device(server, work / f"pc-{n}", n, url=proxy_url, policy=POLICY)
                for n in ("a", "b", "c")
            ]
            proxy.configure(cut_random_per_kb=0.04)
            rng = random.Random(seed)
            serial = [0]
            registered: set[str] = set()
            scans: set[str] = set()
            reported: list[str] = []
            failed_syncs = 0
            for n in range(rounds):
                device = rng.choice(devices)
                for _op in range(rng.randint(0, 3)):
                    _local_op(device, rng, serial, registered, scans)
                sync_report = device.sync()
                reported += sync_report.new_conflicts
                failed_syncs += not sync_report.ok
                if progress and (n + 1) % 50 == 0:
                    print(
                        f"round {n + 1}/{rounds}: failed syncs {failed_syncs}, "
                        f"{time.monotonic() - rig.started:.0f} s",
                        flush=True,
                    )
            link = proxy.counters()
            halvings = sum(d.engine.sizer.timeouts for d in devices)
            proxy.configure(cut_random_per_kb=0.0, stall_random_per_kb=0.0)
            common.settle(devices)
            for device in devices:
                reported += device.sync().new_conflicts
            counts = _check(devices, server, registered, scans, reported)
            if link.cuts_up + link.cuts_down == 0:
                raise common.CampaignFailure("the link was never cut: the campaign proved nothing")
        finally:
            if proxy is not None:
                proxy.stop()
            for device in devices:
                device.close()
    return rig.summary(
        "fault_rounds",
        {
            "rounds": rounds,
            "devices": 3,
            "requests": link.requests,
            "connections": link.connections,
            "cuts_up": link.cuts_up,
            "cuts_down": link.cuts_down,
            "stalls": link.stalls,
            "failed_syncs": failed_syncs,
            "batch_halvings": halvings,
            **counts,
        },
    )


def main(argv: list[str] | None = None) -> int:
    """Command line: run the campaign and print its summary as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--json", type=Path, help="write the summary here too")
    args = parser.parse_args(argv)
    summary = run(
        args.rounds, backend=args.backend, seed=args.seed, workdir=args.workdir, progress=True
    )
    report.print_summary(summary, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
