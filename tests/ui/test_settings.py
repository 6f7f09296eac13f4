"""Settings: the JSON file (corrupt files moved aside) and the settings screen, which persists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.store.profile import load_config
from desktop.ui.settings import SETTINGS_FILE, Settings, move_server_url_to_profile
from desktop.ui.settings_screen import SettingsScreen, validate

# -- the settings file --------------------------------------------------------------------------


def test_defaults_when_there_is_no_file(tmp_path: Path) -> None:
    settings = Settings.load(tmp_path)
    assert settings == Settings()
    assert settings.path == tmp_path / SETTINGS_FILE


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    settings = Settings.load(tmp_path)
    settings.update(
        {
            "signer_name": " Lò Văn Minh ",
            "sync_interval_min": 15,
            "printer": "Canon LBP2900",
            "date_words_mung": False,
            "date_words_zero_tens": "lẻ",
            "theme": "bootstrap-dark",
            "idle_lock_minutes": 3,
        }
    )
    settings.save()
    again = Settings.load(tmp_path)
    assert again.signer_name == "Lò Văn Minh"
    assert (again.sync_interval_min, again.printer, again.theme) == (
        15,
        "Canon LBP2900",
        "bootstrap-dark",
    )
    assert again.date_words_mung is False and again.date_words_zero_tens == "lẻ"
    assert json.loads((tmp_path / SETTINGS_FILE).read_text("utf-8"))["printer"] == "Canon LBP2900"


def test_corrupt_file_is_moved_aside_not_fatal(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_FILE).write_text('{"server_url": "https://x', encoding="utf-8")
    settings = Settings.load(tmp_path)
    assert settings == Settings()
    assert not (tmp_path / SETTINGS_FILE).exists()
    aside = list(tmp_path.glob(f"{SETTINGS_FILE}.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text("utf-8").startswith('{"server_url"')
    settings.save()  # and the app can write a fresh one
    assert Settings.load(tmp_path) == Settings()


def test_a_json_list_is_treated_as_corrupt(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_FILE).write_text("[1, 2]", encoding="utf-8")
    assert Settings.load(tmp_path) == Settings()
    assert list(tmp_path.glob("*.corrupt-*"))


def test_bad_values_fall_back_one_by_one(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_FILE).write_text(
        json.dumps(
            {
                "sync_interval_min": 0,
                "date_words_zero_tens": "le",
                "printer": "HP",
                "idle_lock_minutes": "5",
                "unknown": 1,
            }
        ),
        encoding="utf-8",
    )
    settings = Settings.load(tmp_path)
    assert settings.printer == "HP"
    assert settings.sync_interval_min == Settings().sync_interval_min
    assert settings.date_words_zero_tens == "linh"
    assert settings.idle_lock_minutes == Settings().idle_lock_minutes


def test_the_server_address_is_not_a_setting(tmp_path: Path) -> None:
    settings = Settings.load(tmp_path)
    assert settings.update({"server_url": "https://dongbo.laocai.gov.vn"}) == []
    settings.save()
    assert "server_url" not in json.loads((tmp_path / SETTINGS_FILE).read_text("utf-8"))


def test_an_old_settings_file_with_a_server_address_still_loads(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_FILE).write_text(
        json.dumps({"server_url": "https://dongbo.laocai.gov.vn", "printer": "HP"}),
        encoding="utf-8",
    )
    settings = Settings.load(tmp_path)
    assert settings.printer == "HP"
    assert not hasattr(settings, "server_url")
    assert not list(tmp_path.glob("*.corrupt-*"))


def test_an_old_server_address_moves_into_the_profile_config_once(store, profile_dir) -> None:
    (profile_dir / SETTINGS_FILE).write_text(
        json.dumps({"server_url": " https://dongbo.laocai.gov.vn ", "printer": "HP"}),
        encoding="utf-8",
    )
    assert move_server_url_to_profile(profile_dir, store) is True
    assert store.config.server_url == "https://dongbo.laocai.gov.vn"
    assert load_config(profile_dir).server_url == "https://dongbo.laocai.gov.vn"
    kept = json.loads((profile_dir / SETTINGS_FILE).read_text("utf-8"))
    assert "server_url" not in kept and kept["printer"] == "HP"
    assert move_server_url_to_profile(profile_dir, store) is False  # once


def test_the_enrolled_address_wins_over_an_old_settings_file(store, profile_dir) -> None:
    store.update_config(server_url="http://10.15.0.2:8080")
    (profile_dir / SETTINGS_FILE).write_text(
        json.dumps({"server_url": "https://cu.laocai.gov.vn"}), encoding="utf-8"
    )
    assert move_server_url_to_profile(profile_dir, store) is False
    assert load_config(profile_dir).server_url == "http://10.15.0.2:8080"
    assert "server_url" not in json.loads((profile_dir / SETTINGS_FILE).read_text("utf-8"))


def test_validate_messages_are_vietnamese() -> None:
    ok = {"server_url": "", "sync_interval_min": 5, "idle_lock_minutes": 10}
    assert validate(ok) == {}
    errors = validate({"server_url": "laocai", "sync_interval_min": None, "idle_lock_minutes": -1})
    assert set(errors) == {"server_url", "sync_interval_min", "idle_lock_minutes"}
    assert "http://" in errors["server_url"]


# -- the settings screen ---------------------------------------------------------------------


@pytest.mark.gui
def test_settings_screen_saves_and_values_persist(gui, services, profile_dir: Path) -> None:
    screen = SettingsScreen(gui.root, services)
    screen.pack(fill="both", expand=True)
    screen.on_show()
    gui.pump(0.1)
    assert "mùng năm" in screen.preview.cget("text")  # default: mùng, linh
    assert "không trăm linh năm" in screen.preview.cget("text")

    gui.focus(screen.server_entry)
    gui.press_keys("ctrl+a", "BackSpace")
    gui.type_text(screen.server_entry, "https://dongbo.laocai.gov.vn")
    gui.focus(screen.interval_spin)
    gui.press_keys("ctrl+a", "BackSpace")
    gui.type_text(screen.interval_spin, "15")
    gui.focus(screen.mung_check)
    gui.press_keys("space")  # turn "mùng" off
    gui.click(screen.zero_tens_buttons["lẻ"])
    gui.wait_until(lambda: "không trăm lẻ năm" in screen.preview.cget("text"))
    assert "mùng" not in screen.preview.cget("text")
    screen.theme_box.set("Sáng ấm")
    gui.screenshot("settings")
    gui.click(screen.save_button)
    gui.wait_until(lambda: services.toasts)
    assert services.toasts[-1] == ("Đã lưu cài đặt.", "success")

    reloaded = Settings.load(profile_dir)
    assert load_config(profile_dir).server_url == "https://dongbo.laocai.gov.vn"
    assert reloaded.sync_interval_min == 15
    assert reloaded.date_words_mung is False
    assert reloaded.date_words_zero_tens == "lẻ"
    assert reloaded.theme == "sandstone-light"
    gui.root.style.theme_use("bootstrap-light")


@pytest.mark.gui
def test_invalid_settings_are_not_saved(gui, services, profile_dir: Path) -> None:
    screen = SettingsScreen(gui.root, services)
    screen.pack(fill="both", expand=True)
    screen.vars["server_url"].set("dongbo.laocai")
    screen.vars["sync_interval_min"].set("không")
    screen.on_save()
    gui.pump()
    assert "http://" in screen.error_labels["server_url"].cget("text")
    assert screen.error_labels["sync_interval_min"].cget("text")
    assert services.toasts[-1][1] == "warning"
    assert not (profile_dir / SETTINGS_FILE).exists()
    assert load_config(profile_dir).server_url is None
    gui.screenshot("settings_errors")


@pytest.mark.gui
def test_sync_is_told_about_new_settings(gui, services) -> None:
    applied: list[Settings] = []

    class Sync:
        def status(self):
            from desktop.sync.status import SyncStatus

            return SyncStatus()

        def sync_now(self) -> None:
            pass

        def subscribe(self, callback):
            return None

        def apply_settings(self, settings: Settings) -> None:
            applied.append(settings)

    services.sync = Sync()
    screen = SettingsScreen(gui.root, services)
    screen.vars["sync_interval_min"].set("30")
    screen.on_save()
    assert applied and applied[0].sync_interval_min == 30


@pytest.mark.gui
def test_enrolment_from_settings(gui, services, profile_dir: Path) -> None:
    from desktop.sync.status import SyncState, SyncStatus

    calls: list[tuple[str, str]] = []

    class Sync:
        state = SyncState.NOT_ENROLLED

        def status(self):
            return SyncStatus(state=self.state)

        def sync_now(self) -> None:
            pass

        def subscribe(self, callback):
            return None

        def enrol(self, url: str, code: str) -> None:
            calls.append((url, code))
            if code != "7K2QD-M4XTA":
                raise ValueError("mã không đúng hoặc đã dùng")
            self.state = SyncState.SYNCED

    services.sync = Sync()
    screen = SettingsScreen(gui.root, services)
    screen.pack(fill="both", expand=True)
    screen.enrol()  # nothing typed yet
    assert "địa chỉ máy chủ" in screen.error_labels["enrolment"].cget("text")
    screen.vars["server_url"].set("http://127.0.0.1:8765")
    screen.code_var.set("SAI-MA")
    screen.enrol()
    gui.wait_until(lambda: "mã không đúng" in screen.error_labels["enrolment"].cget("text"))
    screen.code_var.set("7K2QD-M4XTA")
    gui.click(screen.enrol_button)
    gui.wait_until(lambda: screen.enrol_state.cget("text") == "Máy đã đăng ký với tỉnh.")
    assert calls[-1] == ("http://127.0.0.1:8765", "7K2QD-M4XTA")
    assert load_config(profile_dir).server_url == "http://127.0.0.1:8765"
    assert services.store.config.server_url == "http://127.0.0.1:8765"


@pytest.mark.gui
def test_the_enrolled_server_address_is_shown(gui, services) -> None:
    services.store.update_config(server_url="http://10.15.0.2:8080")
    screen = SettingsScreen(gui.root, services)
    assert screen.vars["server_url"].get() == "http://10.15.0.2:8080"
