"""Provincial IT's profile: a store whose config role is ``province``, with no commune.

Its writer, key slots and audit log work as a commune's; profiles from before the console
(no role in config.json) are communes; a role or commune that makes no sense is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.store import profile
from desktop.store.console_store import ConsoleStore
from desktop.store.errors import StoreError, WrongPassword
from desktop.store.store import Store
from tests.store.conftest import PASSWORD


def _province(path: Path, **extra: object) -> Store:
    options: dict = {"commune": "", "username": "an", "password": PASSWORD}
    options.update(extra)
    return Store.create(path, full_name="Nguyễn Văn An", role="province", **options)


def test_a_provincial_profile_works_like_a_communes(profile_dir: Path) -> None:
    with _province(profile_dir) as store:
        assert store.config.role == "province" and store.commune == ""
        store.add_clerk("binh", "mật-khẩu-bình", "Trần Văn Bình")
        assert ConsoleStore(store).role == "province"
        assert ConsoleStore(store).operator_id == store.device_id
        assert store.verify_audit().entries == 3  # profile.create, clerk.add an, clerk.add binh
    with Store.open(profile_dir, "binh", "mật-khẩu-bình") as store:
        assert store.config.role == "province"
        assert store.verify_audit().ok
        first = store.read(
            lambda c: c.execute("SELECT summary FROM audit WHERE seq = 1").fetchone()
        )
        assert first[0].startswith("province device ")
    with pytest.raises(WrongPassword):
        Store.open(profile_dir, "an", "sai")
    config = json.loads((profile_dir / "config.json").read_text("utf-8"))
    assert config["role"] == "province" and config["commune"] == ""


def test_a_commune_profile_says_so(store: Store) -> None:
    assert store.config.role == "commune"
    config = json.loads((store.profile_dir / "config.json").read_text("utf-8"))
    assert config["role"] == "commune"


def test_an_old_profile_without_a_role_is_a_commune(store: Store, profile_dir: Path) -> None:
    store.close()
    path = profile_dir / "config.json"
    config = json.loads(path.read_text("utf-8"))
    del config["role"]
    path.write_text(json.dumps(config), "utf-8")
    with Store.open(profile_dir, "lan", PASSWORD) as reopened:
        assert reopened.config.role == "commune"
        assert reopened.commune == "02701"


def test_a_config_with_an_unknown_role_is_moved_aside(store: Store, profile_dir: Path) -> None:
    store.close()
    path = profile_dir / "config.json"
    config = json.loads(path.read_text("utf-8"))
    path.write_text(json.dumps({**config, "role": "district"}), "utf-8")
    with pytest.raises(StoreError, match="corrupt"):
        profile.load_config(profile_dir)
    assert (profile_dir / "config.json.corrupt").exists()


def test_roles_and_communes_that_make_no_sense_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="role"):
        Store.create(
            tmp_path / "a",
            commune="02701",
            username="an",
            password=PASSWORD,
            full_name="An",
            role="district",
        )
    with pytest.raises(StoreError, match="commune"):
        _province(tmp_path / "b", commune="27")
    with pytest.raises(StoreError, match="commune"):
        Store.create(tmp_path / "c", commune="", username="an", password=PASSWORD, full_name="An")
    assert not (tmp_path / "a").exists() and not (tmp_path / "c").exists()
    with _province(tmp_path / "d", commune="02701") as scoped:  # a province IT PC at a commune
        assert scoped.commune == "02701" and scoped.config.role == "province"
