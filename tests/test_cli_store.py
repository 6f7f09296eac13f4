"""The `motcua` store commands: exit codes, messages, nothing half-written, docs in step."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from desktop import cli
from desktop.store.store import Store
from tests.forms.samples import BIRTH, RECEIVED, SAMPLES

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "mk-cli"


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_SCRYPT_LOG2N", "10")
    monkeypatch.setenv("MOTCUA_PASSWORD", PASSWORD)
    monkeypatch.delenv("MOTCUA_USER", raising=False)
    monkeypatch.delenv("MOTCUA_PROFILE", raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    target = tmp_path / "p"
    code, out, _ = run(
        capsys,
        "--profile",
        str(target),
        "init",
        "--commune",
        "02701",
        "--username",
        "lan",
        "--full-name",
        "Nguyễn Thị Lan",
    )
    assert code == 0 and "02701" in out
    return target


def _import_file(tmp_path: Path, lines: list[object], name: str = "in.jsonl") -> Path:
    path = tmp_path / name
    path.write_text(
        "\n".join(json.dumps(x, ensure_ascii=False) if not isinstance(x, str) else x for x in lines)
        + "\n",
        encoding="utf-8",
    )
    return path


def _good_lines() -> list[object]:
    return [
        {"procedure": code, "received_at": RECEIVED.isoformat(), "data": data}
        for code, data in SAMPLES.items()
    ]


def test_import_search_export_round_trip(
    profile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _import_file(tmp_path, _good_lines())
    code, out, err = run(capsys, "--profile", str(profile), "import", str(path))
    assert code == 0, err
    saved = [line.split()[1] for line in out.splitlines() if line.startswith("saved ")]
    assert len(saved) == 4
    code, out, _ = run(capsys, "--profile", str(profile), "search", "giang a xa")
    assert code == 0 and "Giàng A Xà" in out and "khai_sinh" in out
    code, out, _ = run(capsys, "--profile", str(profile), "search", "--json", "lo van duc")
    assert json.loads(out.splitlines()[0])["procedure"] == "khai_tu"
    code, out, _ = run(capsys, "--profile", str(profile), "export", "--json")
    exported = [json.loads(line) for line in out.splitlines()]
    assert sorted(e["id"] for e in exported) == sorted(saved)
    # An export imports again into another profile and gives the same data.
    other = tmp_path / "q"
    assert run(capsys, "--profile", str(other), "init", "--commune", "02701")[0] == 0
    again = _import_file(
        tmp_path,
        [{k: e[k] for k in ("procedure", "received_at", "data")} for e in exported],
        "again.jsonl",
    )
    assert run(capsys, "--profile", str(other), "import", str(again))[0] == 0
    with Store.open(other, "admin", PASSWORD) as store:

        def key(data: dict) -> str:
            return json.dumps(data, sort_keys=True, ensure_ascii=False)

        assert sorted(key(r.data) for r in store.iter_dossiers()) == sorted(
            key(e["data"]) for e in exported
        )
    # Re-running the same import skips what is there: nothing twice.
    code, out, _ = run(capsys, "--profile", str(profile), "import", str(path))
    assert code == 0 and out.count("skipped line") == 4


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "line 3"),
        ('["a list"]', "JSON object"),
        ({"procedure": "khai_sinh"}, "'data'"),
        ({"procedure": "nope", "data": {}}, "procedure"),
        (
            {"procedure": "khai_sinh", "data": dict(BIRTH, tre_ngay_sinh="2099-01-01")},
            "tre_ngay_sinh",
        ),
        ({"procedure": "khai_sinh", "data": BIRTH, "received_at": "hôm qua"}, "line 3"),
        ({"procedure": "khai_sinh", "data": BIRTH, "extra": 1}, "unknown keys"),
    ],
)
def test_a_bad_line_imports_nothing(
    profile: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    bad_line: object,
    message: str,
) -> None:
    lines = _good_lines()[1:3] + [bad_line] + _good_lines()[3:]
    code, out, err = run(
        capsys, "--profile", str(profile), "import", str(_import_file(tmp_path, lines))
    )
    assert code == 1
    assert "line 3" in err and message in err and "nothing was imported" in err
    assert "saved" not in out
    with Store.open(profile, "lan", PASSWORD) as store:
        assert store.count_dossiers() == 0 and store.all_changes() == []


def test_duplicates_in_the_file_or_store_are_refused_unless_allowed(
    profile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    twice = _import_file(tmp_path, [_good_lines()[0], _good_lines()[0]])
    code, _, err = run(capsys, "--profile", str(profile), "import", str(twice))
    assert code == 1 and "duplicate" in err
    once = _import_file(tmp_path, [_good_lines()[0]], "once.jsonl")
    assert run(capsys, "--profile", str(profile), "import", str(once))[0] == 0
    retyped = dict(_good_lines()[0], received_at="2026-03-10T10:00:00")  # type: ignore[arg-type]
    again = _import_file(tmp_path, [retyped], "again.jsonl")
    code, _, err = run(capsys, "--profile", str(profile), "import", str(again))
    assert code == 1 and "likely duplicate" in err
    code, _, _ = run(capsys, "--profile", str(profile), "import", "--allow-duplicates", str(again))
    assert code == 0


def test_users_and_acting_clerk(
    profile: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTCUA_NEW_PASSWORD", "mk-hoa")
    code, out, _ = run(
        capsys, "--profile", str(profile), "users", "add", "hoa", "--full-name", "Lò Thị Hoa"
    )
    assert code == 0 and "hoa" in out
    # Two clerks now: who acts must be said.
    code, _, err = run(capsys, "--profile", str(profile), "users", "list")
    assert code == 1 and "--username" in err
    code, out, _ = run(capsys, "--profile", str(profile), "--username", "lan", "users", "list")
    assert code == 0 and "Lò Thị Hoa" in out and "admin" in out
    monkeypatch.setenv("MOTCUA_USER", "hoa")
    monkeypatch.setenv("MOTCUA_PASSWORD", "mk-hoa")
    assert run(capsys, "--profile", str(profile), "verify-audit")[0] == 0
    code, _, err = run(capsys, "--profile", str(profile), "users", "add", "hoa")
    assert code == 1 and "already exists" in err


def test_errors_have_clear_messages_and_exit_codes(
    profile: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _, err = run(capsys, "--profile", str(profile), "frobnicate")
    assert code == 2 and "invalid choice" in err
    code, _, err = run(capsys, "--profile", str(profile), "init", "--commune", "02701")
    assert code == 1 and "not empty" in err
    code, _, err = run(capsys, "--profile", str(tmp_path / "x"), "init", "--commune", "27")
    assert code == 1 and "5 digits" in err
    code, _, err = run(capsys, "--profile", str(tmp_path / "none"), "search", "a")
    assert code == 1 and "error:" in err
    code, _, err = run(capsys, "--profile", str(profile), "import", str(tmp_path / "missing"))
    assert code == 1 and "cannot read" in err
    monkeypatch.setenv("MOTCUA_PASSWORD", "sai")
    code, _, err = run(capsys, "--profile", str(profile), "search", "a")
    assert code == 1 and "wrong username or password" in err
    monkeypatch.delenv("MOTCUA_PASSWORD")
    code, _, err = run(capsys, "--profile", str(profile), "search", "a")
    assert code == 1 and "MOTCUA_PASSWORD" in err
    assert run(capsys)[0] == 2


def test_backup_restore_and_verify_audit(
    profile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "--profile", str(profile), "import", str(_import_file(tmp_path, _good_lines())))
    bak = tmp_path / "b.mcbak"
    code, out, _ = run(capsys, "--profile", str(profile), "backup", str(bak))
    assert code == 0 and bak.exists()
    target = tmp_path / "restored"
    code, out, _ = run(capsys, "--profile", str(target), "restore", str(bak))
    assert code == 0 and "restored" in out
    code, out, _ = run(capsys, "--profile", str(target), "verify-audit")
    assert code == 0 and "audit log ok" in out
    with Store.open(target, "lan", PASSWORD) as store:
        assert store.count_dossiers() == 4
        store._writer.execute(  # noqa: SLF001 - tamper like an attacker holding the key
            lambda c: c.execute("UPDATE audit SET summary = 'x' WHERE seq = 2")
        )
    code, _, err = run(capsys, "--profile", str(target), "verify-audit")
    assert code == 1 and "broken at entry 2" in err
    code, _, err = run(capsys, "--profile", str(tmp_path / "r2"), "restore", str(tmp_path / "none"))
    assert code == 1 and "cannot read" in err


def test_a_provincial_profile_is_made_and_enrolled_as_an_operator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.console.stub_server import StubServer

    target = tmp_path / "tinh"
    args = ("--profile", str(target))
    code, _, err = run(capsys, *args, "init", "--username", "an")
    assert code == 2 and "--commune" in err and "--province" in err  # one of the two
    code, _, err = run(capsys, *args, "init", "--province", "--commune", "02701")
    assert code == 2 and "not allowed with" in err
    code, out, _ = run(
        capsys, *args, "init", "--province", "--username", "an", "--full-name", "Nguyễn Văn An"
    )
    assert code == 0 and "for provincial IT" in out
    with Store.open(target, "an", PASSWORD) as store:
        assert store.config.role == "province" and store.commune == ""

    stub = StubServer()
    stub.start()
    try:
        stub.add_code("7K2QD-M4XTA", "Nguyễn Văn An")
        enrol = ("console-enrol", "--server", stub.url, "--label", "PC CNTT")
        code, _, err = run(capsys, *args, *enrol, "--code", "AAAAA-AAAAA")
        assert code == 1 and "error: operator enrolment refused" in err and "wrong" in err
        code, out, err = run(capsys, *args, *enrol, "--code", "7k2qd-m4xta")
        assert code == 0, err
        assert "as Nguyễn Văn An" in out and f"server {stub.url}" in out
    finally:
        stub.stop()
    commune = ("--profile", str(tmp_path / "p"))
    assert run(capsys, *commune, "init", "--commune", "02701", "--username", "lan")[0] == 0
    code, _, err = run(capsys, *commune, *enrol, "--code", "7K2QD-M4XTA")
    assert code == 1 and "provincial profile" in err


def test_every_command_is_documented() -> None:
    text = (ROOT / "docs" / "store.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`motcua [^`]*?\b([a-z][a-z-]+)\b", text))
    help_text = cli.build_parser().format_help()
    for name in cli.COMMANDS:
        assert f"motcua {name}" in text or name in documented, f"{name} missing from docs/store.md"
        assert name in help_text
    assert (ROOT / "docs" / "import-format.md").exists()
