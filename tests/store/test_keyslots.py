"""Key slots: passwords, clerks, recovery; a wrong password never touches the files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from desktop.store import keyslots
from desktop.store.errors import ProfileExists, ProfileNotFound, StoreError, WrongPassword
from desktop.store.store import Store
from tests.forms.samples import BIRTH, RECEIVED
from tests.store.conftest import PASSWORD


def _digests(profile_dir: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(profile_dir.iterdir())
        if p.is_file()
    }


def test_wrong_password_is_refused_and_no_file_changes(store: Store, profile_dir: Path) -> None:
    store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    store.close()
    before = _digests(profile_dir)
    for user, password in [("lan", "sai"), ("lan", ""), ("ai-do", PASSWORD)]:
        with pytest.raises(WrongPassword, match="wrong username or password"):
            Store.open(profile_dir, user, password)
    assert _digests(profile_dir) == before
    with Store.open(profile_dir, "lan", PASSWORD) as again:
        assert again.count_dossiers() == 1


def test_missing_profile_and_existing_target(
    tmp_path: Path, store: Store, profile_dir: Path
) -> None:
    with pytest.raises(ProfileNotFound):
        Store.open(tmp_path / "nowhere", "lan", PASSWORD)
    with pytest.raises(ProfileExists):
        Store.create(profile_dir, commune="02701", username="x", password="p", full_name="X")


@pytest.mark.parametrize(
    ("commune", "username", "password", "full_name"),
    [
        ("2701", "lan", "p", "Lan"),
        ("02701", "Lan Anh", "p", "Lan"),
        ("02701", "lan", "", "Lan"),
        ("02701", "lan", "p", " "),
    ],
)
def test_create_refuses_bad_input_and_leaves_nothing(
    tmp_path: Path, commune: str, username: str, password: str, full_name: str
) -> None:
    target = tmp_path / "p"
    with pytest.raises(StoreError):
        Store.create(
            target, commune=commune, username=username, password=password, full_name=full_name
        )
    assert list(tmp_path.iterdir()) == []


def test_adding_a_clerk_does_not_reencrypt_the_data(store: Store, profile_dir: Path) -> None:
    record = store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    slot_before = json.loads((profile_dir / "keyslots.json").read_text())["slots"][0]
    store.add_clerk("hoa", "mk-hoa", "Lò Thị Hoa")
    assert [c.username for c in store.clerks()] == ["hoa", "lan"]
    store.close()
    slots = json.loads((profile_dir / "keyslots.json").read_text())["slots"]
    assert slots[0] == slot_before  # lan's slot untouched: same wrapped key
    with Store.open(profile_dir, "hoa", "mk-hoa") as hoa:
        assert hoa.get_dossier(record.id).record == record.record
        assert hoa.clerk == "hoa"
        hoa.remove_clerk("lan")
        with pytest.raises(StoreError, match="last clerk"):
            hoa.remove_clerk("hoa")
    with pytest.raises(WrongPassword):
        Store.open(profile_dir, "lan", PASSWORD)
    assert Store.profile_usernames(profile_dir) == ["hoa"]


def test_adding_an_existing_clerk_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="already exists"):
        store.add_clerk("lan", "x", "Lan")
    with pytest.raises(StoreError):
        store.add_clerk("Bad Name", "x", "Bad")


def test_slot_records_its_kdf_parameters_and_no_secret(store: Store, profile_dir: Path) -> None:
    raw = (profile_dir / "keyslots.json").read_text()
    slot = json.loads(raw)["slots"][0]
    assert (slot["kdf"], slot["n"], slot["r"], slot["p"]) == ("scrypt", 2**10, 8, 1)
    assert "Nguyễn" not in raw and PASSWORD not in raw
    assert store._key.hex() not in raw  # noqa: SLF001 - the key is only there wrapped


def test_default_scrypt_cost_is_the_tuned_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOTCUA_SCRYPT_LOG2N")
    assert keyslots._log2n() == keyslots.DEFAULT_LOG2N == 16  # noqa: SLF001


def test_recovery_slot_opens_the_store(tmp_path: Path) -> None:
    private, public = keyslots.generate_recovery_keypair()
    target = tmp_path / "p"
    with Store.create(
        target,
        commune="02701",
        username="lan",
        password="p",
        full_name="Lan",
        recovery_public_key=public,
    ) as s:
        record = s.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    with Store.open_with_recovery(target, private) as rescued:
        assert rescued.get_dossier(record.id).record == record.record
        rescued.add_clerk("moi", "mat-khau-moi", "Người mới")
    with Store.open(target, "moi", "mat-khau-moi") as s:
        assert s.count_dossiers() == 1
    other_private, _ = keyslots.generate_recovery_keypair()
    with pytest.raises(WrongPassword):
        Store.open_with_recovery(target, other_private)


def test_no_recovery_slot(store: Store, profile_dir: Path) -> None:
    private, _ = keyslots.generate_recovery_keypair()
    store.close()
    with pytest.raises(WrongPassword, match="no recovery slot"):
        Store.open_with_recovery(profile_dir, private)


def test_slot_cannot_be_moved_to_another_name(tmp_path: Path) -> None:
    slots = keyslots.KeySlots(tmp_path / "k.json")
    key = keyslots.new_database_key()
    slots.add_password_slot("lan", "pw", key)
    slots.slots[0]["username"] = "hoa"
    with pytest.raises(WrongPassword):
        slots.unlock("hoa", "pw")
