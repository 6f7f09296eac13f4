"""``bench/console_seed.py`` keeps working: its seeded conflicts are real ones the console opens."""

from __future__ import annotations

from pathlib import Path

from bench.console_seed import main, seed_conflicts, time_inbox
from server.service import SyncServer


def test_seeded_conflicts_open_like_real_ones(server: SyncServer) -> None:
    made = seed_conflicts(server, 200)
    assert (made["conflicts"], made["communes"], made["devices"]) == (200, 99, 198)
    page = server.conflicts("open")
    assert len(page) == 200
    kinds = {c["kind"] for c in page}
    assert kinds == {"field", "delete", "duplicate", "book_number"}
    detail = server.conflict(page[0]["id"])
    assert [r["clashing"] for r in detail["fields"]][0]
    assert detail["conflict"]["title"] and detail["current"]["device_label"].startswith("PC1")
    duplicate = next(c for c in page if c["kind"] == "duplicate")
    assert server.duplicate(duplicate["id"])["b"]["commune"] == duplicate["other_commune"]
    timings = time_inbox(server, 2)
    assert timings["conflicts.list first page"]["rows"] == 200
    assert timings["conflicts.get"]["admin"]["median_ms"] > 0


def test_the_command_runs(tmp_path: Path, capsys: object) -> None:
    out = tmp_path / "figures.json"
    assert main(["--conflicts", "120", "--repeat", "2", "--json", str(out)]) == 0
    assert '"conflicts": 120' in out.read_text()
