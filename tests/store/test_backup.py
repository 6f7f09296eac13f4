"""Backup to one encrypted file and restore: refuses wrong passwords and damaged files."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.store.errors import BackupError, WrongPassword
from desktop.store.store import Store
from tests.forms.samples import BIRTH, DEATH, RECEIVED
from tests.store.conftest import PASSWORD


@pytest.fixture
def backup_file(store: Store, tmp_path: Path) -> Path:
    record = store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    store.add_attachment(record.id, b"scan-bytes" * 100, "scan.png", "image/png")
    path = tmp_path / "sao-luu.mcbak"
    assert store.backup(path) == path.stat().st_size
    return path


def test_restore_into_a_new_place(store: Store, backup_file: Path, tmp_path: Path) -> None:
    assert b"Gi\xc3\xa0ng" not in backup_file.read_bytes()
    assert b"015301001234" not in backup_file.read_bytes()
    target = tmp_path / "restored"
    assert Store.restore(backup_file, target, PASSWORD) is None
    with Store.open(target, "lan", PASSWORD) as restored:
        assert restored.count_dossiers() == 1
        hit = restored.search("giang a xa")[0]
        [att] = restored.attachments(hit.id)
        assert restored.attachment_content(att.sha256) == b"scan-bytes" * 100
        assert restored.verify_audit().ok
        assert restored.integrity_check() == ["ok"]


def test_restore_over_a_profile_moves_it_aside(
    store: Store, backup_file: Path, profile_dir: Path
) -> None:
    store.register_dossier("khai_tu", DEATH, received_at=RECEIVED)
    store.close()
    aside = Store.restore(backup_file, profile_dir, PASSWORD)
    assert aside is not None and (aside / "store.db").exists()
    with Store.open(profile_dir, "lan", PASSWORD) as restored:
        assert restored.count_dossiers() == 1
    with Store.open(aside, "lan", PASSWORD) as old:
        assert old.count_dossiers() == 2


def test_wrong_password_writes_nothing(backup_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "restored"
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(WrongPassword):
        Store.restore(backup_file, target, "sai")
    with pytest.raises(WrongPassword):
        Store.restore(backup_file, target, PASSWORD, username="ai")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("where", ["header", "middle", "end", "truncate", "garbage"])
def test_damaged_backup_is_refused_and_nothing_is_written(
    backup_file: Path, tmp_path: Path, where: str
) -> None:
    raw = bytearray(backup_file.read_bytes())
    if where == "header":
        raw[30] ^= 1
    elif where == "middle":
        raw[len(raw) // 2] ^= 1
    elif where == "end":
        raw[-5] ^= 1
    elif where == "truncate":
        raw = raw[: len(raw) - 100]
    else:
        raw = bytearray(b"not a backup at all")
    bad = tmp_path / "bad.mcbak"
    bad.write_bytes(bytes(raw))
    target = tmp_path / "restored"
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises((BackupError, WrongPassword)):
        Store.restore(bad, target, PASSWORD)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
