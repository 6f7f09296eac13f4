"""Find a Vietnamese-capable serif TrueType font on this machine, at run time.

Official papers are set in Times New Roman. Windows has it; Linux usually has Liberation Serif
(metric-compatible with Times) or DejaVu Serif. Nothing is bundled, so the search happens when
a printout is made, never at start-up.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

# Letters that a font must draw for Vietnamese papers (precomposed NFC forms).
VIETNAMESE_PROBE = "ẠẢẤẦẨẪẬẮẰẲẴẶẸẺẼẾỀỂỄỆỈỊỌỎỐỒỔỖỘỚỜỞỠỢỤỦỨỪỬỮỰỲỴỶỸđĐơưăâêôỹ"


class FontNotFound(RuntimeError):
    """No Vietnamese-capable serif font was found; the message says what to install."""

    @property
    def message_vi(self) -> str:
        """The Vietnamese message (the same as ``str()``), for the UI."""
        return str(self)


@dataclasses.dataclass(frozen=True)
class FontSet:
    """The four styles of one serif family, as paths to TrueType files.

    Attributes:
        family: A human-readable family name (for messages and the PDF metadata).
        regular: Path of the regular face.
        bold: Path of the bold face (the regular face when the family has none).
        italic: Path of the italic face (the regular face when the family has none).
        bold_italic: Path of the bold italic face (falls back to bold).
    """

    family: str
    regular: Path
    bold: Path
    italic: Path
    bold_italic: Path

    def by_style(self) -> dict[str, Path]:
        """Return the faces keyed by fpdf2 style letters ("", "B", "I", "BI")."""
        return {"": self.regular, "B": self.bold, "I": self.italic, "BI": self.bold_italic}


# Candidate families in order of preference: (family, regular, bold, italic, bold italic).
_WINDOWS_FONTS = Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"
_CANDIDATES: tuple[tuple[str, Path, Path, Path, Path], ...] = (
    (
        "Times New Roman",
        _WINDOWS_FONTS / "times.ttf",
        _WINDOWS_FONTS / "timesbd.ttf",
        _WINDOWS_FONTS / "timesi.ttf",
        _WINDOWS_FONTS / "timesbi.ttf",
    ),
    *(
        (
            "Liberation Serif",
            Path(base) / "LiberationSerif-Regular.ttf",
            Path(base) / "LiberationSerif-Bold.ttf",
            Path(base) / "LiberationSerif-Italic.ttf",
            Path(base) / "LiberationSerif-BoldItalic.ttf",
        )
        for base in (
            "/usr/share/fonts/truetype/liberation",
            "/usr/share/fonts/truetype/liberation2",
            "/usr/share/fonts/liberation",
            "/usr/share/fonts/liberation-serif",
        )
    ),
    *(
        (
            "DejaVu Serif",
            Path(base) / "DejaVuSerif.ttf",
            Path(base) / "DejaVuSerif-Bold.ttf",
            Path(base) / "DejaVuSerif-Italic.ttf",
            Path(base) / "DejaVuSerif-BoldItalic.ttf",
        )
        for base in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu")
    ),
)

_INSTALL_HINT = (
    "Không tìm thấy phông chữ có dấu tiếng Việt để in (Times New Roman, Liberation Serif hoặc "
    "DejaVu Serif). Trên Windows hãy cài Times New Roman; trên Linux hãy cài gói "
    "fonts-liberation2 hoặc fonts-dejavu-core (sudo apt install fonts-liberation2); gói "
    "fonts-liberation cũ (bản 1.x) thiếu chữ có dấu tiếng Việt. "
    "Hoặc chọn tệp phông chữ .ttf trong phần Cài đặt."
)


def find_serif_fonts(override: str | os.PathLike[str] | None = None) -> FontSet:
    """Return the best Vietnamese-capable serif family installed here.

    Args:
        override: A path from the settings: a regular-face ``.ttf`` file (its bold and italic
            siblings are found by the usual naming, else the regular face is used for every
            style) or a folder holding such files. Tried first; ignored when it does not exist.

    Returns:
        The font set to embed.

    Raises:
        FontNotFound: When no candidate exists or none can draw Vietnamese letters; the
            message (Vietnamese) names what to install.
    """
    key = os.fspath(override) if override else ""
    return _find_cached(key)


@functools.cache
def _find_cached(override: str) -> FontSet:
    candidates: list[FontSet] = []
    if override:
        candidates.extend(_from_override(Path(override)))
    candidates.extend(_known_paths())
    candidates.extend(_from_fc_match())
    for font_set in candidates:
        if font_set.regular.is_file() and covers_vietnamese(font_set.regular):
            return font_set
    raise FontNotFound(_INSTALL_HINT)


def _complete(family: str, regular: Path, bold: Path, italic: Path, bold_italic: Path) -> FontSet:
    """Build a FontSet, falling back to the regular face for styles that are missing."""
    bold = bold if bold.is_file() else regular
    italic = italic if italic.is_file() else regular
    bold_italic = bold_italic if bold_italic.is_file() else bold
    return FontSet(family, regular, bold, italic, bold_italic)


def _known_paths() -> Iterable[FontSet]:
    for family, regular, bold, italic, bold_italic in _CANDIDATES:
        if family == "Times New Roman" and not sys.platform.startswith("win"):
            # A Linux box may carry a copy under WINDIR-less paths; only trust it on Windows.
            continue
        if regular.is_file():
            yield _complete(family, regular, bold, italic, bold_italic)


def _from_override(path: Path) -> Iterable[FontSet]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".ttf", ".otf"))
        # Prefer a serif regular face when the folder holds several families.
        regulars = sorted(
            (p for p in files if _style_of(p.stem) == ""),
            key=lambda p: ("serif" not in p.stem.lower(), "times" not in p.stem.lower(), p.name),
        )
        for regular in regulars or files[:1]:
            yield _with_siblings(regular)
    elif path.is_file():
        yield _with_siblings(path)


def _style_of(stem: str) -> str:
    """Guess the style of a font file from its name ("" = regular, "B", "I", "BI")."""
    s = stem.lower().replace("_", "-")
    # Windows names the styles by suffix: times / timesbd / timesi / timesbi.
    windows_bold = s.endswith(("bd", "bi"))
    windows_italic = s.endswith(("bi", "i")) and not s.endswith("mini")
    bold = "bold" in s or windows_bold
    italic = "italic" in s or "oblique" in s or ("-" not in s and windows_italic)
    return ("B" if bold else "") + ("I" if italic else "")


def _with_siblings(regular: Path) -> FontSet:
    """Find the bold and italic siblings of a regular face by common naming schemes."""
    stem, suffix, folder = regular.stem, regular.suffix, regular.parent
    base = stem.removesuffix("-Regular").removesuffix("Regular")

    def first(*names: str) -> Path:
        for name in names:
            candidate = folder / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
        return folder / "missing-style.ttf"  # _complete() falls back for a missing style

    bold = first(f"{base}-Bold", f"{base}bd", f"{base}Bold", f"{base}-bold")
    italic = first(f"{base}-Italic", f"{base}i", f"{base}Italic", f"{base}-italic")
    bold_italic = first(f"{base}-BoldItalic", f"{base}bi", f"{base}BoldItalic")
    return _complete(base or stem, regular, bold, italic, bold_italic)


def _from_fc_match() -> Iterable[FontSet]:
    """Ask fontconfig (Linux) for serif faces that claim Vietnamese coverage."""
    fc_match = shutil.which("fc-match")
    if not fc_match:
        return
    for family in ("Times New Roman", "Liberation Serif", "DejaVu Serif", "serif"):
        paths = {}
        for style, pattern in (("", ""), ("B", ":bold"), ("I", ":italic"), ("BI", ":bold:italic")):
            try:
                out = subprocess.run(
                    [fc_match, "-f", "%{file}", f"{family}:lang=vi{pattern}"],
                    capture_output=True,
                    text=True,
                    timeout=5,
                    check=False,
                )
            except (OSError, subprocess.SubprocessError):
                return
            path = Path(out.stdout.strip())
            if out.returncode == 0 and path.suffix.lower() == ".ttf" and path.is_file():
                paths[style] = path
        if "" in paths:
            regular = paths[""]
            yield _complete(
                family,
                regular,
                paths.get("B", regular),
                paths.get("I", regular),
                paths.get("BI", paths.get("B", regular)),
            )


@functools.cache
def covers_vietnamese(path: Path) -> bool:
    """Return True when the font file has a glyph for every Vietnamese letter we probe.

    Args:
        path: A TrueType/OpenType file.

    Returns:
        False for unreadable files or fonts that lack any probed letter.
    """
    from fontTools.ttLib import TTFont  # fpdf2 depends on fontTools; import it lazily

    try:
        with TTFont(str(path), lazy=True, fontNumber=0) as font:
            cmap = font.getBestCmap() or {}
    except Exception:  # a broken or non-font file is simply not a candidate
        return False
    return all(ord(ch) in cmap for ch in VIETNAMESE_PROBE)
