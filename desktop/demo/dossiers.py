"""The demo commune's data: its clerk, and valid dossiers of the four procedures.

``demo_dossiers`` and ``seed_store`` are also used by tests and benchmarks to fill stores.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.forms.validation_result import ValidationError
from desktop.store.errors import StoreError

if TYPE_CHECKING:
    from desktop.store.store import Store

log = logging.getLogger(__name__)

DEMO_COMMUNE = "04465"  # Xã Khao Mang, tỉnh Lào Cai
DEMO_USER = "demo"
DEMO_PASSWORD = "demo"
DEMO_FULL_NAME = "Cán bộ Trình Diễn"
DEMO_PROFILE = Path("demo-profile")

_FAMILY = ("Giàng", "Sùng", "Vàng", "Thào", "Lò", "Hà", "Lý", "Nguyễn", "Hoàng", "Lường")
_MALE = ("Páo", "Chứ", "Dế", "Sính", "Tủa", "Minh", "Đức", "Sơn", "Khánh", "Lâm", "Vừ", "Nủ")
_FEMALE = ("Mỷ", "Dua", "Mai", "Pà", "Chở", "Lan", "Hoa", "Xuân", "Dợ", "Sua", "Hương", "Ánh")
_VILLAGES = ("Hồ Bốn", "Nà Hồ", "Pá Khoang", "Khao Mang", "Trống Tông", "Háng Tầu")
_ETHNIC = ("Mông", "Mông", "Mông", "Thái", "Dao", "Kinh")


@dataclass(frozen=True)
class DemoDossier:
    """One generated dossier: what to register, when, and how far to move it along."""

    procedure: str
    data: dict[str, str]
    received_at: dt.datetime
    status_path: tuple[str, ...] = ()


def _id_number(rng: random.Random, birth: dt.date, female: bool) -> str:
    """Return a 12-digit personal ID consistent with birth year and sex (Yên Bái prefix 015)."""
    century = 0 if birth.year < 2000 else 2
    return f"015{century + int(female)}{birth.year % 100:02d}{rng.randrange(10**6):06d}"


def _birth(rng: random.Random, today: dt.date, age_from: int, age_to: int) -> dt.date:
    days = rng.randint(age_from * 365 + 30, age_to * 365 - 30)
    return today - dt.timedelta(days=days)


def _address(rng: random.Random) -> str:
    return f"Bản {rng.choice(_VILLAGES)}, xã Khao Mang, tỉnh Lào Cai"


def _birth_case(rng: random.Random, today: dt.date) -> dict[str, str]:
    family = rng.choice(_FAMILY)
    ethnic = rng.choice(_ETHNIC)
    mother_born = _birth(rng, today, 19, 35)
    father_born = _birth(rng, today, 22, 40)
    father = f"{family} {'A' if ethnic == 'Mông' else 'Văn'} {rng.choice(_MALE)}"
    girl = rng.random() < 0.5
    child_born = today - dt.timedelta(days=rng.randint(2, 40))
    father_id = _id_number(rng, father_born, False)
    address = _address(rng)
    return {
        "nguoi_yeu_cau_ho_ten": father,
        "nguoi_yeu_cau_so_dinh_danh": father_id,
        "nguoi_yeu_cau_cu_tru": address,
        "nguoi_yeu_cau_quan_he": "cha",
        "nguoi_yeu_cau_dien_thoai": f"09{rng.randrange(10**8):08d}",
        "tre_ho": family,
        "tre_chu_dem": "Thị" if girl else ("A" if ethnic == "Mông" else "Văn"),
        "tre_ten": rng.choice(_FEMALE if girl else _MALE),
        "tre_gioi_tinh": "Nữ" if girl else "Nam",
        "tre_ngay_sinh": child_born.isoformat(),
        "tre_noi_sinh": "Trạm y tế xã Khao Mang",
        "tre_noi_sinh_tinh": "15",
        "tre_dan_toc": ethnic,
        "tre_quoc_tich": "Việt Nam",
        "tre_que_quan": "xã Khao Mang, tỉnh Lào Cai",
        "me_ho_ten": f"{rng.choice(_FAMILY)} Thị {rng.choice(_FEMALE)}",
        "me_ngay_sinh": mother_born.isoformat(),
        "me_dan_toc": ethnic,
        "me_quoc_tich": "Việt Nam",
        "me_cu_tru": address,
        "me_so_dinh_danh": _id_number(rng, mother_born, True),
        "cha_ho_ten": father,
        "cha_ngay_sinh": father_born.isoformat(),
        "cha_dan_toc": ethnic,
        "cha_quoc_tich": "Việt Nam",
        "cha_cu_tru": address,
        "cha_so_dinh_danh": father_id,
        "giay_chung_sinh_so": f"GCS-{rng.randrange(1, 999)}/{child_born.year}",
        "so_ban_sao": str(rng.randint(1, 3)),
    }


def demo_birth(seed: int, today: dt.date | None = None) -> dict[str, str]:
    """Return one valid birth registration's fields (the same for the same seed and day)."""
    return _birth_case(random.Random(seed), today or dt.date.today())


