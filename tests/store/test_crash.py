"""Crash campaign: SIGKILL an importing child process at random moments, 50 times.

After each kill the database opens, ``PRAGMA integrity_check`` is ok, every dossier whose
save was acknowledged ("saved <id>" on the child's stdout, printed after the commit) is
there, none is duplicated, and the outbox matches the dossiers (one create change each,
gap-free device_seq). Each import file is run twice, so the second run also checks that an
interrupted import resumes without duplicates.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from desktop.store.store import Store
from tests.forms.samples import RECEIVED
from tests.store.conftest import PASSWORD
from tests.store.factory import birth

TRIALS = 50
LINES_PER_FILE = 40
ROOT = Path(__file__).resolve().parents[2]


def _write_file(path: Path, first: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(first, first + LINES_PER_FILE):
            line = {
                "procedure": "khai_sinh",
                "received_at": RECEIVED.isoformat(),
                "data": birth(i, seed=99),
            }
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")


def _run_and_kill(profile_dir: Path, file: Path, rng: random.Random) -> list[str]:
    """Run one import and SIGKILL it: during start-up and checking (1 in 5), else mid-import."""
    env = dict(os.environ, MOTCUA_PASSWORD=PASSWORD, MOTCUA_SCRYPT_LOG2N="10", PYTHONPATH=str(ROOT))
    child = subprocess.Popen(
        [sys.executable, "-m", "desktop.cli", "--profile", str(profile_dir), "import", str(file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    acked: list[str] = []
    first_output = threading.Event()

    def read() -> None:
        assert child.stdout is not None
        for raw in child.stdout:
            line = raw.decode().strip()
            if line.startswith("saved "):
                acked.append(line.split()[1])
            first_output.set()
        first_output.set()

    reader = threading.Thread(target=read)
    reader.start()
    if rng.random() < 0.2:
        time.sleep(rng.uniform(0.02, 0.5))
    else:
        first_output.wait(timeout=30)
        time.sleep(rng.uniform(0.0, 0.3))
    if child.poll() is None:
        child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    reader.join(timeout=30)
    if child.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(f"child failed: {child.returncode} {child.stderr.read()!r}")  # type: ignore[union-attr]
    child.stderr.close()  # type: ignore[union-attr]
    return acked


def _check(profile_dir: Path, acked: set[str]) -> int:
    with Store.open(profile_dir, "lan", PASSWORD) as store:
        assert store.integrity_check() == ["ok"]
        ids = store.read(lambda c: [r[0] for r in c.execute("SELECT id FROM dossiers")])
        assert len(ids) == len(set(ids))
        assert acked <= set(ids), f"lost: {sorted(acked - set(ids))[:3]}"
        lines = store.read(lambda c: c.execute("SELECT count(*) FROM imported_lines").fetchone())
        assert lines[0] == len(ids)  # every dossier came from one distinct line
        mothers = store.read(lambda c: [r[0] for r in c.execute("SELECT dup_key FROM dossiers")])
        assert len(mothers) == len(set(mothers))  # no event saved twice
        changes = store.all_changes()
        assert [c.device_seq for c in changes] == list(range(1, len(changes) + 1))
        creates = [c.entity_id for c in changes if c.entity == "dossier" and c.base_version == 0]
        assert sorted(creates) == sorted(ids)
        assert len(changes) == len(ids)
        assert store.verify_audit().ok
        return len(ids)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_sigkill_during_import_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    os.environ["MOTCUA_SCRYPT_LOG2N"] = "10"
    profile_dir = tmp_path / "profile"
    Store.create(
        profile_dir, commune="02701", username="lan", password=PASSWORD, full_name="Nguyễn Thị Lan"
    ).close()
    rng = random.Random(20261126)
    acked: set[str] = set()
    saved_counts = []
    for trial in range(TRIALS):
        file = tmp_path / f"import-{trial // 2}.jsonl"
        if trial % 2 == 0:
            _write_file(file, first=(trial // 2) * LINES_PER_FILE)
        acked.update(_run_and_kill(profile_dir, file, rng))
        saved_counts.append(_check(profile_dir, acked))
    # The campaign really interrupted imports at varied points and really saved dossiers.
    assert len(acked) > LINES_PER_FILE
    assert len(set(saved_counts)) > TRIALS // 4
