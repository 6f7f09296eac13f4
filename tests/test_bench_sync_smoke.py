"""The weak-link sync benchmark still works: its tiny form, run as CI runs it.

Not a timed test: it checks that the kit measures (documents valid and reproducible, every
tiny workload finishes for our system through the shaped proxy, the counters and the limit
make sense, the table and the PNG come out). The PouchDB peer runs too when node and the
npm packages of bench/peer are installed (``bench/run sync`` installs them).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from bench import docs_gen, plot, sync_bench
from desktop.forms.procedures import get_procedure
from desktop.forms.validation import validate
from protocol import limits

FAST_3G = sync_bench.PROFILES["3g"]


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap scrypt for the benchmark's device profiles."""
    monkeypatch.setenv("MOTCUA_SCRYPT_LOG2N", "10")


def test_documents_are_reproducible_valid_vietnamese_dossiers_of_the_right_size() -> None:
    docs = docs_gen.generate(120, seed=5)
    again = docs_gen.generate(120, seed=5)
    assert [d.couch_doc() for d in docs] == [d.couch_doc() for d in again]
    assert docs_gen.generate(1, seed=6)[0].id != docs[0].id
    # A later slice of a series is the same as generating it from its start index.
    assert [d.id for d in docs_gen.generate(10, seed=5, start=100)] == [d.id for d in docs[100:110]]
    assert {d.procedure for d in docs} == {"khai_sinh", "khai_tu", "xac_nhan_hon_nhan", "ket_hon"}
    today = dt.date(2026, 11, 1)
    for doc in docs:
        assert docs_gen.MIN_BYTES <= doc.size() <= docs_gen.MAX_BYTES, doc.size()
        result = validate(
            get_procedure(doc.procedure), doc.data, today=today, received_at=doc.received_at
        )
        assert not result.errors, (doc.procedure, result.errors)
        record = doc.record()
        assert record["procedure"] == doc.procedure and record["commune"] == "02701"
        assert all(k in record for k in (f"data.{name}" for name in doc.data))
    text = json.dumps([d.data for d in docs], ensure_ascii=False)
    assert "Lào Cai" in text and "Thị" in text  # Vietnamese text with diacritics


def test_edits_change_two_fields_and_scans_do_not_compress() -> None:
    import zstandard

    doc = docs_gen.generate(1, seed=5)[0]
    edit = docs_gen.edit_fields(doc)
    assert len(edit) == 2 and all(doc.data.get(k) != v for k, v in edit.items())
    scan = docs_gen.scan_bytes(0, 50_000)
    assert scan == docs_gen.scan_bytes(0, 50_000) and scan != docs_gen.scan_bytes(1, 50_000)
    assert len(zstandard.ZstdCompressor(level=19).compress(scan)) > 0.99 * len(scan)


def test_jsonl_round_trip(tmp_path: Path) -> None:
    docs = docs_gen.generate(5, seed=9)
    path = tmp_path / "docs.jsonl"
    assert docs_gen.write_jsonl(path, docs) == 5
    back = list(docs_gen.read_jsonl(path))
    assert [d.couch_doc() for d in back] == [d.couch_doc() for d in docs]


def test_link_limit_follows_the_formula(tmp_path: Path) -> None:
    workload = sync_bench.Workload("day", "t", "day", 3, scans=2, scan_bytes=10_000)
    data = sync_bench.make_data(workload, tmp_path / "data")
    limit = data.limit(FAST_3G)
    assert limit.attachment_bytes == 20_000
    raw = sum(docs_gen.doc_bytes(d.couch_doc()) for d in data.docs)
    assert 0 < limit.doc_bytes < raw / 2  # zstd-19 of Vietnamese JSON
    expected = (limit.doc_bytes + 20_000) * 8 / 384_000 + 0.2
    assert limit.seconds == pytest.approx(expected)
    quiet = sync_bench.make_data(sync_bench.Workload("quiet", "t", "quiet", 2), tmp_path / "q")
    assert quiet.limit(FAST_3G).bytes == 0 and quiet.limit(FAST_3G).seconds == 0.2


@pytest.mark.slow
def test_tiny_workloads_finish_for_our_system_through_the_shaped_proxy(tmp_path: Path) -> None:
    results = sync_bench.run_bench(
        sync_bench.QUICK_WORKLOADS,
        [FAST_3G],
        systems=("ours",),
        workdir=tmp_path,
        idle_s=0.1,
        timeout_s=120,
        log=lambda line: None,
    )
    rows = {r["workload"]: r for r in results["rows"]}
    assert set(rows) == {w.name for w in sync_bench.QUICK_WORKLOADS}
    for name, row in rows.items():
        ours = row["ours"]
        assert ours["ok"], (name, ours["error"])
        assert ours["bytes_up"] > 0 and ours["bytes_down"] > 0
        # The shaped link cannot be beaten: every step takes at least one round trip.
        assert ours["wall_s"] >= FAST_3G.rtt_ms / 1000
    # A quiet sync and a small push are one request each.
    assert rows["quiet"]["ours"]["requests"] == 1
    assert rows["push50"]["ours"]["requests"] == 1
    assert rows["quiet"]["ours"]["bytes_up"] + rows["quiet"]["ours"]["bytes_down"] < 2000
    # The day's scan crossed the link once; after the cut at most one chunk went again.
    scan = sync_bench.QUICK_WORKLOADS[4].scan_bytes
    assert rows["day"]["ours"]["bytes_up"] >= scan
    assert rows["day-cut"]["ours"]["cuts"] == 1
    assert 0 <= rows["day-cut"]["ours"]["resent_bytes"] <= limits.CHUNK_BYTES + 4096
    # The report and the chart come out of the results.
    table = sync_bench.markdown(results)
    assert "| push 5 new dossiers | ours |" in table
    png = plot.draw(results, tmp_path / "sync.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_the_pouchdb_peer_replicates_through_the_same_proxy(tmp_path: Path) -> None:
    reason = sync_bench.peer_available()
    if reason:
        pytest.skip(f"PouchDB peer not available: {reason}")
    quick = {w.name: w for w in sync_bench.QUICK_WORKLOADS}
    results = sync_bench.run_bench(
        [quick["quiet"], quick["push50"]],
        [FAST_3G],
        workdir=tmp_path,
        idle_s=0.1,
        timeout_s=120,
        log=lambda line: None,
    )
    for row in results["rows"]:
        peer, ours = row["peer"], row["ours"]
        assert peer["ok"], peer["error"]
        assert peer["requests"] > ours["requests"]
        assert peer["bytes_up"] + peer["bytes_down"] > ours["bytes_up"] + ours["bytes_down"]
