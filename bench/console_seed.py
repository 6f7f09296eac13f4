"""Console bench: seed N open conflicts over the 99 communes, then time the inbox on the server.

Usage::

    .venv/bin/python -m bench.console_seed                       # 10,000 conflicts, temp SQLite
    .venv/bin/python -m bench.console_seed --db URL              # a server database of your own
    .venv/bin/python -m bench.console_seed --conflicts 300 --repeat 3 --json out.json   # quick

Method:

* **seed**: a fresh server database (``--db`` must be empty, else a temporary SQLite file) gets
  two enrolled devices per commune of Lào Cai and, per conflict, a dossier created and edited by
  one device and a clashing change of the other — written straight through the server's own
  storage path (:func:`server.changes.record_version` and :func:`server.changes.log_change`, the
  conflicts in one bulk insert), so the records carry their facts, versions and change log
  exactly as after real syncs. Kinds: 70 % field, 10 % delete, 15 % duplicate (the same birth
  in another commune), 5 % register number; 80 % births, 20 % deaths; raised over 60 days.
* **time**: ``conflicts.list`` (the first page of 200, a filtered page — one commune, births,
  field conflicts older than a week — and a deep page at offset 9,800) and ``conflicts.get``
  of random conflicts, and the statistics cube by month over the seeded dossiers: each
  ``--repeat`` times, first as the library call the ``/admin`` endpoint makes (a read
  transaction and the action), then as the whole ``POST /admin`` an operator's console makes,
  sealed with HPKE and opened again (in process, without HTTP).

The ui engineer's ``bench/console_bench.py`` can reuse :func:`seed_conflicts` for its inbox.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from desktop.forms.reference import communes
from protocol import enrolment, sealing, wire
from protocol.admin import OPERATOR_SCOPE
from protocol.keys import PrivateKeys
from server import schema
from server.changes import log_change, record_version
from server.console.conflicts import DAY_MS, conflict_detail, conflict_page
from server.queries.console import ConflictFilter
from server.rows import CONFLICT_JSON_COLUMNS, RecordRow, dumps
from server.service import SyncServer
from server.storage import Tx

__all__ = ["seed_conflicts", "time_inbox"]

FAMILY = ["Giàng", "Vàng", "Sùng", "Lò", "Nguyễn", "Hoàng", "Lý", "Thào", "Đặng", "Ma"]
GIVEN = ["Páo", "Mỷ", "Chứ", "Sính", "Dế", "Lan", "Minh", "Hoa", "Sài", "Pàng", "Tú", "Hải"]
KINDS = ["field"] * 14 + ["delete"] * 2 + ["duplicate"] * 3 + ["book_number"]


def _values(rng: random.Random, commune: str, n: int, procedure: str) -> dict[str, Any]:
    """Return a dossier's flat values, received within the last two months."""
    family, given = rng.choice(FAMILY), rng.choice(GIVEN)
    received = f"2026-{rng.randint(1, 3):02d}-{rng.randint(1, 28):02d}"
    common = {
        "procedure": procedure,
        "commune": commune,
        "status": "tiep_nhan",
        "dossier_no": f"{commune}-{n:06d}",
        "received_at": f"{received}T08:30:00",
        "due_at": received,
        "late": rng.random() < 0.1,
    }
    if procedure == "khai_tu":
        return {
            **common,
            "data.nguoi_chet_ho_ten": f"{family} Seo {given}",
            "data.ngay_chet": received,
        }
    return {
        **common,
        "data.tre_ho": family,
        "data.tre_chu_dem": rng.choice(["A", "Thị", "Văn", "Seo"]),
        "data.tre_ten": given,
        "data.tre_ngay_sinh": received,
        "data.me_ho_ten": f"{rng.choice(FAMILY)} Thị {rng.choice(GIVEN)}",
        "data.me_so_dinh_danh": f"0101{n:08d}",
    }


