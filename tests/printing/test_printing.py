"""Printed papers: the right Vietnamese text, a rendering PDF, and a QR code that verifies."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import types
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.forms.procedures import get_procedure
from desktop.forms.receipt import build_receipt
from desktop.printing import (
    parse_payload,
    render_certificate,
    render_receipt,
    verify_printout,
)
from desktop.printing.documents import CERTIFICATES, RECEIPT_SLIP
from desktop.printing.layout import Columns, Line, sources_of, split_source
from desktop.printing.qr import b64url, qr_matrix
from tests.printing.printing_records import COMMUNE, EXPECTED_TEXT, ISSUED, RECORDS, SIGNER

POPPLER = shutil.which("pdftotext") and shutil.which("pdftoppm") and shutil.which("pdfinfo")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdftotext) not installed")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "print"

PRIVATE_KEY = Ed25519PrivateKey.generate()
PUBLIC_KEY = PRIVATE_KEY.public_key().public_bytes_raw()


def pdf_text(path: Path) -> str:
    """Return the PDF's text with whitespace collapsed (lines wrap anywhere)."""
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    return " ".join(out.stdout.decode("utf-8").split())


def pdf_keywords(path: Path) -> str:
    """Return the Keywords entry of the PDF (the renderer stores the QR payload there)."""
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, text=True)
    for line in out.stdout.splitlines():
        if line.startswith("Keywords:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError("no Keywords in the PDF")


def render_png(path: Path, dpi: int = 50) -> Path:
    """Render the first page with pdftoppm and return the PNG."""
    prefix = path.with_suffix("")
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(path),
            str(prefix),
        ],
        check=True,
        capture_output=True,
    )
    return prefix.with_suffix(".png")


def keep_sample(path: Path) -> None:
    """Copy a rendered paper and its picture under artifacts/print for people to look at."""
    try:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, ARTIFACTS / path.name)
        shutil.copy(render_png(path, 60), ARTIFACTS / path.with_suffix(".png").name)
    except (OSError, subprocess.CalledProcessError):
        pass  # samples are a courtesy, never a failure


