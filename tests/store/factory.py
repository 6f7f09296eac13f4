"""Valid, varied dossier data for store tests (the forms samples with other names)."""

from __future__ import annotations

import datetime as dt
import random

from tests.forms.samples import BIRTH, RECEIVED

FAMILY = ["Giàng", "Sùng", "Thào", "Vàng", "Lò", "Hoàng", "Nguyễn", "Đặng", "Lý", "Trần"]
MIDDLE = ["A", "Thị", "Văn", "Seo", "Mí", "Đức", "Ngọc"]
GIVEN = ["Xà", "Páo", "Mỷ", "Chứ", "Dua", "Đức", "Ánh", "Hùng", "Lan", "Thủy", "Hoà", "Sính"]


def birth(i: int, seed: int = 0) -> dict[str, str]:
    """Return valid birth data number ``i``: a distinct child and mother for each ``i``."""
    rng = random.Random(seed * 1_000_003 + i)
    data = dict(BIRTH)
    data["tre_ho"] = rng.choice(FAMILY)
    data["tre_chu_dem"] = rng.choice(MIDDLE)
    data["tre_ten"] = rng.choice(GIVEN)
    born = RECEIVED.date() - dt.timedelta(days=rng.randint(1, 50))
    data["tre_ngay_sinh"] = born.isoformat()
    data["me_ho_ten"] = f"{rng.choice(FAMILY)} Thị {rng.choice(GIVEN)}"
    data["me_so_dinh_danh"] = f"0153010{i % 100000:05d}"
    return data