def _death_case(rng: random.Random, today: dt.date) -> dict[str, str]:
    family = rng.choice(_FAMILY)
    born = _birth(rng, today, 60, 92)
    died = today - dt.timedelta(days=rng.randint(1, 12))
    requester_born = _birth(rng, today, 25, 50)
    address = _address(rng)
    return {
        "nguoi_yeu_cau_ho_ten": f"{family} Văn {rng.choice(_MALE)}",
        "nguoi_yeu_cau_so_dinh_danh": _id_number(rng, requester_born, False),
        "nguoi_yeu_cau_cu_tru": address,
        "nguoi_yeu_cau_quan_he": "con",
        "nguoi_chet_ho": family,
        "nguoi_chet_chu_dem": "Văn",
        "nguoi_chet_ten": rng.choice(_MALE),
        "nguoi_chet_ngay_sinh": born.isoformat(),
        "nguoi_chet_gioi_tinh": "Nam",
        "nguoi_chet_dan_toc": rng.choice(_ETHNIC),
        "nguoi_chet_quoc_tich": "Việt Nam",
        "nguoi_chet_so_dinh_danh": _id_number(rng, born, False),
        "nguoi_chet_cu_tru": address,
        "ngay_chet": died.isoformat(),
        "gio_chet": f"{rng.randint(0, 23):02d}:{rng.choice((0, 15, 30, 45)):02d}",
        "noi_chet": f"Tại nhà, {address.split(',')[0].lower()}",
        "nguyen_nhan_chet": "Già yếu",
        "giay_bao_tu_so": f"{rng.randint(1, 99)}/GBT",
        "giay_bao_tu_noi_cap": "Trạm y tế xã Khao Mang",
        "giay_bao_tu_ngay_cap": (died + dt.timedelta(days=1)).isoformat(),
    }


def _marital_case(rng: random.Random, today: dt.date) -> dict[str, str]:
    family = rng.choice(_FAMILY)
    name = rng.choice(_FEMALE)
    born = _birth(rng, today, 19, 30)
    id_number = _id_number(rng, born, True)
    address = _address(rng)
    return {
        "nguoi_yeu_cau_ho_ten": f"{family} Thị {name}",
        "nguoi_yeu_cau_so_dinh_danh": id_number,
        "nguoi_yeu_cau_cu_tru": address,
        "nguoi_yeu_cau_quan_he": "bản thân",
        "nguoi_duoc_xac_nhan_ho": family,
        "nguoi_duoc_xac_nhan_chu_dem": "Thị",
        "nguoi_duoc_xac_nhan_ten": name,
        "nguoi_duoc_xac_nhan_ngay_sinh": born.isoformat(),
        "nguoi_duoc_xac_nhan_gioi_tinh": "Nữ",
        "nguoi_duoc_xac_nhan_dan_toc": rng.choice(_ETHNIC),
        "nguoi_duoc_xac_nhan_quoc_tich": "Việt Nam",
        "nguoi_duoc_xac_nhan_so_dinh_danh": id_number,
        "nguoi_duoc_xac_nhan_cu_tru": address,
        "nguoi_duoc_xac_nhan_cu_tru_xa": DEMO_COMMUNE,
        "thoi_gian_cu_tru_tu": dt.date(born.year + 18, 1, 1).isoformat(),
        "thoi_gian_cu_tru_den": today.isoformat(),
        "tinh_trang_hon_nhan": "chua_ket_hon",
        "muc_dich": "ket_hon",
        "ket_hon_voi_ho_ten": f"{rng.choice(_FAMILY)} A {rng.choice(_MALE)}",
        "ket_hon_noi_dang_ky": "UBND xã Mù Cang Chải",
    }


