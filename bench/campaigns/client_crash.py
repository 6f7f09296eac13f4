"""Client crash campaign: SIGKILL the client at random points during saves and during sync.

One enrolled device profile and one real server process (SQLite by default, PostgreSQL with
``--backend postgresql``). Each trial starts a child process (this module with ``--child``)
that opens the profile and loops: register a few dossiers (printing ``saved <id>`` after each
save returns, that is after its commit), edit one, then sync (``sync-begin`` … ``sync-end``).
The parent kills it with SIGKILL at a random moment: in the middle of the saves, in the middle
of a sync, or (1 in 10) anywhere from start-up on. After each kill the parent checks:

* the store opens and ``PRAGMA integrity_check`` is ``ok``;
* every acknowledged dossier is there, none twice, and the outbox's ``device_seq`` is
  gap-free with exactly one create per dossier;
* the next sync converges: the device's dossiers == the server's, nothing pending, no
  change logged twice by the server (checked every ``--log-every`` trials and at the end).

Run::

    .venv/bin/python -m bench.campaigns.client_crash --trials 1000 --json /tmp/client.json
    .venv/bin/python -m bench.campaigns.client_crash --trials 50          # the CI form
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import report
from bench.campaigns import common

__all__ = ["main", "run"]

#: Fields a clerk edits in the child (values drawn at random).
EDITS = {
    "so_ban_sao": ["1", "2", "3", "4"],
    "nguoi_yeu_cau_dien_thoai": ["0912000111", "0912000222", "0987000333"],
}


# -- the child: saves and syncs until killed ---------------------------------------------------


def _child(profile: Path, first: int, rounds: int, seed: int) -> int:
    """Register, edit and sync in a loop, announcing each acknowledged step on stdout."""
    from tests.forms.samples import RECEIVED
    from tests.store.factory import birth

    rng = random.Random(seed)
    out = sys.stdout
    device = common.open_device(profile, "child")
    out.write("ready\n")
    out.flush()
    serial = first
    for _ in range(rounds):
        for _ in range(rng.randint(1, 4)):
            record = device.store.register_dossier(
                "khai_sinh", birth(serial, seed=11), received_at=RECEIVED
            )
            serial += 1
            out.write(f"saved {record.id}\n")
            out.flush()
        target = record.id
        field = rng.choice(sorted(EDITS))
        device.store.update_dossier(target, {field: rng.choice(EDITS[field])})
        out.write(f"edited {target}\n")
        out.flush()
        out.write("sync-begin\n")
        out.flush()
        started = time.monotonic()
        report = device.sync()
        out.write(f"sync-end {int(report.ok)} {report.pushed} {time.monotonic() - started:.4f}\n")
        out.flush()
    device.close()
    return 0


# -- the parent --------------------------------------------------------------------------------


class _Watcher:
    """Read a child's stdout on a thread; let the parent wait for a given line."""

    def __init__(self, child: subprocess.Popen[bytes]) -> None:
        self.child = child
        self.lines: list[str] = []
        self.acked: list[str] = []
        self.sync_times: list[float] = []
        self._cond = threading.Condition()
        self._done = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.child.stdout is not None
        for raw in self.child.stdout:
            line = raw.decode().strip()
            with self._cond:
                self.lines.append(line)
                if line.startswith("saved "):
                    self.acked.append(line.split()[1])
                elif line.startswith("sync-end "):
                    self.sync_times.append(float(line.split()[3]))
                self._cond.notify_all()
        with self._cond:
            self._done = True
            self._cond.notify_all()

    def wait_for(self, prefix: str, count: int, timeout: float = 60) -> bool:
        """Wait until ``count`` lines starting with ``prefix`` were read (False on EOF)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while sum(line.startswith(prefix) for line in self.lines) < count:
                if self._done or time.monotonic() > deadline:
                    return False
                self._cond.wait(0.5)
        return True

    def join(self) -> None:
        """Wait for the reader to reach EOF."""
        self._thread.join(30)


def _spawn(profile: Path, first: int, rounds: int, seed: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, MOTCUA_SCRYPT_LOG2N="10", PYTHONPATH=str(common.ROOT))
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.campaigns.client_crash",
            "--child",
            str(profile),
            "--first",
            str(first),
            "--rounds",
            str(rounds),
            "--seed",
            str(seed),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=common.ROOT,
        env=env,
    )


def _check_store(device: common.Device, acked: set[str]) -> int:
    """Check the store after a kill; return its number of dossiers."""
    store = device.store
    if store.integrity_check() != ["ok"]:
        raise common.CampaignFailure(f"integrity_check: {store.integrity_check()[:3]}")
    ids = store.read(lambda c: [r[0] for r in c.execute("SELECT id FROM dossiers")])
    if len(ids) != len(set(ids)):
        raise common.CampaignFailure("a dossier is stored twice")
    lost = acked - set(ids)
    if lost:
        raise common.CampaignFailure(f"acknowledged dossiers lost: {sorted(lost)[:3]}")
    changes = store.all_changes()
    seqs = [c.device_seq for c in changes]
    if seqs != list(range(1, len(seqs) + 1)):
        raise common.CampaignFailure("outbox device_seq is not gap-free")
    # A create carries every key, "procedure" included; an edit never changes the procedure.
    creates = Counter(
        c.entity_id for c in changes if c.entity == "dossier" and "procedure" in c.fields
    )
    if sorted(creates) != sorted(ids) or max(creates.values(), default=1) != 1:
        raise common.CampaignFailure("outbox creates do not match the dossiers one to one")
    return len(ids)


def _check_converged(device: common.Device, db: common.ServerDb) -> None:
    common.settle([device])
    common.check_matches_server(device, common.server_records(db), when="after a clean sync")


def run(
    trials: int,
    *,
    backend: str = "sqlite",
    seed: int = 20261126,
    workdir: Path | None = None,
    log_every: int = 25,
    progress: bool = False,
) -> dict[str, Any]:
    """Run the campaign; return a summary.

    Raises:
        CampaignFailure: an invariant broke (the message names the trial).
    """
    rng = random.Random(seed)
    acked: set[str] = set()
    modes: Counter[str] = Counter()
    where: Counter[str] = Counter()  # the child's last line before it died
    killed = clean_exits = 0
    sizes: list[int] = []
    sync_times: list[float] = [0.05]
    with common.campaign_rig("motcua-client-crash-", backend, workdir) as rig:
        server, db, work = rig.server, rig.db, rig.work
        profile = work / "device"
        common.make_device(server, profile, "crash").close()
        for trial in range(trials):
            mode = rng.choices(["save", "sync", "any"], [0.45, 0.45, 0.1])[0]
            modes[mode] += 1
            child = _spawn(profile, first=trial * 200, rounds=rng.randint(1, 6), seed=seed + trial)
            watcher = _Watcher(child)
            if mode == "any":
                time.sleep(rng.uniform(0.0, 1.5))
            elif mode == "save":
                watcher.wait_for("saved ", rng.randint(1, 4))
                time.sleep(rng.uniform(0.0, 0.01))
            else:
                watcher.wait_for("sync-begin", 1)
                typical = sorted(sync_times)[len(sync_times) // 2]
                time.sleep(rng.uniform(0.0, typical * 1.3))
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
                killed += 1
            child.wait(30)
            watcher.join()
            last = watcher.lines[-1] if watcher.lines else "(start-up)"
            where[last.split()[0]] += 1
            assert child.stderr is not None
            err = child.stderr.read().decode(errors="replace")
            child.stderr.close()
            if child.returncode == 0:
                clean_exits += 1
            elif child.returncode != -signal.SIGKILL:
                raise common.CampaignFailure(f"trial {trial}: child failed: {err[-2000:]}")
            acked.update(watcher.acked)
            sync_times = (sync_times + watcher.sync_times)[-50:]
            device = common.open_device(profile, "crash")
            try:
                try:
                    sizes.append(_check_store(device, acked))
                    _check_converged(device, db)
                    if (trial + 1) % log_every == 0 or trial == trials - 1:
                        common.check_change_log(db)
                except common.CampaignFailure as exc:
                    raise common.CampaignFailure(f"trial {trial} ({mode}): {exc}") from exc
            finally:
                device.close()
            if progress and (trial + 1) % 10 == 0:
                print(
                    f"trial {trial + 1}/{trials}: {sizes[-1]} dossiers, killed {killed}, "
                    f"{time.monotonic() - rig.started:.0f} s",
                    flush=True,
                )
        # A new PC of the same commune pulls everything and holds exactly the server's records.
        fresh = common.make_device(server, work / "fresh", "fresh")
        try:
            common.settle([fresh])
            if common.device_records(fresh) != common.server_records(db):
                raise common.CampaignFailure("a fresh device does not match the server")
        finally:
            fresh.close()
    return rig.summary(
        "client_crash",
        {
            "trials": trials,
            "killed": killed,
            "clean_exits": clean_exits,
            "modes": dict(modes),
            "last_line_before_kill": dict(where),
            "acknowledged_dossiers": len(acked),
            "dossiers_at_end": sizes[-1] if sizes else 0,
            "distinct_store_sizes": len(set(sizes)),
        },
    )


def main(argv: list[str] | None = None) -> int:
    """Command line: run the campaign (or, with ``--child``, be the process that is killed)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--json", type=Path, help="write the summary here too")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args.child, args.first, args.rounds, args.seed)
    summary = run(
        args.trials, backend=args.backend, seed=args.seed, workdir=args.workdir, progress=True
    )
    report.print_summary(summary, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
