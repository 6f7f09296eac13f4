"""Re-run the local store and app figures in one go, on 2 cores and on 1 core, as one table.

Runs, one after the other on this machine:

* ``bench/store_bench.py --sizes "" --saves N``: save latency on a fresh profile;
* ``bench/store_bench.py --reuse --workdir DIR``: search and open at 1,000,000 dossiers on the
  kept database of an earlier ``--keep`` run (default ``/tmp/bench1m2``; skipped, and said so in
  the table, when it is not there: filling 1M takes ~7 min and 2.6 GB);
* ``bench/app_bench.py --size 100000``: cold start, memory and screen times with 100k dossiers;

each twice: with both cores, and pinned to one core with ``taskset -c 0`` (an old PC). The app
bench pins its children to one core itself; for the 2-core column it is run with that pinning
turned off (``_pinned`` replaced by the identity, no file changed).

Run::

    .venv/bin/python bench/local_all.py --json /tmp/local.json --results bench/RESULTS.md
    .venv/bin/python bench/local_all.py --quick        # tiny sizes, a minute (what CI runs)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SECTION = "## Local figures in one table"

__all__ = ["main", "run", "table"]


def _env(quick: bool) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if quick:
        env["MOTCUA_SCRYPT_LOG2N"] = "10"
    return env


def _run_json(cmd: list[str], out: Path, quick: bool, one_core: bool) -> dict[str, Any]:
    if one_core and shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=_env(quick), capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": (proc.stderr or proc.stdout)[-800:], "cmd": " ".join(cmd)}
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    data["_seconds"] = round(time.monotonic() - started, 1)
    data["_cmd"] = " ".join(cmd)
    return data


def run(
    *, quick: bool = False, reuse_dir: Path = Path("/tmp/bench1m2"), app_size: int = 100_000
) -> dict[str, Any]:
    """Run every benchmark on 2 cores and on 1 core; return their JSON results."""
    py = sys.executable
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="minutes"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpu, Python "
        f"{platform.python_version()}",
        "load_avg_start": round(os.getloadavg()[0], 1),
        "reuse_dir": str(reuse_dir),
    }
    have_1m = (reuse_dir / "search" / "store.db").exists() and not quick
    with tempfile.TemporaryDirectory(prefix="motcua-local-") as tmp:
        work = Path(tmp)
        for cores in ("2", "1"):
            one = cores == "1"
            saves = ["--quick"] if quick else ["--sizes", "", "--saves", "500"]
            out = work / f"saves-{cores}.json"
            results[f"saves_{cores}"] = _run_json(
                [py, "bench/store_bench.py", *saves, "--json", str(out)], out, quick, one
            )
            if have_1m:
                out = work / f"search-{cores}.json"
                results[f"search_{cores}"] = _run_json(
                    [py, "bench/store_bench.py", "--reuse", "--workdir", str(reuse_dir),
                     "--queries", "400", "--json", str(out)],
                    out, quick, one,
                )  # fmt: skip
            out = work / f"app-{cores}.json"
            size = ["--quick"] if quick else ["--size", str(app_size), "--runs", "5"]
            code = (
                "import sys, bench.app_bench as a\n"
                + ("" if one else "a._pinned = lambda cmd: cmd\n")
                + "sys.exit(a.main(sys.argv[1:]))"
            )
            results[f"app_{cores}"] = _run_json(
                [py, "-c", code, *size, "--json", str(out)], out, quick, one
            )
    results["have_1m"] = have_1m
    results["quick"] = quick
    results["load_avg_end"] = round(os.getloadavg()[0], 1)
    return results


def _get(data: dict[str, Any], *path: Any) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _fmt(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    return f"{value:g} {unit}" if isinstance(value, int | float) else str(value)


def _verdict(rows: list[tuple[str, str, str, str]]) -> str:
    """Say whether every figure with a goal meets it (the goal's number is the limit)."""
    import re

    misses = []
    for what, two, one, goal in rows:
        limit = re.findall(r"[\d.]+", goal)
        for column, value in (("2 cores", two), ("1 core", one)):
            number = re.match(r"[\d.]+", value)
            if limit and number and float(number.group()) >= float(limit[-1]):
                misses.append(f"{what} ({column}: {value}, goal {goal})")
    if misses:
        return "Misses its goal: " + "; ".join(misses) + "."
    return "Every figure with a goal meets it."


def table(results: dict[str, Any]) -> str:
    """Render the results as the Markdown section of bench/RESULTS.md."""
    rows: list[tuple[str, str, str, str]] = []

    def add(what: str, goal: str, *path: Any, unit: str = "ms") -> None:
        two, one = (_get(results, f"{path[0]}_{c}", *path[1:]) for c in ("2", "1"))
        rows.append((what, _fmt(two, unit), _fmt(one, unit), goal))

    add("save a dossier, p50 (500 saves on a fresh profile)", "", "saves", "save", "p50_ms")
    add("save a dossier, p95", "p95 ≤ 50 ms", "saves", "save", "p95_ms")
    if results.get("have_1m"):
        size = next(iter(_get(results, "search_2", "search") or {"1000000": 0}))
        add(f"search at {int(size):,} dossiers, p50 (400 queries)", "", "search", "search",
            size, "p50_ms")  # fmt: skip
        add(f"search at {int(size):,} dossiers, p95", "p95 ≤ 100 ms", "search", "search", size,
            "p95_ms")  # fmt: skip
        add("open the 1M store with a password, p50 (5 opens)", "", "search", "open",
            "with_password", "p50_ms")  # fmt: skip
    app_size = _get(results, "app_2", "profile", "dossiers")
    label = f"{app_size:,}" if isinstance(app_size, int) else "?"
    add(f"app cold start to sign-in window, median ({label} dossiers)", "< 2 s",
        "app", "cold_start", "median_s", unit="s")  # fmt: skip
    add("app resident memory at sign-in window", "< 100 MB", "app", "cold_start",
        "rss_mb_median", unit="MB")  # fmt: skip
    add("unlock (scrypt + open)", "", "app", "screens", "unlock_s", unit="s")
    add("sign-in to dashboard drawn", "", "app", "screens", "sign_in_to_dashboard_ms")
    add("app resident memory after sign-in", "< 100 MB", "app", "screens",
        "rss_mb_after_sign_in", unit="MB")  # fmt: skip
    for cores in ("2", "1"):
        results.setdefault(f"app_{cores}", {})
    screens_2 = _get(results, "app_2", "screens", "screens") or []
    screens_1 = _get(results, "app_1", "screens", "screens") or []
    worst = [max((s["ms"] for s in walk), default=None) for walk in (screens_2, screens_1)]
    rows.append(
        (
            "slowest screen to drawn (of 7 visits)",
            _fmt(worst[0], "ms"),
            _fmt(worst[1], "ms"),
            "< 100 ms",
        )
    )
    add('search "nguyen van" in the app (50 rows)', "< 100 ms", "app", "screens", "search_ms")
    lines = [
        SECTION,
        "",
        f"Measured {results['date']} on {results['machine']} by `bench/local_all.py`, all in "
        f"one go (load average {results['load_avg_start']} at the start, "
        f"{results['load_avg_end']} at the end). 2 cores = unpinned; 1 core = `taskset -c 0` "
        "on the whole benchmark and its children.",
        "",
        "Reproduce: `.venv/bin/python bench/local_all.py --results bench/RESULTS.md` (≈ 4 min;"
        " reuses the 1M store kept at `--reuse-dir`, default `/tmp/bench1m2`, made by"
        " `bench/store_bench.py --sizes 100000,1000000 --keep --workdir /tmp/bench1m2`). The app"
        " bench pins its own children to one core; the 2-core column runs it with that pinning"
        " off. " + _verdict(rows),
        "",
        "| what | 2 cores | 1 core (`taskset -c 0`) | goal |",
        "|---|---|---|---|",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows),
        "",
    ]
    if results.get("quick"):
        lines.append(
            "Quick form (`--quick`): tiny sizes, the 1M search not run; not for the record."
        )
        lines.append("")
    elif not results.get("have_1m"):
        lines.append(
            f"No kept 1M store at `{results['reuse_dir']}/search`: the 1M search figures were not "
            "re-run (make one with `bench/store_bench.py --sizes 1000000 --keep --workdir DIR`)."
        )
        lines.append("")
    errors = [k for k, v in results.items() if isinstance(v, dict) and "error" in v]
    for key in errors:
        lines.append(f"`{key}` failed: `{results[key]['error'][-300:].strip()}`")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    from bench import report

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (CI)")
    parser.add_argument("--reuse-dir", type=Path, default=Path("/tmp/bench1m2"))
    parser.add_argument("--app-size", type=int, default=100_000)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--results", type=Path, help="write the table into this RESULTS.md")
    args = parser.parse_args(argv)
    results = run(quick=args.quick, reuse_dir=args.reuse_dir, app_size=args.app_size)
    text = table(results)
    print(text)
    if args.json:
        args.json.write_text(report.summary_json(results) + "\n", "utf-8")
    if args.results:
        report.write_section(args.results, SECTION, text)
    failed = any(isinstance(v, dict) and "error" in v for v in results.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
