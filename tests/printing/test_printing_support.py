"""Fonts found at run time, the QR payload format, and handing PDFs to the system."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.printing import fonts as fonts_module
from desktop.printing import system
from desktop.printing.fonts import FontNotFound, covers_vietnamese, find_serif_fonts
from desktop.printing.qr import (
    PayloadError,
    facts_digest,
    make_payload,
    parse_payload,
    qr_matrix,
)


@pytest.fixture(autouse=True)
def fresh_font_cache() -> None:
    fonts_module._find_cached.cache_clear()
    yield
    fonts_module._find_cached.cache_clear()


def test_a_vietnamese_serif_is_found_here() -> None:
    found = find_serif_fonts()
    assert found.family in ("Times New Roman", "Liberation Serif", "DejaVu Serif") or found.regular
    for path in found.by_style().values():
        assert path.is_file()
    assert covers_vietnamese(found.regular)
    assert found.bold != found.regular  # every family we look for ships a bold face


def test_override_folder_from_settings_wins(tmp_path: Path) -> None:
    system_fonts = find_serif_fonts()
    for style, name in (("", "Custom-Regular"), ("B", "Custom-Bold"), ("I", "Custom-Italic")):
        shutil.copy(system_fonts.by_style()[style], tmp_path / f"{name}.ttf")
    found = find_serif_fonts(tmp_path)
    assert found.regular == tmp_path / "Custom-Regular.ttf"
    assert found.bold == tmp_path / "Custom-Bold.ttf"
    assert found.italic == tmp_path / "Custom-Italic.ttf"
    assert found.bold_italic == found.bold  # missing: falls back to bold


def test_override_that_is_not_a_font_is_ignored(tmp_path: Path) -> None:
    bogus = tmp_path / "times.ttf"
    bogus.write_bytes(b"not a font")
    assert not covers_vietnamese(bogus)
    assert find_serif_fonts(bogus).regular != bogus


def test_no_font_gives_a_clear_vietnamese_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(fonts_module, "_known_paths", lambda: iter(()))
    monkeypatch.setattr(fonts_module, "_from_fc_match", lambda: iter(()))
    with pytest.raises(FontNotFound) as caught:
        find_serif_fonts(tmp_path / "missing.ttf")
    message = str(caught.value)
    assert "Không tìm thấy phông chữ" in message
    assert "Times New Roman" in message and "fonts-liberation2" in message


def test_font_search_styles_by_file_name() -> None:
    style = fonts_module._style_of
    assert [style(n) for n in ("times", "timesbd", "timesi", "timesbi")] == ["", "B", "I", "BI"]
    assert style("LiberationSerif-Regular") == ""
    assert style("DejaVuSerif-BoldItalic") == "BI"


# -- QR payload --------------------------------------------------------------------------------


def test_payload_round_trip_and_strictness() -> None:
    signature = bytes(range(64))
    payload = make_payload("04456-1", "GKS", "A" * 16, lambda message: signature)
    text = payload.encode()
    assert text.startswith("MCX1.04456-1.GKS." + "A" * 16 + ".")
    assert parse_payload(text + "\r\n") == payload
    for bad in (
        "",
        "MCX2.a.GKS." + "A" * 16 + ".",
        "MCX1.a.GKS.short.",
        "MCX1.GKS." + "A" * 16,
        text[:-2],
        text + "A",
        "MCX1.a.G-S." + "A" * 16 + ".",
    ):
        with pytest.raises(PayloadError):
            parse_payload(bad)
    with pytest.raises(ValueError):
        make_payload("04456\n1", "GKS", "A" * 16, None)


def test_qr_matrix_is_square_and_has_finder_patterns() -> None:
    matrix = qr_matrix("MCX1.04456-20250315-a1b2-7.GKS." + "A" * 16 + "." + "B" * 86)
    size = len(matrix)
    assert all(len(row) == size for row in matrix)
    assert size <= 57  # version 10 or lower: modules stay ≥ 0.45 mm in a 26 mm code
    for top, left in ((0, 0), (0, size - 7), (size - 7, 0)):
        assert all(matrix[top][left + i] for i in range(7))
        assert all(matrix[top + i][left] for i in range(7))


# -- system hand-off ---------------------------------------------------------------------------


def _fake_program(folder: Path, name: str, body: str) -> None:
    script = folder / name
    script.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def _empty_path_and_pdf(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[Path, Path]:
    """Make PATH an empty folder (for fake programs) and write a tiny PDF; return both."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pdf = tmp_path / "giay.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir, pdf


