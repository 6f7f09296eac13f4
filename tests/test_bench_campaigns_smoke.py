"""The crash and fault campaigns, the load test and the local table still work: quick forms.

Not timed tests and not the recorded runs (those are in bench/RESULTS.md): each campaign runs
in a small form and must end with every invariant holding (a broken invariant raises
``CampaignFailure``). The client crash campaign runs its 50-trial CI form.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bench import load, local_all, report
from bench.campaigns import client_crash, fault_rounds, server_crash
from bench.campaigns.common import CampaignFailure, change_log_problems, make_db
from tests.sync.conftest import pg_available

needs_pg = pytest.mark.skipif(not pg_available(), reason="PostgreSQL is not reachable")


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_client_crash_campaign_ci_form(tmp_path: Path) -> None:
    summary = client_crash.run(50, workdir=tmp_path)
    assert summary["trials"] == 50
    # The kills really landed at varied points: in saves, in syncs, and the store grew. (Kill
    # times are random and a loaded machine shifts them towards the slower syncs: about 29 % of
    # kills land in saves, so 3 of ~45 is a floor that holds without being a formality.)
    assert summary["killed"] >= 40
    where = summary["last_line_before_kill"]
    assert where.get("sync-begin", 0) >= 5, where
    assert where.get("saved", 0) >= 3, where
    assert summary["acknowledged_dossiers"] > 50
    assert summary["distinct_store_sizes"] > 20


@pytest.mark.slow
@pytest.mark.postgres
@needs_pg
@pytest.mark.timeout(240)
def test_server_crash_campaign_quick_form(tmp_path: Path) -> None:
    summary = server_crash.run(3, workdir=tmp_path)
    assert summary["server_kills"] == 3
    assert summary["dossiers"] > 30
    assert summary["changes_logged"] >= summary["dossiers"]


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_fault_rounds_campaign_quick_form(tmp_path: Path) -> None:
    summary = fault_rounds.run(60, workdir=tmp_path)
    assert summary["cuts_up"] + summary["cuts_down"] > 0
    assert summary["requests"] >= 60
    assert summary["dossiers"] > 5


def _plant_log(path: Path, changes: list[tuple[Any, ...]], versions: list[tuple[Any, ...]],
               records: list[tuple[Any, ...]]) -> None:  # fmt: skip
    """Write a bare change log (the columns the check reads) into a SQLite file."""
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE changes (server_seq INTEGER, device_id TEXT, device_seq INTEGER, "
        "change_id TEXT, status TEXT, kind TEXT, entity_id TEXT, new_version INTEGER);"
        "CREATE TABLE record_versions (entity_id TEXT, version INTEGER);"
        "CREATE TABLE records (entity_id TEXT, version INTEGER);"
    )
    conn.executemany("INSERT INTO changes VALUES (?, ?, ?, ?, ?, ?, ?, ?)", changes)
    conn.executemany("INSERT INTO record_versions VALUES (?, ?)", versions)
    conn.executemany("INSERT INTO records VALUES (?, ?)", records)
    conn.commit()
    conn.close()


def test_change_log_check_accepts_a_sound_log_and_names_each_fault(tmp_path: Path) -> None:
    """The log check is not vacuous: each planted fault is reported, a sound log is not."""
    sound = tmp_path / "sound"
    sound.mkdir()
    db = make_db("sqlite", sound)
    _plant_log(
        db.path,  # type: ignore[arg-type]
        [(1, "d1", 1, "c1", "applied", "change", "e1", 1),
         (2, "d1", 2, "c2", "applied", "change", "e1", 2)],
        [("e1", 1), ("e1", 2)],
        [("e1", 2)],
    )  # fmt: skip
    assert change_log_problems(db) == []

    bad = tmp_path / "bad"
    bad.mkdir()
    db = make_db("sqlite", bad)
    _plant_log(
        db.path,  # type: ignore[arg-type]
        [(1, "d1", 1, "c1", "applied", "change", "e1", 1),
         (3, "d1", 1, "c1", "applied", "change", "e1", 1)],  # the same change applied twice
        [("e1", 1), ("e1", 3)],
        [("e1", 2)],
    )  # fmt: skip
    problems = " ".join(change_log_problems(db))
    assert "logged twice" in problems
    assert "change_id is logged twice" in problems
    assert "gap-free" in problems
    assert "versions not 1..n" in problems
    assert "not their last stored version" in problems
    assert "two changes" in problems


def test_campaign_failure_is_an_assertion() -> None:
    assert issubclass(CampaignFailure, AssertionError)


@pytest.mark.slow
@pytest.mark.postgres
@needs_pg
@pytest.mark.skipif(shutil.which("pgbench") is None, reason="pgbench is not installed")
@pytest.mark.timeout(240)
def test_load_quick_form_answers_every_sync_and_measures_the_ceiling() -> None:
    figures = load.run(communes=24, dossiers=5, servers=2, clients=2, threads=2, pgbench_seconds=2)
    assert figures["errors"] == 0, figures["first_errors"]
    assert figures["records_stored"] == 24 * 5
    assert figures["changes_logged"] == 24 * 5
    assert figures["ceiling"]["one_row_tps"] > 0 and figures["ceiling"]["day_tps"] > 0
    latency = figures["latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"]


def test_local_table_keeps_the_other_sections(tmp_path: Path) -> None:
    results = {
        "date": "2026-11-26T12:00+00:00",
        "machine": "x86_64, 2 cpu",
        "load_avg_start": 1.0,
        "load_avg_end": 1.2,
        "reuse_dir": "/nowhere",
        "have_1m": False,
        "quick": False,
        "saves_2": {"save": {"p50_ms": 2.3, "p95_ms": 11.2}},
        "saves_1": {"save": {"p50_ms": 4.0, "p95_ms": 11.9}},
        "app_2": {"profile": {"dossiers": 100030}, "cold_start": {"median_s": 0.7}},
        "app_1": {"error": "Xvfb missing"},
    }
    section = local_all.table(results)
    assert "| save a dossier, p95 | 11.2 ms | 11.9 ms | p95 ≤ 50 ms |" in section
    assert "100,030 dossiers" in section
    assert "not re-run" in section and "`app_1` failed" in section
    path = tmp_path / "RESULTS.md"
    path.write_text("# Benchmark results\n\n## Desktop app\n\nkept\n", encoding="utf-8")
    report.write_section(path, local_all.SECTION, section)
    report.write_section(path, local_all.SECTION, section.replace("11.2 ms", "12.0 ms"))
    text = path.read_text(encoding="utf-8")
    assert "## Desktop app\n\nkept\n" in text
    assert text.count(local_all.SECTION) == 1 and "12.0 ms" in text
