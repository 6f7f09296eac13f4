"""Realistic civil-status dossiers for the sync benchmark, reproducible from a seed.

Both systems of the weak-link benchmark replicate the *same* documents: our desktop client
registers them as real dossiers (``Store.register_dossier(doc.procedure, doc.data,
received_at=doc.received_at)``), and the PouchDB peer stores :meth:`BenchDoc.couch_doc`, the
same flat record (docs/architecture.md) with a CouchDB ``_id``.

Each document is a birth, death, marital-status or marriage dossier of a commune of Lào Cai
with Vietnamese names and places, valid for ``desktop.forms`` validation, and 1.3-1.8 KB of
compact UTF-8 JSON: the generator draws a target size per document and fills the clerk's
note (``ghi_chu``) sentence by sentence to reach it, as real dossiers carry notes of varying
length.

Command line (to look at the documents; ``bench.sync_bench`` writes the same JSON lines for the
node peer)::

    python -m bench.docs_gen --count 50 --seed 7 --out /tmp/docs.jsonl
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "MAX_BYTES",
    "MIN_BYTES",
    "BenchDoc",
    "doc_bytes",
    "edit_fields",
    "generate",
    "read_jsonl",
    "scan_bytes",
    "write_jsonl",
]

#: Size range of one document: compact UTF-8 JSON of its CouchDB form (with ``_id``).
MIN_BYTES = 1300
MAX_BYTES = 1800

#: Procedure mix of a rural commune's civil-status desk (births dominate).
MIX = (("khai_sinh", 0.45), ("khai_tu", 0.2), ("xac_nhan_hon_nhan", 0.25), ("ket_hon", 0.1))

COMMUNE = "02701"
#: Procedure → register book type, as the store assigns it.
BOOK_TYPES = {"khai_sinh": "KS", "khai_tu": "KT", "xac_nhan_hon_nhan": "XNHN", "ket_hon": "KH"}

FAMILY = [
    "Giàng", "Sùng", "Thào", "Vàng", "Lò", "Hoàng", "Nguyễn", "Đặng", "Lý", "Trần", "Hầu",
    "Má", "Mùa", "Vừ", "Lù", "Tẩn", "Phàn", "Chảo", "Lục", "Nông", "Hà", "Lê", "Phạm", "Cứ",
]  # fmt: skip
MALE_MIDDLE = ["A", "Seo", "Văn", "Mí", "Đức", "Quang", "Minh", "Chà", "Láo"]
FEMALE_MIDDLE = ["Thị", "Thị Thu", "Thị Ngọc", "Mỷ", "Thị Hồng", "Thị Kim"]
MALE_GIVEN = [
    "Páo", "Chứ", "Xà", "Sính", "Dế", "Lử", "Hùng", "Đức", "Sơn", "Thắng", "Tú", "Hải",
    "Nam", "Tùng", "Cường", "Dũng", "Chiến", "Quý", "Sáng", "Phừ", "Khái", "Tráng",
]  # fmt: skip
FEMALE_GIVEN = [
    "Mỷ", "Dua", "Mai", "Lan", "Thủy", "Hoà", "Ánh", "Chi", "Dợ", "Sua", "Pằng", "Hương",
    "Nhung", "Hạnh", "Ngọc", "Thảo", "Xuân", "Dung", "Lành", "Ly", "Nhìa", "Sình",
]  # fmt: skip
ETHNIC = ["Mông", "Mông", "Mông", "Dao", "Tày", "Thái", "Giáy", "Kinh", "Nùng", "Hà Nhì"]
VILLAGES = [
    "Bản Hồ Bốn", "Bản Nà Hồ", "Bản Pá Khoang", "Bản Mồ Dề", "Thôn Sín Chải", "Bản Tả Van",
    "Thôn Lao Chải", "Bản Hầu Thào", "Thôn Séo Mý Tỷ", "Bản Cát Cát", "Thôn Trung Đô",
    "Bản Khun Há", "Thôn Nậm Cang", "Bản Phìn Hồ", "Thôn Ý Lình Hồ", "Bản Nặm Lầu",
]  # fmt: skip
COMMUNES = [
    ("04465", "xã Khao Mang"), ("04456", "xã Mù Cang Chải"), ("04492", "xã Púng Luông"),
    ("04630", "xã Tú Lệ"),
]  # fmt: skip
HOSPITALS = [
    "Trạm y tế xã Khao Mang", "Bệnh viện Đa khoa huyện Mù Cang Chải",
    "Bệnh viện Đa khoa tỉnh Lào Cai", "Tại nhà", "Trung tâm Y tế khu vực Mù Cang Chải",
]  # fmt: skip
RELATIONS_BIRTH = ["cha", "mẹ", "ông nội", "bà nội", "ông ngoại", "bà ngoại"]
RELATIONS_DEATH = ["con", "vợ", "chồng", "cháu nội", "anh ruột", "em ruột"]
CAUSES = [
    "Già yếu", "Bệnh hiểm nghèo", "Tai nạn giao thông", "Đột quỵ", "Bệnh tim mạch",
    "Ung thư phổi", "Viêm phổi nặng", "Tai nạn lao động",
]  # fmt: skip
NOTES = [
    "Người đi khai xuất trình đầy đủ giấy tờ bản chính, cán bộ tư pháp đã đối chiếu.",
    "Gia đình ở xa trung tâm xã, đi bộ hơn hai giờ đường núi để nộp hồ sơ.",
    "Đã hướng dẫn người yêu cầu kiểm tra lại thông tin trên tờ khai trước khi ký.",
    "Hồ sơ tiếp nhận trực tiếp tại bộ phận một cửa, chưa nộp lệ phí bản sao.",
    "Người yêu cầu không biết chữ, cán bộ đọc lại tờ khai bằng tiếng Mông cho nghe.",
    "Giấy tờ tùy thân của người yêu cầu đã được chụp lại và lưu kèm hồ sơ.",
    "Đề nghị trả kết quả qua bưu điện do đường vào bản bị sạt lở mùa mưa.",
    "Trưởng bản đã xác nhận nơi cư trú của gia đình trong giấy giới thiệu kèm theo.",
    "Thông tin về cha mẹ được đối chiếu với sổ hộ khẩu cũ và cơ sở dữ liệu dân cư.",
    "Người yêu cầu hẹn quay lại nhận kết quả vào phiên chợ tuần sau.",
    "Cán bộ đã giải thích quy định về thời hạn đăng ký và mức phạt khi đăng ký muộn.",
    "Hồ sơ có bản dịch giấy tờ do người làm chứng trong bản hỗ trợ.",
]  # fmt: skip


def doc_bytes(doc: dict[str, Any]) -> int:
    """Return the size of a document as the peer stores it: compact UTF-8 JSON."""
    return len(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


@dataclass(frozen=True)
class BenchDoc:
    """One generated dossier.

    Attributes:
        id: a stable id (a UUID drawn from the seed), the peer's ``_id``.
        procedure: ``khai_sinh``, ``khai_tu``, ``xac_nhan_hon_nhan`` or ``ket_hon``.
        received_at: when the papers were received (local time, no zone).
        data: the procedure's fields by name, as the clerk typed them.
        number: the document's index in its generated series.
        commune: the registering commune's code.
    """

    id: str
    procedure: str
    received_at: dt.datetime
    data: dict[str, str]
    number: int = 0
    commune: str = COMMUNE
    extra: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """Return the flat record (metadata + ``data.<field>``), as the store keeps it."""
        day = self.received_at.date()
        record: dict[str, Any] = {
            "procedure": self.procedure,
            "commune": self.commune,
            "dossier_no": f"{self.commune}-{day:%Y%m%d}-{self.id[-4:].upper()}-{self.number + 1}",
            "status": "tiep_nhan",
            "received_at": self.received_at.isoformat(timespec="seconds"),
            "due_at": (
                day + dt.timedelta(days=3 if self.procedure == "ket_hon" else 0)
            ).isoformat(),
            "late": False,
            "book_type": BOOK_TYPES[self.procedure],
        }
        data = {**self.data, **_derived(self.procedure, self.data)}
        for name in sorted(data):
            record[f"data.{name}"] = data[name]
        return record

    def couch_doc(self) -> dict[str, Any]:
        """Return the document the PouchDB peer replicates: the record with an ``_id``."""
        return {"_id": self.id, **self.record()}

    def size(self) -> int:
        """Return the compact UTF-8 JSON size of :meth:`couch_doc` in bytes."""
        return doc_bytes(self.couch_doc())

    def to_json(self) -> dict[str, Any]:
        """Return a JSON line for the peer and for re-reading (``read_jsonl``)."""
        return {
            "id": self.id,
            "number": self.number,
            "procedure": self.procedure,
            "received_at": self.received_at.isoformat(timespec="seconds"),
            "commune": self.commune,
            "data": self.data,
            "doc": self.couch_doc(),
        }


def _derived(procedure_code: str, data: dict[str, str]) -> dict[str, str]:
    """Return the read-only fields the store derives (dates in words), so records match."""
    from desktop.forms.procedures import get_procedure
    from desktop.forms.vietnamese import date_in_words

    derived = {}
    for f in get_procedure(procedure_code).fields:
        source = data.get(f.derived_from or "")
        if f.derived_from and source:
            derived[f.name] = date_in_words(dt.date.fromisoformat(source))
    return derived


class _Person:
    """Draws one consistent person: name parts, sex, birth date and a matching ID number."""

    def __init__(self, rng: random.Random, sex: str, born: dt.date, serial: int) -> None:
        self.sex = sex
        self.born = born
        self.ho = rng.choice(FAMILY)
        male = sex == "Nam"
        self.chu_dem = rng.choice(MALE_MIDDLE if male else FEMALE_MIDDLE)
        self.ten = rng.choice(MALE_GIVEN if male else FEMALE_GIVEN)
        self.dan_toc = rng.choice(ETHNIC)
        # Personal ID: 3-digit province prefix, century/sex digit, 2-digit year, 6 digits.
        century = (born.year // 100 - 19) * 2 + (0 if male else 1)
        self.id_number = f"015{century}{born.year % 100:02d}{serial % 1_000_000:06d}"

    @property
    def full_name(self) -> str:
        return f"{self.ho} {self.chu_dem} {self.ten}"


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


def _address(rng: random.Random, commune: tuple[str, str] | None = None) -> str:
    _, name = commune or rng.choice(COMMUNES)
    return f"{rng.choice(VILLAGES)}, {name}, tỉnh Lào Cai"


def _phone(rng: random.Random) -> str:
    return "0" + rng.choice("389") + "".join(rng.choice("0123456789") for _ in range(8))


def _received(rng: random.Random) -> dt.datetime:
    # A working day of the first quarter of 2026, office hours.
    day = _date_between(rng, dt.date(2026, 1, 5), dt.date(2026, 3, 27))
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    minute = rng.randint(7 * 60 + 30, 16 * 60 + 30)
    return dt.datetime.combine(day, dt.time(minute // 60, minute % 60))


def _birth(rng: random.Random, received: dt.date, n: int) -> dict[str, str]:
    born = received - dt.timedelta(days=rng.randint(1, 55))
    mother = _Person(rng, "Nữ", _date_between(rng, dt.date(1988, 1, 1), dt.date(2006, 1, 1)), n)
    father = _Person(rng, "Nam", _date_between(rng, dt.date(1984, 1, 1), dt.date(2004, 1, 1)), n)
    child_sex = rng.choice(["Nam", "Nữ"])
    child = _Person(rng, child_sex, born, n)
    home = _address(rng, COMMUNES[0])
    declarant, relation = (father, "cha") if rng.random() < 0.7 else (mother, "mẹ")
    if rng.random() < 0.1:
        relation = rng.choice(RELATIONS_BIRTH[2:])
    return {
        "nguoi_yeu_cau_ho_ten": declarant.full_name,
        "nguoi_yeu_cau_so_dinh_danh": declarant.id_number,
        "nguoi_yeu_cau_cu_tru": home,
        "nguoi_yeu_cau_quan_he": relation,
        "nguoi_yeu_cau_dien_thoai": _phone(rng),
        "tre_ho": father.ho,
        "tre_chu_dem": child.chu_dem,
        "tre_ten": child.ten,
        "tre_gioi_tinh": child_sex,
        "tre_ngay_sinh": born.isoformat(),
        "tre_noi_sinh": rng.choice(HOSPITALS),
        "tre_noi_sinh_tinh": "15",
        "tre_dan_toc": father.dan_toc,
        "tre_quoc_tich": "Việt Nam",
        "tre_que_quan": "xã Khao Mang, tỉnh Lào Cai",
        "me_ho_ten": mother.full_name,
        "me_ngay_sinh": mother.born.isoformat(),
        "me_dan_toc": mother.dan_toc,
        "me_quoc_tich": "Việt Nam",
        "me_cu_tru": home,
        "me_so_dinh_danh": mother.id_number,
        "cha_ho_ten": father.full_name,
        "cha_ngay_sinh": father.born.isoformat(),
        "cha_dan_toc": father.dan_toc,
        "cha_quoc_tich": "Việt Nam",
        "cha_cu_tru": home,
        "cha_so_dinh_danh": father.id_number,
        "giay_chung_sinh_so": f"GCS-{rng.randint(1, 999)}/{born.year}",
        "so_ban_sao": str(rng.randint(1, 3)),
    }


def _death(rng: random.Random, received: dt.date, n: int) -> dict[str, str]:
    died = received - dt.timedelta(days=rng.randint(1, 14))
    sex = rng.choice(["Nam", "Nữ"])
    deceased = _Person(rng, sex, _date_between(rng, dt.date(1930, 1, 1), dt.date(1990, 1, 1)), n)
    relative = _Person(rng, "Nam", _date_between(rng, dt.date(1960, 1, 1), dt.date(2000, 1, 1)), n)
    home = _address(rng, COMMUNES[0])
    return {
        "nguoi_yeu_cau_ho_ten": relative.full_name,
        "nguoi_yeu_cau_so_dinh_danh": relative.id_number,
        "nguoi_yeu_cau_cu_tru": home,
        "nguoi_yeu_cau_quan_he": rng.choice(RELATIONS_DEATH),
        "nguoi_yeu_cau_dien_thoai": _phone(rng),
        "nguoi_chet_ho": deceased.ho,
        "nguoi_chet_chu_dem": deceased.chu_dem,
        "nguoi_chet_ten": deceased.ten,
        "nguoi_chet_ngay_sinh": deceased.born.isoformat(),
        "nguoi_chet_gioi_tinh": sex,
        "nguoi_chet_dan_toc": deceased.dan_toc,
        "nguoi_chet_quoc_tich": "Việt Nam",
        "nguoi_chet_so_dinh_danh": deceased.id_number,
        "nguoi_chet_cu_tru": home,
        "ngay_chet": died.isoformat(),
        "gio_chet": f"{rng.randint(0, 23):02d}:{rng.choice([0, 15, 30, 45]):02d}",
        "noi_chet": rng.choice(["Tại nhà, ", "Tại nương, "]) + home.split(",")[0].lower(),
        "nguyen_nhan_chet": rng.choice(CAUSES),
        "giay_bao_tu_so": f"{rng.randint(1, 300)}/GBT",
        "giay_bao_tu_noi_cap": rng.choice(HOSPITALS[:3]),
        "giay_bao_tu_ngay_cap": (died + dt.timedelta(days=1)).isoformat(),
        "so_ban_sao": str(rng.randint(1, 4)),
    }


def _marital(rng: random.Random, received: dt.date, n: int) -> dict[str, str]:
    sex = rng.choice(["Nam", "Nữ"])
    person = _Person(rng, sex, _date_between(rng, dt.date(1975, 1, 1), dt.date(2005, 12, 1)), n)
    commune = rng.choice(COMMUNES)
    home = _address(rng, commune)
    partner_sex = "Nữ" if sex == "Nam" else "Nam"
    partner = _Person(rng, partner_sex, dt.date(1990, 1, 1), n)
    since = _date_between(rng, dt.date(2010, 1, 1), dt.date(2020, 1, 1))
    data = {
        "nguoi_yeu_cau_ho_ten": person.full_name,
        "nguoi_yeu_cau_so_dinh_danh": person.id_number,
        "nguoi_yeu_cau_cu_tru": home,
        "nguoi_yeu_cau_quan_he": "bản thân",
        "nguoi_yeu_cau_dien_thoai": _phone(rng),
        "nguoi_duoc_xac_nhan_ho": person.ho,
        "nguoi_duoc_xac_nhan_chu_dem": person.chu_dem,
        "nguoi_duoc_xac_nhan_ten": person.ten,
        "nguoi_duoc_xac_nhan_ngay_sinh": person.born.isoformat(),
        "nguoi_duoc_xac_nhan_gioi_tinh": sex,
        "nguoi_duoc_xac_nhan_dan_toc": person.dan_toc,
        "nguoi_duoc_xac_nhan_quoc_tich": "Việt Nam",
        "nguoi_duoc_xac_nhan_so_dinh_danh": person.id_number,
        "nguoi_duoc_xac_nhan_cu_tru": home,
        "nguoi_duoc_xac_nhan_cu_tru_xa": commune[0],
        "thoi_gian_cu_tru_tu": since.isoformat(),
        "thoi_gian_cu_tru_den": (received - dt.timedelta(days=1)).isoformat(),
        "tinh_trang_hon_nhan": rng.choice(["chua_ket_hon", "chua_ket_hon", "da_ly_hon"]),
    }
    if rng.random() < 0.75:
        data["muc_dich"] = "ket_hon"
        data["ket_hon_voi_ho_ten"] = partner.full_name
        data["ket_hon_voi_quoc_tich"] = "Việt Nam"
        data["ket_hon_noi_dang_ky"] = f"UBND {rng.choice(COMMUNES)[1]}, tỉnh Lào Cai"
    else:
        data["muc_dich"] = "khac"
        data["muc_dich_chi_tiet"] = rng.choice(
            ["Bổ sung hồ sơ vay vốn ngân hàng chính sách", "Hoàn thiện hồ sơ xuất khẩu lao động"]
        )
    data["so_ban_sao"] = str(rng.randint(1, 3))
    return data


def _marriage(rng: random.Random, received: dt.date, n: int) -> dict[str, str]:
    wife = _Person(rng, "Nữ", _date_between(rng, dt.date(1990, 1, 1), dt.date(2006, 1, 1)), n)
    husband = _Person(rng, "Nam", _date_between(rng, dt.date(1986, 1, 1), dt.date(2004, 1, 1)), n)
    return {
        "vo_ho": wife.ho,
        "vo_chu_dem": wife.chu_dem,
        "vo_ten": wife.ten,
        "vo_ngay_sinh": wife.born.isoformat(),
        "vo_dan_toc": wife.dan_toc,
        "vo_quoc_tich": "Việt Nam",
        "vo_cu_tru": _address(rng, COMMUNES[0]),
        "vo_so_dinh_danh": wife.id_number,
        "vo_lan_ket_hon": "1",
        "chong_ho": husband.ho,
        "chong_chu_dem": husband.chu_dem,
        "chong_ten": husband.ten,
        "chong_ngay_sinh": husband.born.isoformat(),
        "chong_dan_toc": husband.dan_toc,
        "chong_quoc_tich": "Việt Nam",
        "chong_cu_tru": _address(rng),
        "chong_so_dinh_danh": husband.id_number,
        "chong_lan_ket_hon": rng.choice(["1", "1", "1", "2"]),
        "dien_thoai": _phone(rng),
        "so_ban_sao": str(rng.randint(1, 4)),
    }


_MAKERS = {
    "khai_sinh": _birth,
    "khai_tu": _death,
    "xac_nhan_hon_nhan": _marital,
    "ket_hon": _marriage,
}


def _fill_note(doc: BenchDoc, rng: random.Random, target: int) -> BenchDoc:
    """Grow the clerk's note sentence by sentence until the document reaches ``target`` bytes."""
    sentences = rng.sample(NOTES, len(NOTES))
    note: list[str] = []
    size = doc.size()
    for sentence in sentences:
        if size >= target:
            break
        note.append(sentence)
        doc.data["ghi_chu"] = " ".join(note)
        size = doc.size()
    if size > MAX_BYTES and len(note) > 1:  # the last sentence overshot: drop it
        note.pop()
        doc.data["ghi_chu"] = " ".join(note)
    return doc


