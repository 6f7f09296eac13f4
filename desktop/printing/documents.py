"""The printed papers, declared once each: the receipt slip and one result paper per procedure.

The certificates follow the forms of Thông tư 04/2024/TT-BTP (which replaced the forms of
TT 04/2020/TT-BTP): Giấy khai sinh (bản chính), Trích lục khai tử, Giấy xác nhận tình trạng
hôn nhân and Giấy chứng nhận kết hôn. The receipt slip follows the "Giấy tiếp nhận hồ sơ và hẹn
trả kết quả" of the one-stop-shop rules (TT 01/2018/TT-VPCP, mẫu số 01).

Labels are the procedure's own field labels unless the paper words them differently.
"""

from __future__ import annotations

from desktop.printing.layout import (
    Columns,
    DocumentLayout,
    Item,
    Numbered,
    Signature,
    Text,
    line,
)

_OFFICER_NOTE = "(Ký, ghi rõ họ, chữ đệm, tên, chức vụ, đóng dấu)"
_BOOK = (Item("meta:book_number", "Số"), Item("meta:book_volume", "Quyển số"))


def _officer(heading: str) -> Signature:
    return Signature(
        heading, _OFFICER_NOTE, title_source="ctx:signer_title", name_source="ctx:signer_name"
    )


BIRTH_CERTIFICATE = DocumentLayout(
    kind="GKS",
    title="GIẤY KHAI SINH",
    subtitle="(Bản chính)",
    number_line=_BOOK,
    blocks=(
        line(Item("name:tre", "Họ, chữ đệm, tên", emphasis=True)),
        line(Item("tre_ngay_sinh"), Item("tre_gioi_tinh")),
        line(Item("tre_ngay_sinh_bang_chu", "ghi bằng chữ")),
        line(Item("tre_dan_toc"), Item("tre_quoc_tich")),
        line(Item("tre_noi_sinh+tre_noi_sinh_tinh", "Nơi sinh")),
        line(Item("tre_que_quan")),
        line(Item("tre_so_dinh_danh")),
        line(Item("name:me", "Họ, chữ đệm, tên người mẹ")),
        line(Item("me_ngay_sinh", "Sinh ngày"), Item("me_dan_toc"), Item("me_quoc_tich")),
        line(Item("me_cu_tru")),
        line(Item("name:cha", "Họ, chữ đệm, tên người cha")),
        line(Item("cha_ngay_sinh", "Sinh ngày"), Item("cha_dan_toc"), Item("cha_quoc_tich")),
        line(Item("cha_cu_tru")),
        line(Item("ctx:registry", "Nơi đăng ký khai sinh")),
        line(Item("ctx:registered_on", "Ngày, tháng, năm đăng ký")),
    ),
    signatures=(_officer("NGƯỜI KÝ GIẤY KHAI SINH"),),
)
"""Giấy khai sinh (bản chính)."""

DEATH_EXTRACT = DocumentLayout(
    kind="TLKT",
    title="TRÍCH LỤC KHAI TỬ",
    subtitle="",
    number_line=_BOOK,
    blocks=(
        line(Item("name:nguoi_chet", "Họ, chữ đệm, tên", emphasis=True)),
        line(Item("nguoi_chet_ngay_sinh"), Item("nguoi_chet_gioi_tinh")),
        line(Item("nguoi_chet_dan_toc"), Item("nguoi_chet_quoc_tich")),
        line(Item("nguoi_chet_so_dinh_danh")),
        line(Item("nguoi_chet_cu_tru")),
        line(Item("gio_chet", "Đã chết vào lúc"), Item("ngay_chet", "ngày")),
        line(Item("ngay_chet_bang_chu", "ghi bằng chữ")),
        line(Item("noi_chet")),
        line(Item("nguyen_nhan_chet")),
        line(
            Item("giay_bao_tu_so", "Giấy báo tử/Giấy tờ thay thế giấy báo tử số"),
            Item("giay_bao_tu_ngay_cap", "ngày cấp"),
        ),
        line(Item("giay_bao_tu_noi_cap", "Cơ quan cấp")),
        line(Item("ctx:registry", "Nơi đăng ký khai tử")),
        line(Item("ctx:registered_on", "Ngày, tháng, năm đăng ký")),
        line(Item("name:nguoi_yeu_cau", "Họ, chữ đệm, tên người đi khai tử")),
        line(Item("nguoi_yeu_cau_so_dinh_danh", "Giấy tờ tùy thân")),
    ),
    signatures=(_officer("NGƯỜI KÝ TRÍCH LỤC"),),
)
"""Trích lục khai tử."""

