"""``motcua-server``: every command, its errors, and docs/operations.md staying in step."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.cli import COMMANDS, argument_message, main
from server.errors import BadAssignment, NothingChosen, ResolutionError
from server.service import SyncServer
from tests.server.fake_device import FakeDevice, asgi_post
from tests.server.test_sync import BIRTH

ROOT = Path(__file__).resolve().parents[2]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_full_admin_cycle(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    code, out, _ = run(capsys, "--db", db, "init")
    assert code == 0 and "0001_initial" in out and "server key id" in out
    code, out, _ = run(capsys, "--db", db, "init")
    assert "already up to date" in out

    code, out, _ = run(capsys, "--db", db, "enrol-code", "--commune", "02701")
    enrol_code = out.strip().splitlines()[-1]
    assert code == 0 and re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", enrol_code)

    server = SyncServer.open(db)
    with TestClient(create_app(server)) as client:
        a, b = FakeDevice(asgi_post(client)), FakeDevice(asgi_post(client))
        a.enrol(enrol_code)
        b.enrol(run(capsys, "--db", db, "enrol-code", "--commune", "02701")[1].split()[-1])
        rid = a.create(dict(BIRTH))
        a.sync()
        b.sync()
        a.edit(rid, **{"data.tre_ten": "Pao"})
        b.edit(rid, **{"data.tre_ten": "Pàu"})
        a.sync()
        b.sync()

        code, out, _ = run(capsys, "--db", db, "devices")
        assert a.device_id in out and "active" in out
        code, out, _ = run(capsys, "--db", db, "devices", "--json")
        assert {d["device_id"] for d in json.loads(out)} == {a.device_id, b.device_id}

        code, out, _ = run(capsys, "--db", db, "conflicts")
        assert "#1 field open" in out and "incoming='Pàu'" in out
        [conflict] = json.loads(run(capsys, "--db", db, "conflicts", "--json")[1])
        code, out, _ = run(
            capsys,
            "--db",
            db,
            "resolve",
            str(conflict["id"]),
            "--take",
            "data.tre_ten=Pàu",
            "--reason",
            "theo giấy chứng sinh",
        )
        assert code == 0 and "resolved by change" in out
        a.sync()
        assert a.records[rid]["values"]["data.tre_ten"] == "Pàu"
        assert run(capsys, "--db", db, "conflicts")[1].strip() == "no open conflicts"

        code, out, _ = run(capsys, "--db", db, "stats", "--json")
        stats = json.loads(out)
        assert stats["devices"] == 2 and stats["conflicts_open"] == 0
        assert "02701" in stats["last_sync_by_commune"]
        assert "open conflicts: 0" in run(capsys, "--db", db, "stats")[1]

        code, out, _ = run(capsys, "--db", db, "revoke", b.device_id, "--reason", "PC hỏng")
        assert code == 0
        assert "revoked" in run(capsys, "--db", db, "devices")[1]
        code, out, _ = run(capsys, "--db", db, "new-epoch")
        assert code == 0 and "new epoch" in out
    server.storage.dispose()


def test_errors_are_one_clear_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    run(capsys, "--db", db, "init")
    cases = [
        (["--db", db, "enrol-code", "--commune", "27"], "5-digit"),
        (["--db", db, "revoke", "nobody"], "no device"),
        (["--db", db, "resolve", "9", "--take", "current", "--reason", "x"], "no conflict"),
        (["--db", "mysql://x/y", "stats"], "unsupported database"),
        (["--db", f"sqlite:///{tmp_path / 'missing' / 'x.db'}", "stats"], "does not exist"),
        (["--db", f"sqlite:///{tmp_path / 'blank.db'}", "stats"], "init"),
    ]
    for args, message in cases:
        code, _out, err = run(capsys, *args)
        assert code != 0, args
        assert err.startswith("error:") and message in err, err
        assert "Traceback" not in err


def test_argument_errors_are_worded_as_options(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    run(capsys, "--db", db, "init")
    cases = [
        (["enrol-code", "--commune", "02701", "--ttl-hours", "0"], "--ttl-hours must be positive"),
        (["resolve", "1", "--take", "current", "--reason", " "], "--reason is required"),
    ]
    for args, message in cases:
        code, _out, err = run(capsys, "--db", db, *args)
        assert code == 1 and f"error: {message}" in err.splitlines(), err
    assert argument_message(NothingChosen()) == "give --take or FIELD=VALUE assignments"
    assert argument_message(BadAssignment()) == "assignment needs FIELD=VALUE"
    wrong_side = ResolutionError("take", "must be current or incoming")
    assert argument_message(wrong_side) == "--take must be current or incoming"


def test_every_command_is_documented() -> None:
    doc = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for name in COMMANDS:
        assert f"### `{name}" in doc, f"docs/operations.md does not document `{name}`"
