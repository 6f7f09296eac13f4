"""Turn an imported scan into a compact file that stays legible.

Clerks scan papers (birth notices, ID cards, court decisions) on whatever is at hand: a phone
photo of 4000 × 3000 colour pixels is 3-6 MB, and every byte of it crawls over a 64 kbit/s link
to the province. A grayscale page at ~150-200 dpi is as readable and a tenth of the size.

Images (JPEG, PNG, TIFF, BMP, GIF, WebP) become one grayscale JPEG (or a 1-bit PNG when the
page is pure black and white and that is smaller); a multi-page TIFF becomes a PDF of grayscale
JPEG pages. A PDF is kept byte for byte: recompressing it means rasterising it, which needs
poppler or Ghostscript that an old commune PC does not have, and rewriting it losslessly
rarely saves anything because PDF streams are already compressed.
"""

from __future__ import annotations

import dataclasses
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Pillow is imported inside the functions: start-up budget
    from PIL import Image as PILImage

# A4 is 11.7 in on its long side: 1700 px is ~145 dpi, enough for printed text and stamps.
MAX_LONG_SIDE = 1700
JPEG_QUALITY = 60
# Refuse decompression bombs and absurd inputs before decoding them.
MAX_INPUT_BYTES = 60 * 1024 * 1024
MAX_PIXELS = 80_000_000
MAX_PAGES = 50
# Share of pixels that must be near black or near white for a page to count as bilevel.
BILEVEL_SHARE = 0.96

_IMAGE_FORMATS = {"JPEG", "PNG", "TIFF", "BMP", "GIF", "WEBP", "MPO"}


class ScanError(ValueError):
    """The file is not a scan we can store; the message (Vietnamese) says what to do."""

    @property
    def message_vi(self) -> str:
        """The Vietnamese message (the same as ``str()``), for the UI."""
        return str(self)


@dataclasses.dataclass(frozen=True)
class ScanResult:
    """A compacted scan.

    Attributes:
        content: The bytes to store.
        mime: ``image/jpeg``, ``image/png`` or ``application/pdf``.
        size_before: Size of the imported file in bytes.
        size_after: Size of ``content`` in bytes.
        width: Width in pixels of the (first) page, 0 for a PDF kept as it was.
        height: Height in pixels of the (first) page, 0 for a PDF kept as it was.
    """

    content: bytes
    mime: str
    size_before: int
    size_after: int
    width: int
    height: int

    @property
    def extension(self) -> str:
        """Return the file extension that matches ``mime`` (with the dot)."""
        return {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}[self.mime]

    @property
    def saved_percent(self) -> int:
        """Return how much smaller the result is, in whole percent (0 when not smaller)."""
        if self.size_before <= 0:
            return 0
        return max(0, round(100 * (self.size_before - self.size_after) / self.size_before))

    def renamed(self, filename: str) -> str:
        """Return ``filename`` with the extension of the compacted content."""
        stem = filename.rsplit(".", 1)[0] if "." in filename else filename
        return (stem or "scan") + self.extension


def compact_scan(content: bytes, filename: str = "") -> ScanResult:
    """Convert an imported scan into a compact grayscale image or keep a PDF as it is.

    Args:
        content: The file's bytes.
        filename: Its name, used only in error messages (the format is sniffed from content).

    Returns:
        The compacted scan. When the input is already a small JPEG/PNG within bounds and our
        conversion would not make it smaller, the input is returned unchanged.

    Raises:
        ScanError: Empty, too large, truncated or unrecognised input (Vietnamese message).
    """
    name = filename or "tệp"
    if not isinstance(content, (bytes, bytearray)) or len(content) == 0:
        raise ScanError(f"Tệp {name} trống, không có nội dung để lưu.")
    content = bytes(content)
    if len(content) > MAX_INPUT_BYTES:
        raise ScanError(
            f"Tệp {name} quá lớn ({len(content) // (1024 * 1024)} MB). "
            f"Hãy quét lại ở độ phân giải 200 dpi, ảnh xám."
        )
    if content.startswith(b"%PDF-"):
        return _keep_pdf(content, name)
    return _compact_image(content, name)


def _keep_pdf(content: bytes, name: str) -> ScanResult:
    # A truncated download or copy lacks the end-of-file marker; catch it now, not at printing.
    if b"%%EOF" not in content[-2048:]:
        raise ScanError(f"Tệp PDF {name} bị hỏng hoặc chưa sao chép hết. Hãy quét hoặc chép lại.")
    return ScanResult(content, "application/pdf", len(content), len(content), 0, 0)


