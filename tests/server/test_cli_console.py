"""``motcua-server`` commands for every console action, for scripts: their output and errors."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.service import SyncServer
from tests.server.fake_device import FakeDevice, asgi_post
from tests.server.fake_operator import FakeOperator
from tests.server.test_cli import run
from tests.server.test_sync import BIRTH


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert run(capsys, "--db", url, "init")[0] == 0
    return url


@pytest.fixture
def client(db: str) -> Iterator[TestClient]:
    server = SyncServer.open(db)
    with TestClient(create_app(server)) as c:
        yield c
    server.storage.dispose()


def _device(client: TestClient, db: str, commune: str = "02701") -> FakeDevice:
    device = FakeDevice(asgi_post(client), commune=commune, label=f"PC {commune}")
    server = SyncServer.open(db)
    device.enrol(server.issue_code(commune))
    server.storage.dispose()
    return device


def _conflicts(client: TestClient, db: str) -> tuple[FakeDevice, str]:
    """A field conflict (#1) in 02701, then the same birth in 04465: a duplicate (#2)."""
    a, b = _device(client, db), _device(client, db)
    dates = {"received_at": "2026-03-02T08:00:00", "due_at": "2099-12-31"}
    rid = a.create({**BIRTH, **dates, "dossier_no": "02701-KS-0001"})
    a.sync()
    b.sync()
    a.edit(rid, **{"data.tre_ten": "Pao"})
    b.edit(rid, **{"data.tre_ten": "Pàu", "data.tre_noi_sinh": "Tại nhà"})
    a.sync()
    b.sync()
    elsewhere = _device(client, db, "04465")
    elsewhere.create({**BIRTH, **dates})
    elsewhere.sync()
    return a, rid


def test_the_inbox_from_the_command_line(
    capsys: pytest.CaptureFixture[str], db: str, client: TestClient
) -> None:
    a, rid = _conflicts(client, db)
    out = run(capsys, "--db", db, "conflicts", "--kind", "field")[1]
    assert out.startswith("#1 field open") and "#2" not in out
    assert run(capsys, "--db", db, "conflicts", "--commune", "04465")[1].startswith("#2 duplicate")
    listed = json.loads(run(capsys, "--db", db, "conflicts", "--json", "--limit", "1")[1])
    assert [c["id"] for c in listed] == [1]
    assert run(capsys, "--db", db, "conflicts", "--status", "resolved")[1] == "no conflicts\n"

    code, out, _ = run(capsys, "--db", db, "conflict", "1")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"#1 field open commune 02701 khai_sinh {rid} — Giàng A Pao")
    assert any(line.startswith("  incoming") and "PC 02701" in line for line in lines)
    [name_row] = [line for line in lines if "data.tre_ten" in line]
    assert name_row.split()[:3] == ["!", "data.tre_ten", "Tên"]
    assert "'Páo'" in name_row and "'Pao'" in name_row and "'Pàu'" in name_row
    [place_row] = [line for line in lines if "data.tre_noi_sinh" in line]
    assert place_row.startswith("*") and "Nơi sinh" in place_row
    detail = json.loads(run(capsys, "--db", db, "conflict", "1", "--json")[1])
    assert detail["fields"][0]["field"] == "data.tre_ten"

    code, _out, err = run(
        capsys,
        "--db",
        db,
        "resolve",
        "1",
        "--choose",
        "data.tre_noi_sinh=incoming",
        "--reason",
        "x",
    )
    assert code == 1 and "error: --choose must decide every clashing field: data.tre_ten" in err
    for bad, message in (
        (["--choose", "data.tre_ten=sideways"], "--choose expects FIELD=current|incoming"),
        (["--choose", "data.tre_ten=incoming", "--take", "current"], "--take takes no side"),
    ):
        code, _out, err = run(capsys, "--db", db, "resolve", "1", *bad, "--reason", "x")
        assert code == 1 and message in err, err
    code, out, _ = run(
        capsys,
        "--db",
        db,
        "resolve",
        "1",
        "--choose",
        "data.tre_ten=incoming",
        "--take",
        "data.tre_noi_sinh=Trạm y tế",
        "--reason",
        "theo giấy chứng sinh",
    )
    assert code == 0 and "resolved by change" in out and "(record version 3)" in out
    a.sync_all()
    assert a.records[rid]["values"]["data.tre_ten"] == "Pàu"
    assert a.records[rid]["values"]["data.tre_noi_sinh"] == "Trạm y tế"
    out = run(capsys, "--db", db, "conflict", "1")[1]
    assert "resolved by provincial-it" in out and "theo giấy chứng sinh" in out
    history = run(capsys, "--db", db, "history", rid)[1].splitlines()
    assert history[0].split()[:3] == ["VERSION", "SEQ", "KIND"]
    assert [line.split()[2] for line in history[1:]] == ["change", "change", "resolution"]
    assert "'Pao'" in history[2]  # the losing value stays
    assert len(json.loads(run(capsys, "--db", db, "history", rid, "--json")[1])) == 3