def generate(
    count: int, seed: int = 1, *, start: int = 0, commune: str = COMMUNE
) -> list[BenchDoc]:
    """Return ``count`` dossiers, the same for the same arguments on every machine.

    Args:
        count: how many documents.
        seed: the series; different seeds give unrelated documents.
        start: index of the first document (``generate(10, s, start=5)`` equals documents
            5-14 of ``generate(15, s)``), so a workload can add documents to an earlier set.
        commune: the registering commune's 5-digit code.

    Returns:
        Documents of 1.3-1.8 KB each (see :data:`MIN_BYTES`, :data:`MAX_BYTES`).
    """
    if count < 0 or start < 0:
        raise ValueError("count and start must not be negative")
    docs = []
    names = [name for name, _ in MIX]
    weights = [weight for _, weight in MIX]
    for n in range(start, start + count):
        rng = random.Random(f"motcua-bench:{seed}:{n}")
        procedure = rng.choices(names, weights)[0]
        received = _received(rng)
        serial = seed * 100_003 + n
        data = _MAKERS[procedure](rng, received.date(), serial)
        doc_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        doc = BenchDoc(doc_id, procedure, received, data, number=n, commune=commune)
        target = rng.randint(MIN_BYTES + 50, MAX_BYTES - 50)
        docs.append(_fill_note(doc, rng, target))
    return docs


