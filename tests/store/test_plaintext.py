"""The database, its WAL and every other profile file hold no plaintext personal data."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from desktop.store.store import Store
from tests.forms.samples import BIRTH, RECEIVED

NAME = "Sùng Thị Mỷ"  # the mother in the sample
ID_NUMBER = "015301001234"  # her personal ID


def _needles() -> list[bytes]:
    out = []
    for form in ("NFC", "NFD"):
        text = unicodedata.normalize(form, NAME)
        out += [text.encode("utf-8"), text.encode("utf-16-le")]
    out += [b"Sung Thi My", b"sung thi my", ID_NUMBER.encode(), ID_NUMBER.encode("utf-16-le")]
    out += [b"Gi\xc3\xa0ng A X\xc3\xa0", b"giang a xa"]  # the child, as stored and folded
    return out


def _profile_bytes(profile_dir: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in profile_dir.rglob("*") if p.is_file()}


def _assert_clean(profile_dir: Path) -> None:
    files = _profile_bytes(profile_dir)
    assert any(name.endswith("store.db") for name in files)
    for name, content in files.items():
        for needle in _needles():
            assert needle not in content, f"{needle!r} found in {name}"


def test_no_plaintext_while_open_and_after_close(store: Store, profile_dir: Path) -> None:
    record = store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    store.update_dossier(record.id, {"tre_ten": "Xà"})
    store.save_draft("d1", "khai_sinh", {"me_ho_ten": NAME, "me_so_dinh_danh": ID_NUMBER})
    store.add_attachment(record.id, f"{NAME} {ID_NUMBER}".encode(), "cccd.txt", "text/plain")
    assert store.search("sung thi my")  # the data is really there
    wal = profile_dir / "store.db-wal"
    assert wal.exists() and wal.stat().st_size > 0  # the WAL is checked while it holds pages
    _assert_clean(profile_dir)
    store.close()
    _assert_clean(profile_dir)


def test_the_check_would_see_plaintext(tmp_path: Path) -> None:
    (tmp_path / "store.db").write_bytes(b"xx" + ID_NUMBER.encode() + b"yy")
    try:
        _assert_clean(tmp_path)
    except AssertionError:
        return
    raise AssertionError("the plaintext check missed a planted ID number")