@pytest.fixture(scope="module")
def papers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Render every certificate and the birth receipt slip once for the module."""
    folder = tmp_path_factory.mktemp("papers")
    rendered: dict[str, Path] = {}
    for code, record in RECORDS.items():
        rendered[code] = render_certificate(
            code,
            record,
            commune_name=COMMUNE,
            signer_name=SIGNER,
            signer_title="Phó Chủ tịch",
            signer=PRIVATE_KEY.sign,
            date_in_words_style=None,
            out_path=folder / f"{code}.pdf",
            issued_on=ISSUED,
        )
    slip = build_receipt(
        get_procedure("khai_sinh"), RECORDS["khai_sinh"], commune_name=COMMUNE, clerk_name=SIGNER
    )
    rendered["receipt"] = render_receipt(
        slip, signer=PRIVATE_KEY.sign, out_path=folder / "phieu_tiep_nhan.pdf"
    )
    if POPPLER:
        for path in rendered.values():
            keep_sample(path)
    return rendered


@needs_poppler
@pytest.mark.parametrize("code", sorted(RECORDS))
def test_certificate_shows_the_vietnamese_text(papers: dict[str, Path], code: str) -> None:
    text = pdf_text(papers[code])
    assert unicodedata.is_normalized("NFC", text)
    for expected in EXPECTED_TEXT[code]:
        assert expected in text, expected
    for common in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "ỦY BAN NHÂN DÂN",
        "XÃ MÙ CANG CHẢI",
        "Mù Cang Chải, ngày 15 tháng 3 năm 2025",
        SIGNER,
        "PHÓ CHỦ TỊCH",
        RECORDS[code]["dossier_no"],
    ):
        assert common in text, common


@needs_poppler
def test_receipt_slip_shows_applicant_dates_and_papers(papers: dict[str, Path]) -> None:
    text = pdf_text(papers["receipt"])
    for expected in (
        "PHIẾU TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        "Mã hồ sơ: 04456-20250315-a1b2-7",
        "GIÀNG A DÌNH",
        "Đăng ký khai sinh",
        "1.001193",
        "Giấy chứng sinh",
        "09 giờ 12 phút, ngày 15/03/2025",
        # Received on a Saturday: the result is promised on Monday.
        "17/03/2025",
        "NGƯỜI NỘP HỒ SƠ",
        "NGƯỜI TIẾP NHẬN HỒ SƠ",
        SIGNER,
    ):
        assert expected in text, expected


@needs_poppler
@pytest.mark.parametrize(
    "name", ["khai_sinh", "khai_tu", "xac_nhan_hon_nhan", "ket_hon", "receipt"]
)
def test_paper_renders_as_one_a4_page(papers: dict[str, Path], name: str) -> None:
    from PIL import Image

    info = subprocess.run(
        ["pdfinfo", str(papers[name])], capture_output=True, text=True, check=True
    )
    assert re.search(r"^Pages:\s+1$", info.stdout, re.M)
    assert re.search(r"^Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info.stdout, re.M)
    png = render_png(papers[name], 50)
    with Image.open(png) as image:
        width, height = image.size
        assert abs(width - 413) <= 1 and abs(height - 585) <= 1  # A4 at 50 dpi
        gray = image.convert("L")
        dark = sum(gray.histogram()[:128])
    # Ink on the page, but far from black: text and a QR code on white paper.
    assert 0.01 < dark / (width * height) < 0.25


@needs_poppler
@pytest.mark.parametrize("name", ["khai_sinh", "receipt"])
def test_fonts_are_embedded(papers: dict[str, Path], name: str) -> None:
    out = subprocess.run(
        ["pdffonts", str(papers[name])], capture_output=True, text=True, check=True
    )
    rows = out.stdout.splitlines()[2:]
    assert rows and all(" yes " in row for row in rows)  # emb column


@needs_poppler
@pytest.mark.parametrize("name", sorted(RECORDS) + ["receipt"])
def test_qr_payload_verifies_against_the_record(papers: dict[str, Path], name: str) -> None:
    payload = pdf_keywords(papers[name])
    record = RECORDS["khai_sinh" if name == "receipt" else name]
    assert parse_payload(payload).dossier_no == record["dossier_no"]
    assert verify_printout(payload, PUBLIC_KEY)
    assert verify_printout(payload, PUBLIC_KEY, record)


@needs_poppler
def test_printed_qr_code_encodes_the_payload(papers: dict[str, Path]) -> None:
    """Sample the QR modules from a 300 dpi rendering and compare them with the payload's."""
    from PIL import Image

    payload = pdf_keywords(papers["khai_sinh"])
    expected = qr_matrix(payload)
    png = render_png(papers["khai_sinh"], 200)
    px_per_mm = 200 / 25.4
    with Image.open(png) as image:
        gray = image.convert("L")
        # The QR's left edge is 4 mm right of the left margin (25 mm). Find its top by the
        # finder pattern: a solid dark run 7 modules tall, which no text line has.
        module = 26 * px_per_mm / len(expected)
        x0 = round((25 + 4) * px_per_mm)
        column = [gray.getpixel((round(x0 + module / 2), y)) < 128 for y in range(gray.height)]
        run, y0 = 0, -1
        for y, dark in enumerate(column):
            run = run + 1 if dark else 0
            if run >= 6.5 * module:
                y0 = y - run + 1
                break
        assert y0 > 0, "no QR finder pattern found"
        seen = [
            [
                gray.getpixel((round(x0 + (c + 0.5) * module), round(y0 + (r + 0.5) * module)))
                < 128
                for c in range(len(expected))
            ]
            for r in range(len(expected))
        ]
    assert seen == expected


@needs_poppler
@pytest.mark.parametrize("name", sorted(RECORDS) + ["receipt"])
def test_qr_code_scans_from_a_100_dpi_picture(papers: dict[str, Path], name: str) -> None:
    """A real decoder reads the code from a coarse picture of the page, as a phone would."""
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    png = render_png(papers[name], 100)
    with Image.open(png) as image:
        found = [
            r.text
            for r in zxingcpp.read_barcodes(image)
            if r.format == zxingcpp.BarcodeFormat.QRCode
        ]
    assert found == [pdf_keywords(papers[name])]
    record = RECORDS["khai_sinh" if name == "receipt" else name]
    assert verify_printout(found[0], PUBLIC_KEY, record)


def test_verify_rejects_tampering() -> None:
    record = RECORDS["khai_sinh"]
    path_free = _payload_for("khai_sinh", record)
    assert verify_printout(path_free, PUBLIC_KEY, record)
    # The record was edited after printing: the printed name no longer matches.
    edited = record | {"data.tre_ten": "Xá"}
    assert not verify_printout(path_free, PUBLIC_KEY, edited)
    # The register book number differs.
    assert not verify_printout(path_free, PUBLIC_KEY, record | {"book_number": 16})
    # The paper names another dossier.
    assert not verify_printout(path_free, PUBLIC_KEY, record | {"dossier_no": "04456-x-1"})
    # Someone retypes the payload with another dossier number or digest.
    parts = path_free.split(".")
    forged_no = ".".join([parts[0], "04456-20250315-a1b2-8", *parts[2:]])
    assert not verify_printout(forged_no, PUBLIC_KEY)
    digest = parts[-2]
    forged_digest = path_free.replace(digest, ("A" if digest[0] != "A" else "B") + digest[1:])
    assert not verify_printout(forged_digest, PUBLIC_KEY)
    # Another device's key, and an unsigned printout, do not verify.
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    assert not verify_printout(path_free, other)
    assert not verify_printout(_payload_for("khai_sinh", record, signer=None), PUBLIC_KEY)
    assert not verify_printout(path_free, b"short key")