@pytest.mark.skipif(sys.platform.startswith("win"), reason="uses sh scripts as fake programs")
def test_printing_goes_through_lp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "lp.log"
    _fake_program(bin_dir, "lp", f'echo "$@" > "{log}"; echo "request id is hp-1"')
    monkeypatch.setenv("PATH", str(bin_dir))
    pdf = tmp_path / "giay.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    done = system.send_to_default_printer(pdf, printer="HP_LaserJet")
    assert done and done.message == ""
    assert log.read_text().split() == ["-d", "HP_LaserJet", str(pdf)]
    ok, message = system.send_to_default_printer(pdf)
    assert ok and log.read_text().split() == [str(pdf)]


@pytest.mark.skipif(sys.platform.startswith("win"), reason="uses sh scripts as fake programs")
def test_printer_refusal_and_missing_cups_are_explained(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bin_dir, pdf = _empty_path_and_pdf(monkeypatch, tmp_path)
    missing = system.send_to_default_printer(pdf)
    assert not missing and "cups-client" in missing.message
    _fake_program(bin_dir, "lp", 'echo "lp: Error - No default destination." >&2; exit 1')
    refused = system.send_to_default_printer(pdf)
    assert not refused and "No default destination" in refused.message
    assert not system.send_to_default_printer(tmp_path / "none.pdf")


@pytest.mark.skipif(sys.platform.startswith("win"), reason="uses sh scripts as fake programs")
def test_viewer_is_started_or_its_absence_explained(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bin_dir, pdf = _empty_path_and_pdf(monkeypatch, tmp_path)
    absent = system.open_with_system_viewer(pdf)
    assert not absent and "xdg-utils" in absent.message
    log = tmp_path / "open.log"
    _fake_program(bin_dir, "xdg-open", f'echo "$1" > "{log}"')
    assert system.open_with_system_viewer(pdf)
    for _ in range(50):  # the viewer runs detached; give it a moment
        if log.exists() and log.read_text().strip():
            break
        time.sleep(0.05)
    assert log.read_text().strip() == str(pdf)
    assert not system.open_with_system_viewer(tmp_path / "none.pdf")


def test_printing_package_imports_no_heavy_libraries() -> None:
    code = (
        "import sys, desktop.printing; "
        "print(sorted(m for m in ('fpdf', 'segno', 'PIL', 'cryptography', 'fontTools') "
        "if m in sys.modules))"
    )
    env = dict(os.environ)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "[]"


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["dossier_no", "data.tre_ten", "data.me_ho_ten", "book_number"]),
        st.one_of(st.none(), st.text(max_size=30), st.integers()),
    )
)
def test_digest_ignores_unicode_form_and_empty_values(facts: dict[str, object]) -> None:
    nfd = {
        k: unicodedata.normalize("NFD", v) if isinstance(v, str) else v for k, v in facts.items()
    }
    assert facts_digest(nfd) == facts_digest(facts)
    padded = dict(facts) | {"data.cha_ho_ten": None, "data.cha_cu_tru": "  "}
    assert facts_digest(padded) == facts_digest(facts)
    assert len(facts_digest(facts)) == 16


def test_digest_changes_with_any_printed_value() -> None:
    base = {"dossier_no": "04456-1", "data.tre_ten": "Xà"}
    assert facts_digest(base) != facts_digest(base | {"data.tre_ten": "Xá"})
    assert facts_digest(base) != facts_digest(base | {"book_number": 2})
    # Keys matter too: the same value under another field is another paper.
    assert facts_digest({"data.a": "x"}) != facts_digest({"data.b": "x"})


def test_issuing_unit_is_read_from_names_and_codes() -> None:
    from desktop.printing.values import Unit

    assert Unit.parse("Xã Mù Cang Chải").unit == "xã Mù Cang Chải"
    assert (
        Unit.parse("Phường Cam Đường").context()["authority_upper"]
        == "ỦY BAN NHÂN DÂN PHƯỜNG CAM ĐƯỜNG"
    )
    assert Unit.parse("  Mù  Cang Chải ").context()["place"] == "Mù Cang Chải"
    assert Unit.parse("04456").unit == "xã Mù Cang Chải"
    assert (
        Unit.parse("Xã Khao Mang").context()["registry"]
        == "Ủy ban nhân dân xã Khao Mang, tỉnh Lào Cai"
    )