class _Seeder:
    """Writes dossiers and their changes through the server's storage path in one transaction."""

    def __init__(self, tx: Tx, now: int) -> None:
        self.tx = tx
        self.now = now
        self.device_seq: dict[str, int] = {}

    def change(
        self, device: str, commune: str, rid: str, fields: dict[str, Any], base: int
    ) -> dict[str, Any]:
        seq = self.device_seq[device] = self.device_seq.get(device, 0) + 1
        return {
            "change_id": uuid.uuid4().hex,
            "device_id": device,
            "device_seq": seq,
            "entity": "dossier",
            "entity_id": rid,
            "commune": commune,
            "op": "upsert",
            "base_version": base,
            "fields": {k: [None, v] for k, v in fields.items()},
            "hlc": f"{self.now - seq * 1000:013d}-0000-{device}",
            "clerk": "lan",
        }

    def apply(self, change: dict[str, Any], before: RecordRow | None) -> RecordRow:
        """Number, apply and log ``change``; return the record's new state."""
        number = self.tx.next_seq(change["change_id"])
        writes = {k: v[1] for k, v in change["fields"].items()}
        rec, applied = record_version(self.tx, before, change, writes, delete=False, seq=number[0])
        self._log(change, number, "applied", rec.version, applied)
        return rec

    def clash(self, change: dict[str, Any]) -> int:
        """Number and log ``change`` as a conflict (not applied); return its server_seq."""
        number = self.tx.next_seq(change["change_id"])
        self._log(change, number, "conflict", None, {})
        return number[0]

    def _log(
        self,
        change: dict[str, Any],
        number: tuple[int, str],
        status: str,
        version: int | None,
        applied: dict[str, list[Any]],
    ) -> None:
        log_change(
            self.tx,
            change,
            number,
            status=status,
            new_version=version,
            applied=applied,
            reason=None,
            conflict_ids=[],
            received_at=self.now,
        )


def seed_conflicts(server: SyncServer, count: int, *, seed: int = 7) -> dict[str, Any]:
    """Seed ``count`` open conflicts over the 99 communes (two devices each) into ``server``.

    Returns:
        What was made: ``conflicts``, ``communes``, ``devices``, ``seconds``.
    """
    rng = random.Random(seed)
    codes = [c.code for c in communes()]
    keys = PrivateKeys.generate().public()
    now = server.clock()
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    with server.storage.write() as tx:
        devices = {}
        for code in codes:
            devices[code] = [uuid.uuid4().hex, uuid.uuid4().hex]
            for i, device in enumerate(devices[code]):
                tx.insert_device(
                    device, code, f"PC{i + 1} {code}", keys.to_json(), keys.key_id, now
                )
        seeder = _Seeder(tx, now)
        previous: dict[str, tuple[str, str]] = {}
        for n in range(count):
            code = codes[n % len(codes)]
            a, b = devices[code]
            kind = KINDS[n % len(KINDS)]
            procedure = "khai_tu" if n % 5 == 4 else "khai_sinh"
            rid = uuid.uuid4().hex
            values = _values(rng, code, n, procedure)
            rec = seeder.apply(seeder.change(a, code, rid, values, 0), None)
            name_key = "data.nguoi_chet_ho_ten" if procedure == "khai_tu" else "data.tre_ten"
            edit = {name_key: rng.choice(GIVEN), "status": "dang_xu_ly"}
            rec = seeder.apply(seeder.change(a, code, rid, edit, 1), rec)
            clash = {name_key: rng.choice(GIVEN)}
            incoming = seeder.change(b, code, rid, clash, 1)
            seq = seeder.clash(incoming)
            other = previous.get(procedure) if kind in ("duplicate", "book_number") else None
            rows.append(
                {
                    "kind": kind if other or kind in ("field", "delete") else "field",
                    "entity": "dossier",
                    "entity_id": rid,
                    "other_entity_id": other[0] if other else None,
                    "commune": code,
                    "other_commune": other[1] if other else None,
                    "change_id": incoming["change_id"],
                    "server_seq": seq,
                    "base_version": 1,
                    "current_version": rec.version,
                    "fields": [name_key] if kind != "delete" else ["status"],
                    "base": {name_key: values[name_key]},
                    "current": {name_key: rec.values[name_key]},
                    "incoming": {"_op": "delete"}
                    if kind == "delete"
                    else {name_key: clash[name_key]},
                    "device_id": b,
                    "clerk": "lan",
                    "hlc": incoming["hlc"],
                    "status": "open",
                    "created_at": now - (count - n) * 60 * DAY_MS // count,
                }
            )
            previous[procedure] = (rid, code)
        for row in rows:
            for key in CONFLICT_JSON_COLUMNS:
                row[key] = dumps(row[key])
        tx.flush()
        tx.conn.execute(insert(schema.conflicts), rows)
    return {
        "conflicts": count,
        "communes": len(codes),
        "devices": 2 * len(codes),
        "seconds": round(time.perf_counter() - started, 2),
    }