MARITAL_STATUS_CONFIRMATION = DocumentLayout(
    kind="XNHN",
    title="GIẤY XÁC NHẬN TÌNH TRẠNG HÔN NHÂN",
    subtitle="",
    number_line=(Item("meta:book_number", "Số"),),
    blocks=(
        Text(
            "Xét đề nghị của ông/bà {name:nguoi_yeu_cau} về việc xác nhận tình trạng hôn nhân "
            "cho ông/bà {name:nguoi_duoc_xac_nhan},"
        ),
        Text("{ctx:authority_upper} XÁC NHẬN:", style="B", align="C"),
        line(Item("name:nguoi_duoc_xac_nhan", "Họ, chữ đệm, tên", emphasis=True)),
        line(Item("nguoi_duoc_xac_nhan_ngay_sinh"), Item("nguoi_duoc_xac_nhan_gioi_tinh")),
        line(Item("nguoi_duoc_xac_nhan_dan_toc"), Item("nguoi_duoc_xac_nhan_quoc_tich")),
        line(Item("nguoi_duoc_xac_nhan_so_dinh_danh", "Giấy tờ tùy thân (số định danh)")),
        line(Item("nguoi_duoc_xac_nhan_cu_tru")),
        line(
            Item("thoi_gian_cu_tru_tu", "Trong thời gian cư trú tại đây từ ngày", optional=True),
            Item("thoi_gian_cu_tru_den", optional=True),
        ),
        line(Item("tinh_trang_hon_nhan")),
        line(Item("muc_dich", "Giấy này được cấp để")),
        line(Item("muc_dich_chi_tiet", "Nội dung", optional=True)),
        line(Item("ket_hon_voi_ho_ten", "Kết hôn với", optional=True)),
        line(Item("ket_hon_voi_quoc_tich", "Quốc tịch", optional=True)),
        line(Item("ket_hon_noi_dang_ky", "Nơi đăng ký kết hôn", optional=True)),
        Text(
            "Giấy này có giá trị sử dụng trong thời hạn 06 tháng, kể từ ngày cấp.",
            style="I",
        ),
    ),
    signatures=(_officer("NGƯỜI KÝ GIẤY XÁC NHẬN"),),
)
"""Giấy xác nhận tình trạng hôn nhân."""


def _spouses(label: str | None, suffix: str, *, emphasis: bool = False) -> tuple[Item, Item]:
    source = "name:{}" if suffix == "name" else "{}_" + suffix
    return (
        Item(source.format("chong"), label, emphasis=emphasis),
        Item(source.format("vo"), label, emphasis=emphasis),
    )


MARRIAGE_CERTIFICATE = DocumentLayout(
    kind="GCNKH",
    title="GIẤY CHỨNG NHẬN KẾT HÔN",
    subtitle="",
    number_line=_BOOK,
    blocks=(
        Columns(
            ("Thông tin người chồng", "Thông tin người vợ"),
            (
                _spouses("Họ, chữ đệm, tên", "name", emphasis=True),
                _spouses("Ngày sinh", "ngay_sinh"),
                _spouses(None, "dan_toc"),
                _spouses(None, "quoc_tich"),
                _spouses(None, "cu_tru"),
                _spouses("Giấy tờ tùy thân", "so_dinh_danh"),
            ),
        ),
        line(Item("ctx:registry", "Nơi đăng ký kết hôn")),
        line(Item("ctx:registered_on", "Ngày, tháng, năm đăng ký")),
    ),
    signatures=(
        Signature("CHỒNG", "(Ký, ghi rõ họ, chữ đệm, tên)", name_source="name:chong"),
        Signature("VỢ", "(Ký, ghi rõ họ, chữ đệm, tên)", name_source="name:vo"),
        _officer("NGƯỜI KÝ GIẤY CHỨNG NHẬN KẾT HÔN"),
    ),
)
"""Giấy chứng nhận kết hôn."""

RECEIPT_SLIP = DocumentLayout(
    kind="PTN",
    title="PHIẾU TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
    subtitle="",
    number_line=(Item("slip:dossier_no", "Mã hồ sơ"),),
    blocks=(
        Text("Bộ phận tiếp nhận và trả kết quả {ctx:unit} tiếp nhận hồ sơ của:"),
        line(Item("slip:applicant_name", "Ông/Bà", emphasis=True)),
        line(
            Item("slip:applicant_id", "Số định danh cá nhân"),
            Item("slip:applicant_phone", "Số điện thoại"),
        ),
        line(Item("slip:applicant_address", "Địa chỉ")),
        line(Item("slip:procedure_title", "Nội dung yêu cầu giải quyết")),
        line(Item("slip:national_code", "Mã thủ tục"), Item("slip:result_document", "Kết quả")),
        Numbered("slip:papers", "1. Thành phần hồ sơ nộp gồm:"),
        line(Item("slip:copies", "Số bản sao đề nghị cấp", optional=True)),
        line(Item("slip:processing_note", "2. Thời gian giải quyết hồ sơ theo quy định")),
        line(Item("slip:received_at", "3. Thời gian nhận hồ sơ")),
        line(Item("slip:due_date", "4. Thời gian trả kết quả giải quyết hồ sơ: ngày")),
        line(Item("slip:fee_note", "5. Lệ phí")),
        line(Item("ctx:pickup", "6. Nhận kết quả tại")),
    ),
    signatures=(
        Signature("NGƯỜI NỘP HỒ SƠ", "(Ký và ghi rõ họ tên)", name_source="slip:applicant_name"),
        Signature("NGƯỜI TIẾP NHẬN HỒ SƠ", "(Ký và ghi rõ họ tên)", name_source="slip:clerk_name"),
    ),
)
"""The receipt slip (phiếu tiếp nhận hồ sơ và hẹn trả kết quả)."""

CERTIFICATES: dict[str, DocumentLayout] = {
    "khai_sinh": BIRTH_CERTIFICATE,
    "khai_tu": DEATH_EXTRACT,
    "xac_nhan_hon_nhan": MARITAL_STATUS_CONFIRMATION,
    "ket_hon": MARRIAGE_CERTIFICATE,
}
"""The result paper of each procedure, keyed by procedure code."""

KIND_TO_PROCEDURE: dict[str, str] = {layout.kind: code for code, layout in CERTIFICATES.items()}
"""The procedure code of each certificate kind (for verification)."""


def certificate_layout(procedure_code: str) -> DocumentLayout:
    """Return the result paper of a procedure.

    Raises:
        ValueError: No paper is declared for that procedure.
    """
    try:
        return CERTIFICATES[procedure_code]
    except KeyError:
        known = ", ".join(sorted(CERTIFICATES))
        raise ValueError(
            f"no printed paper for procedure {procedure_code!r} (known: {known})"
        ) from None