def edit_fields(doc: BenchDoc, seed: int = 1) -> dict[str, str]:
    """Return an edit of two fields of ``doc`` (a new phone number and a longer note).

    These are the two fields a clerk most often corrects after registering; the edit is
    valid for the document's procedure.
    """
    rng = random.Random(f"motcua-bench-edit:{seed}:{doc.id}")
    phone_field = "dien_thoai" if doc.procedure == "ket_hon" else "nguoi_yeu_cau_dien_thoai"
    note = doc.data.get("ghi_chu", "")
    addition = "Đã bổ sung bản sao giấy tờ ngày " + f"{rng.randint(1, 28)}/{rng.randint(1, 12)}."
    return {phone_field: _phone(rng), "ghi_chu": (note + " " + addition).strip()}


def scan_bytes(number: int, size: int = 300 * 1024, seed: int = 1) -> bytes:
    """Return a reproducible, incompressible stand-in for one scanned page (JPEG-like entropy)."""
    rng = random.Random(f"motcua-bench-scan:{seed}:{number}")
    return rng.randbytes(size)


def write_jsonl(path: Path | str, docs: Iterable[BenchDoc]) -> int:
    """Write documents as JSON lines (see :meth:`BenchDoc.to_json`); return how many."""
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        for doc in docs:
            out.write(json.dumps(doc.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n")
            count += 1
    return count


def read_jsonl(path: Path | str) -> Iterator[BenchDoc]:
    """Read documents written by :func:`write_jsonl`."""
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            obj = json.loads(line)
            yield BenchDoc(
                obj["id"],
                obj["procedure"],
                dt.datetime.fromisoformat(obj["received_at"]),
                dict(obj["data"]),
                number=int(obj["number"]),
                commune=obj["commune"],
            )


def main(argv: list[str] | None = None) -> int:
    """Write ``--count`` documents of series ``--seed`` to ``--out`` (JSON lines)."""
    parser = argparse.ArgumentParser(prog="python -m bench.docs_gen", description=__doc__)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--commune", default=COMMUNE)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    docs = generate(args.count, args.seed, start=args.start, commune=args.commune)
    write_jsonl(args.out, docs)
    sizes = [d.size() for d in docs] or [0]
    print(f"{len(docs)} documents, {min(sizes)}-{max(sizes)} B, total {sum(sizes)} B → {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
