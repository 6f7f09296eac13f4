"""Imported scans become compact grayscale files that stay legible; garbage is refused."""

from __future__ import annotations

import io
import random
import sys
import time

import pytest
from PIL import Image, ImageDraw, ImageStat

from desktop.store.scans import MAX_LONG_SIDE, ScanError, ScanResult, compact_scan


def noisy_colour_scan(width: int = 3000, height: int = 4000, fmt: str = "JPEG") -> bytes:
    """Return a phone-photo-like page: cream paper, dark text blocks, sensor noise, in colour."""
    page = Image.new("RGB", (width, height), (236, 228, 205))
    draw = ImageDraw.Draw(page)
    rnd = random.Random(7)
    for row in range(int(height / 36) - 8):
        y, x = 150 + row * 33, 180
        while x < width - 250:
            word = rnd.randint(20, 90)
            draw.rectangle([x, y, x + word, y + 15], fill=(35, 35, 70))
            x += word + rnd.randint(15, 30)
    noise = Image.effect_noise((width, height), 40).convert("RGB")
    page = Image.blend(page, noise, 0.25)
    out = io.BytesIO()
    page.save(out, fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return out.getvalue()


def open_result(result: ScanResult) -> Image.Image:
    image = Image.open(io.BytesIO(result.content))
    image.load()
    return image


def test_noisy_colour_photo_shrinks_a_lot_and_fits_a4_bounds() -> None:
    raw = noisy_colour_scan()
    started = time.perf_counter()
    result = compact_scan(raw, "giay_chung_sinh.jpg")
    elapsed = time.perf_counter() - started
    assert result.mime == "image/jpeg"
    assert result.size_before == len(raw) > 3_000_000
    assert result.size_after == len(result.content)
    assert result.size_after < result.size_before / 8
    assert result.saved_percent >= 85
    image = open_result(result)
    assert image.mode == "L"
    assert (result.width, result.height) == image.size
    assert max(image.size) == MAX_LONG_SIDE
    assert image.size[0] / image.size[1] == pytest.approx(3000 / 4000, rel=0.01)
    assert elapsed < 5
    assert result.renamed("giay_chung_sinh.jpg") == "giay_chung_sinh.jpg"


def test_contrast_survives_so_text_stays_legible() -> None:
    result = compact_scan(noisy_colour_scan(1200, 1600), "scan.jpg")
    image = open_result(result)
    low, high = ImageStat.Stat(image).extrema[0]
    # Autocontrast stretches paper to near white and ink to near black.
    assert low < 40 and high > 215
    # The text blocks are still there: a row through a line of "words" alternates ink and paper.
    row = [image.getpixel((x, 150 + 7)) for x in range(180, 1000)]
    assert min(row) < 90 and max(row) > 170


def test_png_and_tiff_and_bmp_are_converted() -> None:
    for fmt in ("PNG", "TIFF", "BMP"):
        raw = noisy_colour_scan(800, 1100, fmt)
        result = compact_scan(raw, f"scan.{fmt.lower()}")
        assert result.mime in ("image/jpeg", "image/png")
        assert result.size_after < result.size_before
        assert open_result(result).mode in ("L", "1")


def test_black_and_white_page_becomes_a_small_bilevel_png() -> None:
    page = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(page)
    for row in range(40):
        draw.rectangle([100, 100 + row * 40, 1100, 112 + row * 40], fill=0)
    raw = io.BytesIO()
    page.save(raw, "PNG")
    result = compact_scan(raw.getvalue(), "trang.png")
    assert result.mime == "image/png"
    assert open_result(result).mode == "1"
    assert result.size_after < 20_000


def test_already_small_scan_is_kept_as_it_came() -> None:
    # A small grey photo already saved at low quality: re-encoding cannot make it smaller.
    page = Image.linear_gradient("L").resize((600, 800))
    page = Image.blend(page, Image.effect_noise((600, 800), 30).convert("L"), 0.3)
    raw = io.BytesIO()
    page.save(raw, "JPEG", quality=30)
    result = compact_scan(raw.getvalue(), "nho.jpg")
    assert result.content == raw.getvalue()
    assert result.saved_percent == 0
    assert (result.width, result.height) == (600, 800)


def test_transparent_png_lands_on_white_paper() -> None:
    page = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    ImageDraw.Draw(page).rectangle([50, 50, 350, 80], fill=(0, 0, 0, 255))
    raw = io.BytesIO()
    page.save(raw, "PNG")
    image = open_result(compact_scan(raw.getvalue(), "a.png"))
    assert image.convert("L").getpixel((10, 10)) > 240
    assert image.convert("L").getpixel((200, 65)) < 20


def test_multi_page_tiff_becomes_a_pdf() -> None:
    pages = [Image.new("RGB", (1700, 2200), (240, 240, 230)) for _ in range(3)]
    for number, page in enumerate(pages):
        ImageDraw.Draw(page).rectangle(
            [100, 100 + number * 50, 1500, 140 + number * 50], fill=(20, 20, 20)
        )
    raw = io.BytesIO()
    pages[0].save(raw, "TIFF", save_all=True, append_images=pages[1:])
    result = compact_scan(raw.getvalue(), "ho_so.tif")
    assert result.mime == "application/pdf"
    assert result.content.startswith(b"%PDF-")
    assert result.content.count(b"/Type /Page\n") + result.content.count(b"/Type /Page ") >= 3 or (
        result.content.count(b"/Page") >= 3
    )
    assert result.size_after < result.size_before
    assert result.renamed("ho_so.tif") == "ho_so.pdf"


def test_pdf_is_kept_byte_for_byte() -> None:
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    result = compact_scan(pdf, "quyet_dinh.pdf")
    assert result.content == pdf
    assert result.mime == "application/pdf"
    assert result.size_before == result.size_after == len(pdf)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "trống"),
        (b"hello, this is not an image at all", "Không đọc được"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "Không đọc được"),
        (b"%PDF-1.7\n" + b"x" * 5000, "PDF"),
        (bytes(random.Random(1).getrandbits(8) for _ in range(4096)), "Không đọc được"),
    ],
)
def test_garbage_raises_scan_error_in_vietnamese(content: bytes, fragment: str) -> None:
    with pytest.raises(ScanError, match=fragment):
        compact_scan(content, "tep.jpg")


def test_truncated_jpeg_is_refused() -> None:
    raw = noisy_colour_scan(800, 1000)
    with pytest.raises(ScanError, match="Không đọc được"):
        compact_scan(raw[: len(raw) // 3], "dut.jpg")


def test_huge_declared_dimensions_are_refused_before_decoding() -> None:
    header = Image.new("L", (1, 1))
    raw = io.BytesIO()
    header.save(raw, "PNG")
    data = bytearray(raw.getvalue())
    # Patch the IHDR width/height to 20000 x 20000 (400 MP): a decompression bomb.
    data[16:24] = (20000).to_bytes(4, "big") * 2
    with pytest.raises(ScanError):
        compact_scan(bytes(data), "bom.png")


def test_pillow_is_not_imported_with_the_module() -> None:
    import subprocess

    code = "import desktop.store.scans, sys; print('PIL' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
