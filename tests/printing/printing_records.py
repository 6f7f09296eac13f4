"""Realistic dossier records (flat, as the store keeps them) for the printing tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

COMMUNE = "Xã Mù Cang Chải"
SIGNER = "Nguyễn Thị Hồng Nhung"
ISSUED = dt.date(2025, 3, 15)


def _flat(meta: dict[str, Any], data: dict[str, str]) -> dict[str, Any]:
    return meta | {f"data.{k}": v for k, v in data.items()}


BIRTH = _flat(
    {
        "procedure": "khai_sinh",
        "commune": "04456",
        "dossier_no": "04456-20250315-a1b2-7",
        "status": "hoan_thanh",
        "received_at": "2025-03-15T09:12:00",
        "book_type": "KS",
        "book_year": 2025,
        "book_number": 15,
    },
    {
        "nguoi_yeu_cau_ho_ten": "Giàng A Dình",
        "nguoi_yeu_cau_so_dinh_danh": "015098001111",
        "nguoi_yeu_cau_cu_tru": "Bản Mồ Dề, xã Mù Cang Chải, tỉnh Lào Cai",
        "nguoi_yeu_cau_quan_he": "cha",
        "nguoi_yeu_cau_dien_thoai": "0912345678",
        "tre_ho": "Giàng",
        "tre_chu_dem": "A",
        "tre_ten": "Xà",
        "tre_gioi_tinh": "Nam",
        "tre_ngay_sinh": "2025-03-01",
        "tre_noi_sinh": "Trạm Y tế xã Mù Cang Chải",
        "tre_noi_sinh_tinh": "15",
        "tre_dan_toc": "Mông",
        "tre_quoc_tich": "Việt Nam",
        "tre_que_quan": "Xã Mù Cang Chải, tỉnh Lào Cai",
        "me_ho_ten": "Sùng Thị Mỷ",
        "me_ngay_sinh": "2000-07-21",
        "me_dan_toc": "Mông",
        "me_quoc_tich": "Việt Nam",
        "me_cu_tru": "Bản Mồ Dề, xã Mù Cang Chải, tỉnh Lào Cai",
        "me_so_dinh_danh": "015300001234",
        "cha_ho_ten": "Giàng A Dình",
        "cha_ngay_sinh": "1998-02-05",
        "cha_dan_toc": "Mông",
        "cha_quoc_tich": "Việt Nam",
        "cha_cu_tru": "Bản Mồ Dề, xã Mù Cang Chải, tỉnh Lào Cai",
    },
)

DEATH = _flat(
    {
        "procedure": "khai_tu",
        "commune": "04456",
        "dossier_no": "04456-20250315-a1b2-9",
        "received_at": "2025-03-15T08:30:00",
        "book_type": "KT",
        "book_year": 2025,
        "book_number": 4,
    },
    {
        "nguoi_yeu_cau_ho_ten": "Giàng A Xà",
        "nguoi_yeu_cau_so_dinh_danh": "015085000123",
        "nguoi_chet_ho": "Sùng",
        "nguoi_chet_chu_dem": "Thị",
        "nguoi_chet_ten": "Mỷ",
        "nguoi_chet_ngay_sinh": "1941-11-11",
        "nguoi_chet_gioi_tinh": "Nữ",
        "nguoi_chet_dan_toc": "Mông",
        "nguoi_chet_quoc_tich": "Việt Nam",
        "nguoi_chet_so_dinh_danh": "015141000321",
        "nguoi_chet_cu_tru": "Bản Kim Nọi, xã Mù Cang Chải, tỉnh Lào Cai",
        "ngay_chet": "2025-03-05",
        "gio_chet": "05:40",
        "noi_chet": "Tại nhà, bản Kim Nọi, xã Mù Cang Chải, tỉnh Lào Cai",
        "nguyen_nhan_chet": "Già yếu",
        "giay_bao_tu_so": "12/GBT",
        "giay_bao_tu_noi_cap": "Trạm Y tế xã Mù Cang Chải",
        "giay_bao_tu_ngay_cap": "2025-03-06",
    },
)

MARITAL_STATUS = _flat(
    {
        "procedure": "xac_nhan_hon_nhan",
        "commune": "04456",
        "dossier_no": "04456-20250312-a1b2-12",
        "received_at": "2025-03-12T10:00:00",
        "book_type": "XNHN",
        "book_year": 2025,
        "book_number": 31,
    },
    {
        "nguoi_yeu_cau_ho_ten": "Nguyễn Thị Hồng Nhung",
        "nguoi_duoc_xac_nhan_ho": "Nguyễn",
        "nguoi_duoc_xac_nhan_chu_dem": "Thị Hồng",
        "nguoi_duoc_xac_nhan_ten": "Nhung",
        "nguoi_duoc_xac_nhan_ngay_sinh": "1996-09-02",
        "nguoi_duoc_xac_nhan_gioi_tinh": "Nữ",
        "nguoi_duoc_xac_nhan_dan_toc": "Kinh",
        "nguoi_duoc_xac_nhan_quoc_tich": "Việt Nam",
        "nguoi_duoc_xac_nhan_so_dinh_danh": "015196004567",
        "nguoi_duoc_xac_nhan_cu_tru": "Tổ dân phố 3, xã Mù Cang Chải, tỉnh Lào Cai",
        "nguoi_duoc_xac_nhan_cu_tru_xa": "04456",
        "tinh_trang_hon_nhan": "chua_ket_hon",
        "muc_dich": "ket_hon",
        "ket_hon_voi_ho_ten": "Giàng A Xà",
        "ket_hon_voi_quoc_tich": "Việt Nam",
    },
)

MARRIAGE = _flat(
    {
        "procedure": "ket_hon",
        "commune": "04456",
        "dossier_no": "04456-20250315-a1b2-15",
        "received_at": "2025-03-15T14:00:00",
        "book_type": "KH",
        "book_year": 2025,
        "book_number": 8,
    },
    {
        "chong_ho": "Giàng",
        "chong_chu_dem": "A",
        "chong_ten": "Xà",
        "chong_ngay_sinh": "1999-01-20",
        "chong_dan_toc": "Mông",
        "chong_quoc_tich": "Việt Nam",
        "chong_cu_tru": "Bản Mồ Dề, xã Mù Cang Chải, tỉnh Lào Cai",
        "chong_so_dinh_danh": "015099000888",
        "chong_lan_ket_hon": "1",
        "vo_ho": "Nguyễn",
        "vo_chu_dem": "Thị Hồng",
        "vo_ten": "Nhung",
        "vo_ngay_sinh": "2001-12-31",
        "vo_dan_toc": "Kinh",
        "vo_quoc_tich": "Việt Nam",
        "vo_cu_tru": "Tổ dân phố 3, xã Mù Cang Chải, tỉnh Lào Cai",
        "vo_so_dinh_danh": "015301000999",
        "vo_lan_ket_hon": "1",
    },
)

RECORDS = {
    "khai_sinh": BIRTH,
    "khai_tu": DEATH,
    "xac_nhan_hon_nhan": MARITAL_STATUS,
    "ket_hon": MARRIAGE,
}

# What a reader must find on each paper (exact NFC strings, whitespace collapsed).
EXPECTED_TEXT = {
    "khai_sinh": [
        "GIẤY KHAI SINH",
        "(Bản chính)",
        "GIÀNG A XÀ",
        "Sùng Thị Mỷ",
        "Giàng A Dình",
        "Ngày một tháng ba năm hai nghìn không trăm hai mươi lăm",
        "Nơi sinh: Trạm Y tế xã Mù Cang Chải, tỉnh Lào Cai",
        "Số: 15, Quyển số: 01/2025",
        "NGƯỜI KÝ GIẤY KHAI SINH",
    ],
    "khai_tu": [
        "TRÍCH LỤC KHAI TỬ",
        "SÙNG THỊ MỶ",
        "05 giờ 40 phút",
        "Ngày năm tháng ba năm hai nghìn không trăm hai mươi lăm",
        "Giàng A Xà",
        "NGƯỜI KÝ TRÍCH LỤC",
    ],
    "xac_nhan_hon_nhan": [
        "GIẤY XÁC NHẬN TÌNH TRẠNG HÔN NHÂN",
        "NGUYỄN THỊ HỒNG NHUNG",
        "ỦY BAN NHÂN DÂN XÃ MÙ CANG CHẢI XÁC NHẬN:",
        "Chưa đăng ký kết hôn với ai",
        "Kết hôn với: Giàng A Xà",
        "Giấy này có giá trị sử dụng trong thời hạn 06 tháng, kể từ ngày cấp.",
    ],
    "ket_hon": [
        "GIẤY CHỨNG NHẬN KẾT HÔN",
        "GIÀNG A XÀ",
        "NGUYỄN THỊ HỒNG NHUNG",
        "31/12/2001",
        "NGƯỜI KÝ GIẤY CHỨNG NHẬN KẾT HÔN",
    ],
}