def test_receipt_verification_follows_the_record(tmp_path: Path) -> None:
    record = RECORDS["khai_sinh"]
    slip = build_receipt(
        get_procedure("khai_sinh"), record, commune_name=COMMUNE, clerk_name=SIGNER
    )
    path = render_receipt(slip, signer=PRIVATE_KEY.sign, out_path=tmp_path / "slip.pdf")
    assert path.stat().st_size > 5000
    payload = _keywords_without_poppler(path)
    assert parse_payload(payload).kind == RECEIPT_SLIP.kind
    assert verify_printout(payload, PUBLIC_KEY, record)
    assert not verify_printout(payload, PUBLIC_KEY, record | {"received_at": "2025-03-15T10:12:00"})
    assert not verify_printout(
        payload, PUBLIC_KEY, record | {"data.nguoi_yeu_cau_ho_ten": "Giàng A Páo"}
    )


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_verify_never_raises_on_arbitrary_text(text: str) -> None:
    assert verify_printout(text, PUBLIC_KEY) is False
    assert verify_printout("MCX1." + text, PUBLIC_KEY, RECORDS["khai_tu"]) is False


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=400), st.characters())
def test_verify_rejects_any_single_character_change(position: int, replacement: str) -> None:
    payload = _payload_for("khai_tu", RECORDS["khai_tu"])
    index = position % len(payload)
    changed = payload[:index] + replacement + payload[index + 1 :]
    if changed.strip() != payload:
        assert not verify_printout(changed, PUBLIC_KEY, RECORDS["khai_tu"])


def test_date_in_words_follows_the_settings(tmp_path: Path) -> None:
    record = RECORDS["khai_sinh"] | {"data.tre_ngay_sinh": "2005-03-05"}
    path = render_certificate(
        "khai_sinh",
        record,
        commune_name="Phường Cam Đường",
        signer_name=SIGNER,
        signer_title="Chủ tịch",
        signer=None,
        date_in_words_style={"date_words_mung": True, "date_words_zero_tens": "lẻ"},
        out_path=tmp_path / "gks.pdf",
        issued_on=ISSUED,
    )
    if not POPPLER:
        pytest.skip("poppler-utils not installed")
    text = pdf_text(path)
    assert "Ngày mùng năm tháng ba năm hai nghìn không trăm lẻ năm" in text
    assert "PHƯỜNG CAM ĐƯỜNG" in text
    assert "Ủy ban nhân dân phường Cam Đường, tỉnh Lào Cai" in text


@needs_poppler
def test_empty_values_get_dotted_leaders_and_optional_lines_drop(tmp_path: Path) -> None:
    record = {
        k: v for k, v in RECORDS["xac_nhan_hon_nhan"].items() if not k.startswith("data.ket_hon")
    }
    record = record | {"data.muc_dich": "khac", "data.nguoi_duoc_xac_nhan_so_dinh_danh": ""}
    record.pop("book_number")
    path = render_certificate(
        "xac_nhan_hon_nhan",
        record,
        commune_name=COMMUNE,
        signer_name=SIGNER,
        signer_title="Chủ tịch",
        signer=PRIVATE_KEY.sign,
        out_path=tmp_path / "xn.pdf",
    )
    text = pdf_text(path)
    assert "Kết hôn với" not in text
    assert "Mục đích khác" in text
    assert "Số: ......" in text  # no book number yet
    assert "Giấy tờ tùy thân (số định danh): ......" in text


@needs_poppler
def test_decomposed_input_prints_as_nfc_and_verifies_the_same(tmp_path: Path) -> None:
    """A name typed on a keyboard that sends combining marks prints and signs like NFC."""
    nfd = {
        k: unicodedata.normalize("NFD", v) if isinstance(v, str) else v
        for k, v in RECORDS["khai_sinh"].items()
    }
    path = render_certificate(
        "khai_sinh",
        nfd,
        commune_name=unicodedata.normalize("NFD", COMMUNE),
        signer_name=SIGNER,
        signer_title="Chủ tịch",
        signer=PRIVATE_KEY.sign,
        out_path=tmp_path / "nfd.pdf",
    )
    text = pdf_text(path)
    assert "GIÀNG A XÀ" in text and "Sùng Thị Mỷ" in text
    assert unicodedata.is_normalized("NFC", text)
    assert verify_printout(pdf_keywords(path), PUBLIC_KEY, RECORDS["khai_sinh"])