def _unrecognised(name: str) -> ScanError:
    return ScanError(
        f"Không đọc được tệp {name}: đây không phải ảnh quét (JPEG, PNG, TIFF, BMP) hay PDF, "
        f"hoặc tệp đã bị hỏng. Hãy chọn đúng tệp ảnh quét."
    )


def _compact_image(content: bytes, name: str) -> ScanResult:
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(content))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise _unrecognised(name) from exc
    if image.format not in _IMAGE_FORMATS:
        raise _unrecognised(name)
    width, height = image.size
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        raise ScanError(f"Ảnh {name} có kích thước {width}×{height} điểm ảnh, không thể lưu.")
    try:
        frames = getattr(image, "n_frames", 1)
        if image.format == "TIFF" and frames > 1:
            if frames > MAX_PAGES:
                raise ScanError(
                    f"Tệp {name} có {frames} trang; mỗi lần chỉ nhập tối đa {MAX_PAGES}."
                )
            pages = [_prepare_page(page.copy()) for page in ImageSequence.Iterator(image)]
            return _pages_to_pdf(pages, len(content))
        page = _prepare_page(image)
    except ScanError:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as exc:
        # Pillow reports truncated or corrupt data only when it decodes the pixels.
        raise _unrecognised(name) from exc
    result = _encode_page(page, len(content))
    already_compact = image.format in ("JPEG", "PNG") and max(width, height) <= MAX_LONG_SIDE
    if already_compact and result.size_after >= len(content):
        # Re-encoding a small clean scan would only make it bigger: keep it as it came.
        mime = "image/jpeg" if image.format == "JPEG" else "image/png"
        return ScanResult(content, mime, len(content), len(content), width, height)
    return result


def _prepare_page(image: PILImage.Image) -> PILImage.Image:
    """Return a grayscale, upright, downscaled, contrast-stretched page."""
    from PIL import Image, ImageOps

    if image.format == "JPEG":
        # Let the JPEG decoder skip detail we would throw away: 4-8x faster on phone photos.
        image.draft("L", (MAX_LONG_SIDE, MAX_LONG_SIDE))
    image = ImageOps.exif_transpose(image) or image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # A transparent background is paper: put it on white before dropping colour.
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit scanner output: scale to 8 bits instead of clipping at 255.
        image = image.point(lambda value: value / 256).convert("L")
    gray = image.convert("L")
    long_side = max(gray.size)
    if long_side > MAX_LONG_SIDE:
        scale = MAX_LONG_SIDE / long_side
        size = (max(1, round(gray.width * scale)), max(1, round(gray.height * scale)))
        gray = gray.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    # Clip 1 % at both ends: scanner noise and a dark border would otherwise set the range.
    return ImageOps.autocontrast(gray, cutoff=1)


def _encode_page(page: PILImage.Image, size_before: int) -> ScanResult:
    """Encode one page as JPEG, or 1-bit PNG when that is smaller for a bilevel page."""
    jpeg = io.BytesIO()
    page.save(jpeg, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    best, mime = jpeg.getvalue(), "image/jpeg"
    if _is_bilevel(page):
        png = io.BytesIO()
        page.point(lambda value: 255 if value >= 128 else 0).convert("1").save(
            png, "PNG", optimize=True
        )
        if png.tell() < len(best):
            best, mime = png.getvalue(), "image/png"
    return ScanResult(best, mime, size_before, len(best), page.width, page.height)


def _is_bilevel(page: PILImage.Image) -> bool:
    histogram = page.histogram()
    extremes = sum(histogram[:48]) + sum(histogram[208:])
    return extremes >= BILEVEL_SHARE * page.width * page.height


def _pages_to_pdf(pages: list[PILImage.Image], size_before: int) -> ScanResult:
    out = io.BytesIO()
    # Pillow writes each grayscale page as a DCT (JPEG) stream inside the PDF.
    pages[0].save(
        out,
        "PDF",
        save_all=True,
        append_images=pages[1:],
        resolution=150.0,
        quality=JPEG_QUALITY,
    )
    content = out.getvalue()
    return ScanResult(
        content, "application/pdf", size_before, len(content), pages[0].width, pages[0].height
    )
