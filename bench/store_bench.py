"""Store benchmark: save latency, search latency at 100k and 1M dossiers, store open time.

Usage::

    .venv/bin/python bench/store_bench.py                 # full run (saves, 100k, 1M)
    .venv/bin/python bench/store_bench.py --quick         # seconds; what CI runs
    .venv/bin/python bench/store_bench.py --sizes 100000 --json out.json

Method:

* **save**: ``Store.register_dossier`` with full validation, the writer thread, outbox, audit
  and search index, ``synchronous=FULL``: wall time per call, as the clerk waits for it.
* **search**: the store is filled in bulk through the same schema and the same index code
  (``search.index_record``) but *without* per-row validation, outbox or audit entries (those
  tables do not take part in search); then ``Store.search`` is timed for a reproducible mix of
  queries typed the way clerks type them: full folded names, names half typed, a given name
  alone, 7-digit ID prefixes, whole ID numbers and dossier numbers.
* **open**: ``Store.open`` (scrypt key slot unlock + keyed connection + migration check +
  first read), and the same without the key derivation.

Names are Vietnamese (Kinh and the Mông, Dao, Tày, Thái clans of Lào Cai) drawn from a seed,
so runs are reproducible.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FAMILY = (
    ["Nguyễn"] * 30
    + ["Trần"] * 8
    + ["Lê"] * 7
    + ["Phạm"] * 5
    + ["Hoàng"] * 5
    + ["Giàng"] * 6
    + ["Sùng"] * 4
    + ["Thào"] * 4
    + ["Vàng"] * 4
    + ["Lý"] * 4
    + ["Lò"] * 4
    + ["Đặng"] * 3
    + ["Hà"] * 2
    + ["Ma"] * 2
    + ["Triệu"] * 2
    + ["Lù"] * 2
    + ["Tẩn", "Chảo", "Phàn", "Hầu", "Cứ", "Mã", "Nông", "Vương", "Đỗ", "Bùi"]
)
MIDDLE = [
    "Văn",
    "Thị",
    "A",
    "Seo",
    "Mí",
    "Đức",
    "Ngọc",
    "Minh",
    "Thu",
    "Quang",
    "Kim",
    "Hữu",
    "Xuân",
    "Thanh",
    "Chí",
    "Láo",
    "Sử",
    "Thị Thu",
    "Văn Đức",
]
GIVEN = [
    "Xà",
    "Páo",
    "Mỷ",
    "Chứ",
    "Dua",
    "Đức",
    "Ánh",
    "Hùng",
    "Lan",
    "Thủy",
    "Hoà",
    "Sính",
    "Mai",
    "Lình",
    "Chư",
    "Dế",
    "Pó",
    "Sểnh",
    "Say",
    "Chinh",
    "Dín",
    "Phử",
    "Súa",
    "Lử",
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Giang",
    "Hạnh",
    "Hương",
    "Khánh",
    "Linh",
    "Long",
    "Minh",
    "Nam",
    "Nga",
    "Ngọc",
    "Nhung",
    "Phong",
    "Phương",
    "Quân",
    "Quỳnh",
    "Sơn",
    "Tâm",
    "Thảo",
    "Thắng",
    "Trang",
    "Tuấn",
    "Uyên",
    "Vân",
    "Việt",
    "Yến",
    "Đạt",
    "Điệp",
]
COMMUNE = "02701"


def _name(rng: random.Random) -> tuple[str, str, str]:
    return rng.choice(FAMILY), rng.choice(MIDDLE), rng.choice(GIVEN)


def birth_data(rng: random.Random, i: int, received: dt.datetime) -> dict[str, str]:
    """Return realistic, valid birth data (about 1.3 KB as a record)."""
    from tests.forms.samples import BIRTH

    ho, dem, ten = _name(rng)
    mho, _, mten = _name(rng)
    cho, cdem, cten = ho, rng.choice(["A", "Văn", "Seo", "Đức"]), rng.choice(GIVEN)
    data = dict(BIRTH)
    data.update(
        tre_ho=ho,
        tre_chu_dem=dem,
        tre_ten=ten,
        tre_gioi_tinh=rng.choice(["Nam", "Nữ"]),
        tre_ngay_sinh=(received.date() - dt.timedelta(days=rng.randint(1, 55))).isoformat(),
        me_ho_ten=f"{mho} Thị {mten}",
        me_so_dinh_danh=f"015{rng.choice('13')}{rng.randint(85, 99) % 100:02d}{i % 1_000_000:06d}",
        cha_ho_ten=f"{cho} {cdem} {cten}",
        cha_so_dinh_danh=f"015{rng.choice('02')}{rng.randint(80, 99):02d}{rng.randint(0, 999999):06d}",
        nguoi_yeu_cau_ho_ten=f"{cho} {cdem} {cten}",
    )
    data["nguoi_yeu_cau_so_dinh_danh"] = data["cha_so_dinh_danh"]
    return data


def percentile(values: list[float], p: float) -> float:
    """Return the p-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def summary_ms(samples: list[float]) -> dict[str, float]:
    """Return p50/p95/max/mean in milliseconds of samples in seconds."""
    return {
        "n": len(samples),
        "p50_ms": round(percentile(samples, 50) * 1000, 2),
        "p95_ms": round(percentile(samples, 95) * 1000, 2),
        "max_ms": round(max(samples) * 1000, 2),
        "mean_ms": round(statistics.fmean(samples) * 1000, 2),
    }