def _marriage_case(rng: random.Random, today: dt.date) -> dict[str, str]:
    wife_born = _birth(rng, today, 19, 28)
    husband_born = _birth(rng, today, 21, 32)
    return {
        "vo_ho": rng.choice(_FAMILY),
        "vo_chu_dem": "Thị",
        "vo_ten": rng.choice(_FEMALE),
        "vo_ngay_sinh": wife_born.isoformat(),
        "vo_dan_toc": rng.choice(_ETHNIC),
        "vo_quoc_tich": "Việt Nam",
        "vo_cu_tru": _address(rng),
        "vo_so_dinh_danh": _id_number(rng, wife_born, True),
        "vo_lan_ket_hon": "1",
        "chong_ho": rng.choice(_FAMILY),
        "chong_chu_dem": "A",
        "chong_ten": rng.choice(_MALE),
        "chong_ngay_sinh": husband_born.isoformat(),
        "chong_dan_toc": rng.choice(_ETHNIC),
        "chong_quoc_tich": "Việt Nam",
        "chong_cu_tru": _address(rng),
        "chong_so_dinh_danh": _id_number(rng, husband_born, False),
        "chong_lan_ket_hon": "1",
        "dien_thoai": f"09{rng.randrange(10**8):08d}",
    }


_CASES = (
    ("khai_sinh", _birth_case, 5),
    ("xac_nhan_hon_nhan", _marital_case, 3),
    ("khai_tu", _death_case, 2),
    ("ket_hon", _marriage_case, 2),
)


def demo_dossiers(
    count: int, *, today: dt.date | None = None, seed: int = 2025, days_back: int = 20
) -> Iterator[DemoDossier]:
    """Generate ``count`` valid dossiers received over the last ``days_back`` days.

    About a fifth are received today; older ones are moved along (đang xử lý, chờ ký or
    hoàn thành), and a few old ones are left open so that some are due or late.
    """
    rng = random.Random(seed)
    today = today or dt.date.today()
    weights = [w for _, _, w in _CASES]
    for i in range(count):
        procedure, make, _ = rng.choices(_CASES, weights=weights)[0]
        back = 0 if i % 5 == 0 else rng.randint(0, days_back)
        day = today - dt.timedelta(days=back)
        hour, minute = rng.randint(7, 16), rng.randint(0, 59)
        received = dt.datetime.combine(day, dt.time(hour, minute))
        if received > dt.datetime.now():
            received = dt.datetime.now().replace(microsecond=0) - dt.timedelta(minutes=i + 1)
        roll = rng.random()
        path: tuple[str, ...]
        if back == 0:
            path = () if roll < 0.7 else ("cho_ky",)
        elif roll < 0.35:
            path = ()
        elif roll < 0.55:
            path = ("dang_xu_ly",)
        elif roll < 0.75:
            path = ("dang_xu_ly", "cho_ky")
        else:
            path = ("dang_xu_ly", "cho_ky", "hoan_thanh")
        yield DemoDossier(procedure, make(rng, today), received, path)


def seed_store(
    store: Store, count: int = 30, *, today: dt.date | None = None, seed: int = 2025
) -> int:
    """Register ``count`` demo dossiers in an open store; return how many were saved.

    Register-book numbers for the year are handed to the store first so dossiers can move to
    "chờ ký". A generated dossier the rules refuse is skipped (and logged), never forced.
    """
    today = today or dt.date.today()
    for book in ("KS", "KT", "XNHN", "KH"):
        try:
            store.add_book_block(book, today.year, 1, 5000, source="demo")
        except StoreError:  # the store holds that block already (seeded before)
            log.debug("book block %s not added", book, exc_info=True)
    saved = 0
    for item in demo_dossiers(count, today=today, seed=seed):
        try:
            record = store.register_dossier(
                item.procedure, item.data, received_at=item.received_at, allow_duplicate=True
            )
            for status in item.status_path:
                store.transition(record.id, status)
        except (ValidationError, StoreError) as exc:
            log.warning("demo dossier skipped (%s): %s", item.procedure, exc)
            continue
        saved += 1
    return saved


def ensure_demo_profile(profile_dir: Path, *, count: int = 30) -> bool:
    """Create the demo profile with its clerk and dossiers unless it exists.

    Returns:
        True when it was created now.
    """
    from desktop.store import profile
    from desktop.store.store import Store

    if profile.exists(profile_dir):
        return False
    store = Store.create(
        profile_dir,
        commune=DEMO_COMMUNE,
        username=DEMO_USER,
        password=DEMO_PASSWORD,
        full_name=DEMO_FULL_NAME,
    )
    try:
        saved = seed_store(store, count)
        log.info("demo profile created in %s with %d dossiers", profile_dir, saved)
    finally:
        store.close()
    return True