def test_a_store_record_object_is_accepted(tmp_path: Path) -> None:
    stored = types.SimpleNamespace(id="0192", record=RECORDS["khai_tu"])
    path = render_certificate(
        "khai_tu",
        stored,
        commune_name="04456",
        signer_name=SIGNER,
        signer_title="Chủ tịch",
        signer=PRIVATE_KEY.sign,
        out_path=tmp_path / "tl.pdf",
    )
    payload = _keywords_without_poppler(path)
    assert verify_printout(payload, PUBLIC_KEY, stored)
    assert not verify_printout(payload, PUBLIC_KEY, types.SimpleNamespace(record=None))


def test_bad_requests_raise_and_write_nothing(tmp_path: Path) -> None:
    out = tmp_path / "x.pdf"
    kwargs: dict[str, Any] = dict(
        commune_name=COMMUNE, signer_name=SIGNER, signer_title="Chủ tịch", signer=None, out_path=out
    )
    with pytest.raises(ValueError, match="no printed paper"):
        render_certificate("cai_chinh", RECORDS["khai_sinh"], **kwargs)
    with pytest.raises(ValueError, match="not 'khai_tu'"):
        render_certificate("khai_tu", RECORDS["khai_sinh"], **kwargs)
    with pytest.raises(ValueError, match="no number"):
        render_certificate("khai_sinh", RECORDS["khai_sinh"] | {"dossier_no": ""}, **kwargs)
    slip = build_receipt(
        get_procedure("khai_tu"), RECORDS["khai_tu"], commune_name=COMMUNE, clerk_name=SIGNER
    )
    with pytest.raises(ValueError):
        render_receipt(dataclasses.replace(slip, dossier_no=""), signer=None, out_path=out)
    with pytest.raises(ValueError, match="64-byte"):
        render_receipt(slip, signer=lambda message: b"too short", out_path=out)
    assert list(tmp_path.iterdir()) == []


def test_every_layout_reads_declared_fields_only() -> None:
    """A renamed field in a procedure must not silently print dots."""
    for code, layout in CERTIFICATES.items():
        procedure = get_procedure(code)
        persons = {p.key for p in procedure.persons}
        for source in sources_of(layout):
            for part in split_source(source):
                prefix, _, key = part.partition(":")
                if not key:
                    assert procedure.has_field(part), (code, part)
                elif prefix == "name":
                    assert key in persons, (code, part)
                elif prefix == "words":
                    assert procedure.has_field(key), (code, part)
                else:
                    assert prefix in ("meta", "ctx"), (code, part)
        assert any(isinstance(b, (Line, Columns)) for b in layout.blocks)
    for source in sources_of(RECEIPT_SLIP):
        prefix, _, key = source.partition(":")
        assert prefix in ("slip", "ctx")
        if prefix == "slip":
            assert key in {f.name for f in dataclasses.fields(_slip_type())}, source


def test_dossier_number_with_dots_round_trips() -> None:
    record = RECORDS["khai_tu"] | {"dossier_no": "KT.2025.0004"}
    payload = _payload_for("khai_tu", record)
    assert parse_payload(payload).dossier_no == "KT.2025.0004"
    assert verify_printout(payload, PUBLIC_KEY, record)
    assert len(payload) < 160  # small enough for a 26 mm QR code at error level M
    assert len(parse_payload(payload).signature) == 64
    assert payload.endswith(b64url(parse_payload(payload).signature))


# -- helpers ------------------------------------------------------------------------------------


def _slip_type() -> type:
    from desktop.forms.receipt import ReceiptSlip

    return ReceiptSlip


def _payload_for(code: str, record: dict[str, Any], signer: Any = PRIVATE_KEY.sign) -> str:
    """Return the QR payload the renderer would print for a record, without drawing."""
    from desktop.printing.documents import certificate_layout
    from desktop.printing.qr import facts_digest, make_payload
    from desktop.printing.values import certificate_facts

    layout = certificate_layout(code)
    digest = facts_digest(certificate_facts(get_procedure(code), layout, record))
    return make_payload(record["dossier_no"], layout.kind, digest, signer).encode()


def _keywords_without_poppler(path: Path) -> str:
    """Read the payload from the PDF's Info dictionary (fpdf2 writes it uncompressed)."""
    raw = path.read_bytes()
    start = raw.index(b"/Keywords")
    segment = raw[start : start + 2000]
    # fpdf2 writes text strings as UTF-16BE hex or as a literal (ASCII payloads).
    if b"<FEFF" in segment[:40].upper():
        hex_start = segment.index(b"<") + 1
        hex_text = segment[hex_start : segment.index(b">", hex_start)]
        return bytes.fromhex(hex_text.decode()).decode("utf-16-be").lstrip("\ufeff")
    literal_start = segment.index(b"(") + 1
    return segment[literal_start : segment.index(b")", literal_start)].decode("latin-1")