def bench_saves(workdir: Path, n: int, password: str) -> dict[str, Any]:
    """Time ``register_dossier`` n times on a fresh profile."""
    from desktop.store.store import Store

    rng = random.Random(1)
    received = dt.datetime.now().replace(microsecond=0, hour=9)
    profile = workdir / "saves"
    times = []
    with Store.create(
        profile, commune=COMMUNE, username="lan", password=password, full_name="Nguyễn Thị Lan"
    ) as store:
        for i in range(n):
            data = birth_data(rng, i, received)
            t0 = time.perf_counter()
            store.register_dossier("khai_sinh", data, received_at=received, allow_duplicate=True)
            times.append(time.perf_counter() - t0)
    return summary_ms(times)


def bulk_fill(store: Any, start: int, stop: int, rng: random.Random, batch: int = 5000) -> None:
    """Insert dossiers start..stop-1 through the schema and index code, no validation."""
    from desktop.store import search

    base = dt.datetime(2025, 7, 1, 8, 0)
    for lo in range(start, stop, batch):
        hi = min(stop, lo + batch)
        rows = []
        for i in range(lo, hi):
            received = base + dt.timedelta(minutes=i // 3)
            data = birth_data(rng, i, received)
            record: dict[str, Any] = {
                "procedure": "khai_sinh",
                "commune": COMMUNE,
                "dossier_no": f"{COMMUNE}-{received:%Y%m%d}-B0B0-{i + 1}",
                "status": "hoan_thanh",
                "received_at": received.isoformat(),
                "due_at": received.date().isoformat(),
                "late": False,
                "book_type": "KS",
                **{f"data.{k}": v for k, v in data.items()},
            }
            rows.append((f"bench-{i:08d}", record))

        def write(conn: Any, ctx: Any, rows: list[tuple[str, dict[str, Any]]] = rows) -> None:
            for dossier_id, record in rows:
                cur = conn.execute(
                    "INSERT INTO dossiers (id, procedure, commune, dossier_no, status, "
                    "received_at, due_at, late, book_type, record, created_at, updated_at) "
                    "VALUES (?, 'khai_sinh', ?, ?, 'hoan_thanh', ?, ?, 0, 'KS', ?, ?, ?)",
                    (
                        dossier_id,
                        COMMUNE,
                        record["dossier_no"],
                        record["received_at"],
                        record["due_at"],
                        json.dumps(record, ensure_ascii=False, sort_keys=True),
                        record["received_at"],
                        record["received_at"],
                    ),
                )
                search.index_record(conn, cur.lastrowid, record)

        store.write(write)


def query_mix(rng: random.Random, size: int, n: int) -> list[str]:
    """Return n queries typed the way clerks type them, against dossiers 0..size-1."""
    from desktop.forms.vietnamese import fold

    qrng = random.Random(4242)
    fill_rng = random.Random(7)  # replay the fill's names for realistic hits
    people = []
    received = dt.datetime(2025, 7, 1, 8, 0)
    sample_ids = sorted(qrng.sample(range(size), min(size, 3 * n)))
    wanted = set(sample_ids)
    for i in range(max(sample_ids) + 1):
        data = birth_data(fill_rng, i, received + dt.timedelta(minutes=i // 3))
        if i in wanted:
            people.append((i, data, received + dt.timedelta(minutes=i // 3)))
    queries = []
    for k in range(n):
        i, data, when = people[k % len(people)]
        child = f"{data['tre_ho']} {data['tre_chu_dem']} {data['tre_ten']}"
        kind = k % 8
        if kind in (0, 1):
            queries.append(fold(child))  # full name, no accents
        elif kind == 2:
            queries.append(child)  # full name with accents
        elif kind == 3:
            queries.append(fold(child)[: max(3, len(fold(child)) - 2)])  # half typed
        elif kind == 4:
            queries.append(data["me_so_dinh_danh"][:7])  # ID prefix
        elif kind == 5:
            queries.append(data["me_so_dinh_danh"])  # whole ID
        elif kind == 6:
            queries.append(f"{COMMUNE}-{when:%Y%m%d}-B0B0-{i + 1}")  # dossier number
        else:
            queries.append(fold(data["me_ho_ten"]))  # the mother's name
    rng.shuffle(queries)
    return queries


def bench_search(store: Any, size: int, n: int) -> dict[str, Any]:
    """Time ``Store.search`` for n queries (after 20 warm-up queries)."""
    queries = query_mix(random.Random(size), size, n)
    for q in queries[:20]:
        store.search(q)
    times = []
    empty = 0
    for q in queries:
        t0 = time.perf_counter()
        hits = store.search(q)
        times.append(time.perf_counter() - t0)
        empty += not hits
    result = summary_ms(times)
    result["queries_without_hits"] = empty
    return result


def bench_open(profile: Path, password: str, repeats: int = 5) -> dict[str, Any]:
    """Time opening the store with the password, and opening without the key derivation."""
    from desktop.store import keyslots
    from desktop.store.store import Store

    full, no_kdf = [], []
    slots = keyslots.KeySlots.load(profile / "keyslots.json")
    key = slots.unlock("lan", password)
    for _ in range(repeats):
        t0 = time.perf_counter()
        store = Store.open(profile, "lan", password)
        store.sync_state()  # a first read through the per-thread read connection
        full.append(time.perf_counter() - t0)
        store.close()
        t0 = time.perf_counter()
        store = Store(profile, key, slots, "lan")
        store.sync_state()
        no_kdf.append(time.perf_counter() - t0)
        store.close()
    return {
        "with_password": summary_ms(full),
        "without_kdf": summary_ms(no_kdf),
        "scrypt_n": slots.slots[0]["n"],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print (and optionally save) the results as JSON."""
    from bench import report

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for CI")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--saves", type=int, default=500)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure search and open on WORKDIR/search as filled by a --keep run",
    )
    args = parser.parse_args(argv)
    if args.quick:
        os.environ.setdefault("MOTCUA_SCRYPT_LOG2N", "10")
        sizes, args.saves, args.queries = [2000], 30, 40
    else:
        sizes = [int(s) for s in args.sizes.split(",") if s]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="motcua-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    password = "mat-khau-bench"
    from desktop.store.store import Store

    results: dict[str, Any] = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpu, "
        f"Python {platform.python_version()}",
        "quick": args.quick,
    }
    try:
        profile = workdir / "search"
        if args.reuse:
            with Store.open(profile, "lan", password) as store:
                size = store.count_dossiers()
                for q in ("a", "giang"):  # warm the page cache like a filled run's last step
                    store.search(q)
                results["search"] = {str(size): bench_search(store, size, args.queries)}
                print(json.dumps(results["search"]), flush=True)
            results["open"] = bench_open(profile, password)
            results["open"]["dossiers"] = size
            sizes = []
        else:
            results["save"] = bench_saves(workdir, args.saves, password)
            print(json.dumps({"save": results["save"]}), flush=True)
            results["search"] = {}
        rng = random.Random(7)
        filled = 0
        if sizes:
            store = Store.create(
                profile,
                commune=COMMUNE,
                username="lan",
                password=password,
                full_name="Nguyễn Thị Lan",
            )
            with store:
                for size in sorted(sizes):
                    t0 = time.perf_counter()
                    bulk_fill(store, filled, size, rng)
                    fill_s = time.perf_counter() - t0
                    filled = size
                    store.write(lambda conn, ctx: conn.execute("PRAGMA optimize"))
                    store._writer.execute(  # noqa: SLF001 - checkpoint: the size is the file's
                        lambda conn: conn.execute("PRAGMA wal_checkpoint(TRUNCATE)"),
                        transaction=False,
                    )
                    entry = bench_search(store, size, args.queries)
                    entry["fill_s"] = round(fill_s, 1)
                    entry["db_mb"] = round((profile / "store.db").stat().st_size / 1e6, 1)
                    results["search"][str(size)] = entry
                    print(json.dumps({"search": {str(size): entry}}), flush=True)
            results["open"] = bench_open(profile, password)
            results["open"]["dossiers"] = filled
            print(json.dumps({"open": results["open"]}), flush=True)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    report.print_summary(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
