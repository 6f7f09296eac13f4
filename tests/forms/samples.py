"""Valid sample data for each procedure, shared by the forms tests.

The dates are fixed; tests pass ``today=TODAY`` so the samples never go stale.
"""

from __future__ import annotations

from datetime import date, datetime

TODAY = date(2026, 3, 10)
"""The day the tests pretend it is (a Tuesday)."""

RECEIVED = datetime(2026, 3, 10, 9, 30)
"""Papers received on TODAY in the morning."""

BIRTH = {
    "nguoi_yeu_cau_ho_ten": "Giàng A Páo",
    "nguoi_yeu_cau_so_dinh_danh": "015095001234",
    "nguoi_yeu_cau_cu_tru": "Bản Hồ Bốn, xã Khao Mang, tỉnh Lào Cai",
    "nguoi_yeu_cau_quan_he": "cha",
    "nguoi_yeu_cau_dien_thoai": "0912345678",
    "tre_ho": "Giàng",
    "tre_chu_dem": "A",
    "tre_ten": "Xà",
    "tre_gioi_tinh": "Nam",
    "tre_ngay_sinh": "2026-02-15",
    "tre_noi_sinh": "Trạm y tế xã Khao Mang",
    "tre_noi_sinh_tinh": "15",
    "tre_dan_toc": "Mông",
    "tre_quoc_tich": "Việt Nam",
    "tre_que_quan": "xã Khao Mang, tỉnh Lào Cai",
    "me_ho_ten": "Sùng Thị Mỷ",
    "me_ngay_sinh": "2001-04-20",
    "me_dan_toc": "Mông",
    "me_quoc_tich": "Việt Nam",
    "me_cu_tru": "Bản Hồ Bốn, xã Khao Mang, tỉnh Lào Cai",
    "me_so_dinh_danh": "015301001234",
    "cha_ho_ten": "Giàng A Páo",
    "cha_ngay_sinh": "1995-01-10",
    "cha_dan_toc": "Mông",
    "cha_quoc_tich": "Việt Nam",
    "cha_cu_tru": "Bản Hồ Bốn, xã Khao Mang, tỉnh Lào Cai",
    "cha_so_dinh_danh": "015095001234",
    "giay_chung_sinh_so": "GCS-123/2026",
    "so_ban_sao": "2",
}

DEATH = {
    "nguoi_yeu_cau_ho_ten": "Lò Văn Sơn",
    "nguoi_yeu_cau_so_dinh_danh": "015080004321",
    "nguoi_yeu_cau_cu_tru": "Bản Nà Hồ, xã Khao Mang, tỉnh Lào Cai",
    "nguoi_yeu_cau_quan_he": "con",
    "nguoi_chet_ho": "Lò",
    "nguoi_chet_chu_dem": "Văn",
    "nguoi_chet_ten": "Đức",
    "nguoi_chet_ngay_sinh": "1950-06-01",
    "nguoi_chet_gioi_tinh": "Nam",
    "nguoi_chet_dan_toc": "Thái",
    "nguoi_chet_quoc_tich": "Việt Nam",
    "nguoi_chet_so_dinh_danh": "015050009876",
    "nguoi_chet_cu_tru": "Bản Nà Hồ, xã Khao Mang, tỉnh Lào Cai",
    "ngay_chet": "2026-03-01",
    "gio_chet": "14:30",
    "noi_chet": "Tại nhà, bản Nà Hồ",
    "nguyen_nhan_chet": "Già yếu",
    "giay_bao_tu_so": "12/GBT",
    "giay_bao_tu_noi_cap": "Trạm y tế xã Khao Mang",
    "giay_bao_tu_ngay_cap": "2026-03-02",
}

MARITAL_STATUS = {
    "nguoi_yeu_cau_ho_ten": "Vàng Thị Dua",
    "nguoi_yeu_cau_so_dinh_danh": "015300005555",
    "nguoi_yeu_cau_cu_tru": "Bản Pá Khoang, xã Khao Mang",
    "nguoi_yeu_cau_quan_he": "bản thân",
    "nguoi_duoc_xac_nhan_ho": "Vàng",
    "nguoi_duoc_xac_nhan_chu_dem": "Thị",
    "nguoi_duoc_xac_nhan_ten": "Dua",
    "nguoi_duoc_xac_nhan_ngay_sinh": "2000-07-07",
    "nguoi_duoc_xac_nhan_gioi_tinh": "Nữ",
    "nguoi_duoc_xac_nhan_dan_toc": "Mông",
    "nguoi_duoc_xac_nhan_quoc_tich": "Việt Nam",
    "nguoi_duoc_xac_nhan_so_dinh_danh": "015300005555",
    "nguoi_duoc_xac_nhan_cu_tru": "Bản Pá Khoang, xã Khao Mang",
    "nguoi_duoc_xac_nhan_cu_tru_xa": "04465",
    "thoi_gian_cu_tru_tu": "2018-01-01",
    "thoi_gian_cu_tru_den": "2026-03-01",
    "tinh_trang_hon_nhan": "chua_ket_hon",
    "muc_dich": "ket_hon",
    "ket_hon_voi_ho_ten": "Thào A Chứ",
    "ket_hon_noi_dang_ky": "UBND xã Mù Cang Chải",
}

MARRIAGE = {
    "vo_ho": "Sùng",
    "vo_chu_dem": "Thị",
    "vo_ten": "Mai",
    "vo_ngay_sinh": "2006-01-05",
    "vo_dan_toc": "Mông",
    "vo_quoc_tich": "Việt Nam",
    "vo_cu_tru": "Bản Hồ Bốn, xã Khao Mang",
    "vo_so_dinh_danh": "015306007777",
    "vo_lan_ket_hon": "1",
    "chong_ho": "Thào",
    "chong_chu_dem": "A",
    "chong_ten": "Chứ",
    "chong_ngay_sinh": "2004-11-20",
    "chong_dan_toc": "Mông",
    "chong_quoc_tich": "Việt Nam",
    "chong_cu_tru": "Bản Mồ Dề, xã Mù Cang Chải",
    "chong_so_dinh_danh": "015204008888",
    "chong_lan_ket_hon": "1",
    "dien_thoai": "0987654321",
}

SAMPLES = {
    "khai_sinh": BIRTH,
    "khai_tu": DEATH,
    "xac_nhan_hon_nhan": MARITAL_STATUS,
    "ket_hon": MARRIAGE,
}
"""Valid data per procedure code."""
