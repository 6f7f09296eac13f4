"""The store benchmark still runs (tiny sizes); the real figures are in bench/RESULTS.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_store_bench_quick_runs(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    env = dict(os.environ, MOTCUA_SCRYPT_LOG2N="10", PYTHONPATH=str(ROOT))
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "store_bench.py"), "--quick", "--json", str(out)],
        check=True,
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    result = json.loads(out.read_text())
    assert result["save"]["n"] == 30 and result["save"]["p95_ms"] > 0
    [entry] = result["search"].values()
    assert entry["queries_without_hits"] == 0  # the query mix really finds what it looks for
    assert result["open"]["dossiers"] == 2000