def _operator(server: SyncServer) -> Callable[[str, dict[str, Any]], Any]:
    """Enrol a console in process; return its ``call(action, args)`` through ``/admin``."""
    code = server.issue_operator_code("Bench")["code"]
    keys = PrivateKeys.generate()
    operator_id = uuid.uuid4().hex
    proof = enrolment.enrol_proof(code, operator_id, OPERATOR_SCOPE, keys.public())
    body = {"operator_id": operator_id, "keys": keys.public().to_json(), "proof": proof}
    server.enrol_operator(wire.canonical_json(body))

    def call(action: str, args: dict[str, Any]) -> Any:
        sealed = sealing.seal_request(
            wire.canonical_json({"action": action, "args": args}),
            device_id=operator_id,
            device_keys=keys,
            server_keys=server.public_keys(),
        )
        raw = server.admin(sealed.data)
        _header, payload = sealing.open_response(
            raw, request=sealed, server_keys=server.public_keys()
        )
        return wire.loads(payload)["result"]

    return call


def _timed(func: Callable[[], Any], repeat: int) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2)}


def time_inbox(server: SyncServer, repeat: int, *, seed: int = 7) -> dict[str, dict[str, Any]]:
    """Time the inbox's list pages, one conflict and the statistics cube, as library calls and
    through ``/admin``."""
    rng = random.Random(seed)
    with server.storage.read() as tx:
        total = tx.conflict_page(ConflictFilter(), offset=0, limit=1, newest_first=True)[0]
    pages = {
        "first page": {"limit": 200},
        "filtered page": {
            "commune": communes()[0].code,
            "procedure": "khai_sinh",
            "kind": "field",
            "min_age_days": 7,
            "limit": 200,
        },
        "deep page": {"offset": max(total - 200, 0), "limit": 200},
    }
    call = _operator(server)
    results: dict[str, dict[str, Any]] = {}
    for name, args in pages.items():
        clean = {"status": "open", "offset": 0, **args}

        def library(clean: dict[str, Any] = clean) -> Any:
            with server.storage.read() as tx:
                return conflict_page(tx, clean, server.clock())

        page = library()
        results[f"conflicts.list {name}"] = {
            "rows": len(page["items"]),
            "total": page["total"],
            "library": _timed(library, repeat),
            "admin": _timed(lambda args=args: call("conflicts.list", args), repeat),
        }
    ids = [rng.randint(1, total) for _ in range(repeat)]

    def detail() -> Any:
        with server.storage.read() as tx:
            return conflict_detail(tx, ids[rng.randrange(len(ids))])

    results["conflicts.get"] = {
        "library": _timed(detail, repeat),
        "admin": _timed(lambda: call("conflicts.get", {"id": rng.choice(ids)}), repeat),
    }
    results["stats.dossiers by month"] = {
        "library": _timed(lambda: server.dossier_stats("month"), repeat),
        "admin": _timed(lambda: call("stats.dossiers", {"period": "month"}), repeat),
    }
    return results


def main(argv: list[str] | None = None) -> int:
    """Seed, time, print (and write ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="an empty server database URL (default: a temp SQLite file)")
    parser.add_argument("--conflicts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'console-bench.db'}"
        server = SyncServer.open(url, init=True)
        try:
            seeded = seed_conflicts(server, args.conflicts)
            print(
                f"seeded {seeded['conflicts']} open conflicts over {seeded['communes']} communes "
                f"({seeded['devices']} devices) in {seeded['seconds']} s on {url.split(':')[0]}"
            )
            timings = time_inbox(server, args.repeat)
        finally:
            server.storage.dispose()
    for name, figures in timings.items():
        rows = f" ({figures['rows']} of {figures['total']})" if "rows" in figures else ""
        lib, admin = figures["library"], figures["admin"]
        print(
            f"{name}{rows}: library {lib['median_ms']} ms (max {lib['max_ms']}), "
            f"POST /admin sealed {admin['median_ms']} ms (max {admin['max_ms']})"
        )
    if args.json:
        args.json.write_text(json.dumps({"seed": seeded, "timings": timings}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
