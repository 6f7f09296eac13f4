"""The console inbox bench still works: its quick form (1,000 conflicts, 3 repetitions).

Not a timed test (the recorded runs are in bench/RESULTS.md): it checks that the bench seeds a
real server, shows the inbox in a real Tk window and measures every step, in its own process
(ttkbootstrap allows one Tk root per process; the bench starts a private Xvfb when there is no
display).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.gui


@pytest.mark.timeout(120)
def test_the_quick_console_bench_measures_every_step(tmp_path: Path) -> None:
    if not os.environ.get("DISPLAY") and shutil.which("Xvfb") is None:
        pytest.skip("no DISPLAY and Xvfb is not installed")
    out = tmp_path / "console.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.console_bench", "--quick", "--json", str(out)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "MOTCUA_SCRYPT_LOG2N": "10"},
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["conflicts"] == 1000 and result["seed"]["conflicts"] == 1000
    assert set(result["gui"]) == {
        "first page (cold: builds the screen)",
        "first page",
        "commune filter",
        "next page",
        "deep page (offset 800)",
        "open a conflict to its grid",
    }
    assert result["gui"]["next page"]["n"] == 3
    assert all(0 < f["p50_ms"] <= f["max_ms"] for f in result["gui"].values())
    assert result["longest_stall_ms"] > 0 and "open conflict" in result["stall_by_phase_ms"]
    assert "| commune filter |" in done.stdout and "Longest Tk stall" in done.stdout