def test_duplicates_health_stats_and_devices(
    capsys: pytest.CaptureFixture[str], db: str, client: TestClient
) -> None:
    a, _rid = _conflicts(client, db)
    a.sync(report={"pending": 4, "app_version": "0.2.0", "last_error": "offline"})
    out = run(capsys, "--db", db, "duplicate", "2")[1]
    assert out.startswith("#2 suspected duplicate")
    assert "matched: data.tre_ho, data.tre_chu_dem, data.tre_ten" in out
    evidence = json.loads(run(capsys, "--db", db, "duplicate", "2", "--json")[1])
    assert evidence["a"]["commune"] == "04465"
    code, _out, err = run(
        capsys, "--db", db, "decide-duplicate", "1", "--decision", "keep_both", "--reason", "x"
    )
    assert code == 1 and "error: conflict 1 is not a suspected duplicate" in err
    code, out, _ = run(
        capsys,
        "--db",
        db,
        "decide-duplicate",
        "2",
        "--decision",
        "keep_both",
        "--reason",
        "sinh đôi",
    )
    assert code == 0 and out.strip() == "conflict 2 closed (both records kept)"

    health = json.loads(run(capsys, "--db", db, "health", "--json")[1])
    assert len(health) == 99
    table = run(capsys, "--db", db, "health")[1].splitlines()
    assert table[0].split()[:2] == ["COMMUNE", "DEVICES"] and len(table) == 100
    [y_ty] = [line for line in table if line.startswith("02701")]
    assert y_ty.split()[1] == "2" and y_ty.endswith("Xã Y Tý")

    rows = list(
        csv.DictReader(
            io.StringIO(run(capsys, "--db", db, "stats", "--period", "month", "--csv")[1])
        )
    )
    assert sum(int(r["count"]) for r in rows) == 2 and rows[0]["processing"] == "open"
    assert json.loads(run(capsys, "--db", db, "stats", "--period", "week", "--json")[1])
    assert "PROCESSING" in run(capsys, "--db", db, "stats", "--period", "week")[1]
    code, _out, err = run(capsys, "--db", db, "stats", "--period", "week", "--since", "1/3/2026")
    assert code == 1 and "--since must be a date" in err

    out = run(capsys, "--db", db, "devices")[1].splitlines()
    assert "PENDING" in out[0] and "REJECTED" in out[0]
    [mine] = [line for line in out if line.startswith(a.device_id)]
    assert "0.2.0" in mine and "offline" in mine
    [info] = [
        d
        for d in json.loads(run(capsys, "--db", db, "devices", "--json")[1])
        if d["device_id"] == a.device_id
    ]
    assert (info["pending_reported"], info["last_device_seq"], info["commune_name"]) == (
        4,
        2,
        "Xã Y Tý",
    )


def test_operators_from_the_command_line(
    capsys: pytest.CaptureFixture[str], db: str, client: TestClient
) -> None:
    code, out, _ = run(capsys, "--db", db, "operator-code", "--name", "Nguyễn Văn An")
    assert code == 0 and "for Nguyễn Văn An" in out
    console = FakeOperator(asgi_post(client))
    console.enrol(out.strip().splitlines()[-1])
    assert console.name == "Nguyễn Văn An"
    out = run(capsys, "--db", db, "operators")[1]
    assert console.operator_id in out and "active" in out and out.rstrip().endswith("Nguyễn Văn An")
    [listed] = json.loads(run(capsys, "--db", db, "operators", "--json")[1])
    assert listed["operator_id"] == console.operator_id
    code, out, _ = run(
        capsys, "--db", db, "revoke-operator", console.operator_id, "--reason", "nghỉ việc"
    )
    assert code == 0 and "revoked" in out
    assert json.loads(run(capsys, "--db", db, "operators", "--json")[1])[0]["status"] == "revoked"
    for args, message in (
        (["revoke-operator", "nobody", "--reason", "x"], "no operator 'nobody'"),
        (["revoke-operator", console.operator_id, "--reason", " "], "--reason is required"),
        (["operator-code", "--name", " "], "--name must be the operator's name"),
        (["operator-code", "--name", "An", "--ttl-hours", "-1"], "--ttl-hours must be positive"),
        (["conflict", "7"], "no conflict 7"),
        (["history", "nothing"], "no record 'nothing'"),
    ):
        code, _out, err = run(capsys, "--db", db, *args)
        assert code == 1 and err.startswith("error:") and message in err, (args, err)
    assert run(capsys, "--db", db, "operators")[1].count("\n") == 2
