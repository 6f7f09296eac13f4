"""Draw a declared paper as an A4 PDF in the official layout, with its signed QR code.

One renderer draws every paper: the issuing body top left ("ỦY BAN NHÂN DÂN" / "XÃ …" / "Số …,
Quyển số …"), the national motto top right ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" / "Độc lập -
Tự do - Hạnh phúc", underlined), the title in bold capitals, "Label: value" lines with dotted
leaders where a value is empty, the place-and-date line and the signature blocks. Page set-up
follows the administrative document rules (Nghị định 30/2020/NĐ-CP): A4 portrait, left margin
25 mm, right 15 mm, text 13 pt.

fpdf2 and segno are imported only when a paper is drawn.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.forms.dates import format_date_vn
from desktop.forms.receipt import ReceiptSlip
from desktop.printing.documents import RECEIPT_SLIP, certificate_layout
from desktop.printing.fonts import FontSet, find_serif_fonts
from desktop.printing.layout import (
    PLACEHOLDER,
    Columns,
    DocumentLayout,
    Item,
    Line,
    Numbered,
    Signature,
    Text,
)
from desktop.printing.qr import Signer, facts_digest, make_payload, qr_matrix
from desktop.printing.values import (
    DateWordsStyle,
    DossierInput,
    Unit,
    Values,
    certificate_facts,
    flat_record,
    receipt_facts,
)

if TYPE_CHECKING:
    from fpdf import FPDF

PAGE_W, PAGE_H = 210.0, 297.0
LEFT, RIGHT, TOP, BOTTOM = 25.0, 15.0, 15.0, 15.0
CONTENT_W = PAGE_W - LEFT - RIGHT
BODY_PT = 13.0
LINE_H = 7.0
QR_SIZE = 26.0
FAMILY = "serif"


class Renderer:
    """Draw one paper on a fresh PDF.

    Args:
        layout: the paper's declaration.
        values: resolves the layout's sources.
        fonts: the serif family to embed.
        header_unit: the issuing unit in capitals ("XÃ MÙ CANG CHẢI").
        place_date: the italic place-and-date line ("Mù Cang Chải, ngày 15 tháng 3 năm 2025").
        qr_text: the signed payload for the QR code.
        qr_caption: the line printed under the QR code.
    """

    def __init__(
        self,
        layout: DocumentLayout,
        values: Values,
        fonts: FontSet,
        *,
        header_unit: str,
        place_date: str,
        qr_text: str,
        qr_caption: str,
    ) -> None:
        from fpdf import FPDF

        self.layout = layout
        self.values = values
        self.header_unit = header_unit
        self.place_date = place_date
        self.qr_text = qr_text
        self.qr_caption = qr_caption
        pdf = FPDF(orientation="P", unit="mm", format="A4")
        pdf.set_margins(LEFT, TOP, RIGHT)
        pdf.set_auto_page_break(True, margin=BOTTOM)
        for style, path in fonts.by_style().items():
            if style != "BI":  # no paper uses bold italic; each face costs ~0.1 s to load
                pdf.add_font(FAMILY, style, str(path))
        pdf.set_title(layout.title.capitalize())
        pdf.set_creator("Một Cửa Xã")
        pdf.set_keywords(qr_text)
        pdf.set_lang("vi")
        self.pdf: FPDF = pdf

    # -- the whole page ----------------------------------------------------------------------

    def render(self, out_path: Path) -> Path:
        """Draw the paper and write it to ``out_path`` (atomically); return the path."""
        pdf = self.pdf
        pdf.add_page()
        self._header()
        self._title()
        for block in self.layout.blocks:
            if isinstance(block, Line):
                self._line(block)
            elif isinstance(block, Text):
                self._text(block)
            elif isinstance(block, Numbered):
                self._numbered(block)
            elif isinstance(block, Columns):
                self._columns(block)
        self._signatures()
        if self.layout.footnote:
            self._text(Text(self.layout.footnote, style="I"))
        return _write_atomically(pdf, out_path)

    # -- pieces ------------------------------------------------------------------------------

    def _font(self, style: str = "", size: float = BODY_PT) -> None:
        self.pdf.set_font(FAMILY, style, size)

    def _centered(self, text: str, x: float, w: float, style: str, size: float) -> float:
        """Write one centred line, shrinking the size until it fits; return its width."""
        self._font(style, size)
        while self.pdf.get_string_width(text) > w and size > 8:
            size -= 0.5
            self._font(style, size)
        width = self.pdf.get_string_width(text)
        self.pdf.set_x(x)
        self.pdf.cell(w, size * 0.45, text, align="C")
        self.pdf.ln(size * 0.45)
        return width

    def _rule_under(self, x_mid: float, width: float) -> None:
        y = self.pdf.get_y() + 0.6
        self.pdf.set_line_width(0.3)
        self.pdf.line(x_mid - width / 2, y, x_mid + width / 2, y)

    def _header(self) -> None:
        pdf = self.pdf
        left_w, right_x = 72.0, LEFT + 72.0
        right_w = PAGE_W - RIGHT - right_x
        top = pdf.get_y()
        # Left: the issuing body, its name bold, a short rule under it, then the number line.
        self._centered("ỦY BAN NHÂN DÂN", LEFT, left_w, "", 12.5)
        self._centered(self.header_unit, LEFT, left_w, "B", 12.5)
        self._rule_under(LEFT + left_w / 2, left_w / 3)
        pdf.ln(3)
        number = ", ".join(f"{label}: {value or '.' * 12}" for label, value in self._number_items())
        self._centered(number, LEFT, left_w, "", 12.5)
        left_bottom = pdf.get_y()
        # Right: the national motto; the motto line underlined over its full width.
        pdf.set_y(top)
        self._centered("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", right_x, right_w, "B", 12.5)
        pdf.ln(0.8)
        motto_w = self._centered("Độc lập - Tự do - Hạnh phúc", right_x, right_w, "B", 13.5)
        self._rule_under(right_x + right_w / 2, motto_w)
        pdf.set_y(max(left_bottom, pdf.get_y()) + 9)

    def _number_items(self) -> list[tuple[str, str]]:
        return [
            (item.label or "Số", self.values.text(item.source)) for item in self.layout.number_line
        ]

    def _title(self) -> None:
        self._centered(self.layout.title, LEFT, CONTENT_W, "B", 15)
        if self.layout.subtitle:
            self.pdf.ln(1.5)
            self._centered(self.layout.subtitle, LEFT, CONTENT_W, "I", BODY_PT)
        self.pdf.ln(6)

    def _label_of(self, item: Item) -> str:
        return item.label if item.label is not None else self.values.label(item.source)

    def _value_of(self, item: Item) -> str:
        value = self.values.text(item.source)
        return value.upper() if item.emphasis else value

    def _dots(self, width: float) -> str:
        self._font("", BODY_PT)
        # Keep clear of the limit: write() wraps a line that touches the cell margins.
        usable = width - 2 * self.pdf.c_margin - 0.5
        return "." * max(3, int(usable / self.pdf.get_string_width(".")))

    def _line(self, block: Line) -> None:
        items = [
            (self._label_of(item), self._value_of(item), item)
            for item in block.items
            if not (item.optional and not self.values.text(item.source))
        ]
        if not items:
            return
        pdf = self.pdf
        if len(items) > 1:
            natural = [self._natural_width(label, value, item) for label, value, item in items]
            column = CONTENT_W / len(items)
            if all(width <= column - 3 for width in natural):
                # Equal column stops, as on the printed forms.
                stops = [(LEFT + i * column, column - 3) for i in range(len(items))]
            elif sum(natural) + 4 * (len(items) - 1) <= CONTENT_W:
                spare = (CONTENT_W - sum(natural)) / len(items)
                starts = [LEFT + sum(natural[:i]) + i * spare for i in range(len(items))]
                stops = [(x, w + spare - 3) for x, w in zip(starts, natural)]
            else:
                stops = []
            if stops:
                for (label, value, item), (x, width) in zip(items, stops):
                    pdf.set_x(x)
                    self._pair(label, value, item, limit=x + width)
                pdf.ln(LINE_H)
                return
        for label, value, item in items:
            pdf.set_x(LEFT)
            self._pair(label, value, item, limit=PAGE_W - RIGHT)
            pdf.ln(LINE_H)

    def _natural_width(self, label: str, value: str, item: Item) -> float:
        self._font("", BODY_PT)
        width = self.pdf.get_string_width(f"{label}: ")
        if value:
            self._font("B", BODY_PT)
            return width + self.pdf.get_string_width(value)
        return width + 28.0

    def _pair(self, label: str, value: str, item: Item, *, limit: float) -> None:
        """Write "label: value" from the current x; an empty value gets dots up to ``limit``."""
        pdf = self.pdf
        self._font("", BODY_PT)
        pdf.write(LINE_H, f"{label}: " if label else "")
        if value:
            self._font("B", BODY_PT)
            first_word = value.split()[0]
            room = pdf.w - pdf.r_margin - pdf.get_x() - 2 * pdf.c_margin
            if pdf.get_string_width(first_word) > room:
                # write() would cut the word (a date!) in two: start the value on a new line.
                pdf.ln(LINE_H)
            pdf.write(LINE_H, value)
        else:
            pdf.write(LINE_H, self._dots(limit - pdf.get_x()))

    def _fill(self, text: str) -> str:
        return PLACEHOLDER.sub(lambda m: self.values.text(m.group(1)) or "…", text)

    def _text(self, block: Text) -> None:
        self._font(block.style, BODY_PT)
        self.pdf.set_x(LEFT)
        self.pdf.multi_cell(CONTENT_W, LINE_H, self._fill(block.text), align=block.align)
        self.pdf.ln(1)

    def _numbered(self, block: Numbered) -> None:
        pdf = self.pdf
        self._font("", BODY_PT)
        pdf.set_x(LEFT)
        pdf.multi_cell(CONTENT_W, LINE_H, block.label)
        lines = self.values.sequence(block.source) or [self._dots(CONTENT_W - 10)]
        for number, text in enumerate(lines, 1):
            pdf.set_x(LEFT + 6)
            pdf.multi_cell(CONTENT_W - 6, LINE_H, f"{number}) {text}")

    def _columns(self, block: Columns) -> None:
        pdf = self.pdf
        half = CONTENT_W / 2
        xs = (LEFT, LEFT + half + 2)
        self._font("B", BODY_PT)
        y = pdf.get_y()
        for x, heading in zip(xs, block.headings):
            pdf.set_xy(x, y)
            pdf.cell(half - 2, LINE_H, heading, align="C")
        pdf.ln(LINE_H + 1)
        for row in block.rows:
            y = pdf.get_y()
            bottoms = []
            for x, item in zip(xs, row):
                # Narrow the margins so write() wraps inside the column.
                pdf.set_left_margin(x)
                pdf.set_right_margin(PAGE_W - (x + half - 2))
                pdf.set_xy(x, y)
                self._pair(self._label_of(item), self._value_of(item), item, limit=x + half - 2)
                bottoms.append(pdf.get_y() + LINE_H)
            pdf.set_left_margin(LEFT)
            pdf.set_right_margin(RIGHT)
            pdf.set_xy(LEFT, max(bottoms))
        pdf.ln(2)

    def _signatures(self) -> None:
        pdf = self.pdf
        signatures = self.layout.signatures
        # The officer's block takes the right half (wider when its heading needs it, since
        # DejaVu Serif is wider than Times); the others share what is left.
        self._font("B", 12)
        heading_w = pdf.get_string_width(signatures[-1].heading) + 4
        self._font("I", 10.5)
        note_w = pdf.get_string_width(signatures[-1].note) + 4
        right_w = min(100.0, max(CONTENT_W / 2, heading_w, note_w))
        right_x = PAGE_W - RIGHT - right_w
        others = signatures[:-1]
        needed = LINE_H * 2 + 48
        if pdf.get_y() + needed > PAGE_H - BOTTOM:
            pdf.add_page()
        pdf.ln(3)
        self._font("I", BODY_PT)
        pdf.set_x(right_x)
        pdf.cell(right_w, LINE_H, self.place_date, align="C")
        pdf.ln(LINE_H)
        top = pdf.get_y()
        bottom = self._signature(signatures[-1], right_x, right_w, top)
        left_w = (CONTENT_W - right_w) / max(1, len(others))
        left_bottom = top
        for index, signature in enumerate(others):
            left_bottom = max(
                left_bottom, self._signature(signature, LEFT + index * left_w, left_w, top)
            )
        qr_top = top if not others else left_bottom + 4
        if qr_top + QR_SIZE + 10 > PAGE_H - 8:
            pdf.add_page()
            qr_top = pdf.get_y()
        self._qr(LEFT + 4, qr_top)
        pdf.set_xy(LEFT, max(bottom, left_bottom, qr_top + QR_SIZE + 10) + 2)

    def _signature(self, signature: Signature, x: float, w: float, top: float) -> float:
        """Draw one signature block in the column [x, x + w]; return its bottom."""
        pdf = self.pdf
        pdf.set_xy(x, top)
        size = BODY_PT
        self._font("B", size)
        # Keep the heading on one line where a slightly smaller size allows it.
        while pdf.get_string_width(signature.heading) > w - 2 and size > 11:
            size -= 0.5
            self._font("B", size)
        pdf.multi_cell(w, 6, signature.heading, align="C")
        self._font("B", BODY_PT)
        if signature.title_source:
            title = self.values.text(signature.title_source)
            if title:
                pdf.set_x(x)
                pdf.multi_cell(w, 6, title.upper(), align="C")
        size = 11.5
        self._font("I", size)
        while pdf.get_string_width(signature.note) > w - 2 and size > 10:
            size -= 0.5
            self._font("I", size)
        pdf.set_x(x)
        pdf.multi_cell(w, 5.5, signature.note, align="C")
        pdf.ln(24)  # room for the signature and the seal
        if signature.name_source:
            name = self.values.text(signature.name_source)
            if name:
                self._font("B", BODY_PT)
                pdf.set_x(x)
                pdf.multi_cell(w, 6, name, align="C")
        return pdf.get_y()

    def _qr(self, x: float, y: float) -> None:
        """Draw the QR code as vector squares (crisp at any printer resolution)."""
        pdf = self.pdf
        matrix = qr_matrix(self.qr_text)
        modules = len(matrix)
        cell = QR_SIZE / modules
        pdf.set_fill_color(0, 0, 0)
        for row_index, row in enumerate(matrix):
            col = 0
            while col < modules:
                if not row[col]:
                    col += 1
                    continue
                start = col
                while col < modules and row[col]:
                    col += 1
                # One rectangle per horizontal run keeps the PDF small; a hair of overlap
                # avoids white seams between rows in some viewers.
                pdf.rect(
                    x + start * cell,
                    y + row_index * cell,
                    (col - start) * cell,
                    cell + 0.02,
                    style="F",
                )
        # The caption keeps the 4-module quiet zone a reader needs (about 2 mm here).
        self._font("", 8)
        pdf.set_xy(x - 4, y + QR_SIZE + 2.2)
        pdf.cell(QR_SIZE + 8, 3.5, self.qr_caption, align="C")
        pdf.set_xy(x - 4, y + QR_SIZE + 5.7)
        pdf.cell(QR_SIZE + 8, 3.5, "Quét mã để kiểm tra", align="C")


def _write_atomically(pdf: FPDF, out_path: Path) -> Path:
    """Write the PDF next to its final name and rename it, so a reader never sees half a file."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".part")
    try:
        pdf.output(str(tmp))
        os.replace(tmp, out_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out_path


def place_and_date(place: str, day: dt.date) -> str:
    """Return the place-and-date line: "Mù Cang Chải, ngày 05 tháng 03 năm 2025".

    Days below 10 and months 1-2 take a leading zero, as the rules for administrative papers
    ask, so a date cannot be altered by adding a digit.
    """
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


def draw(
    layout: DocumentLayout,
    values: Values,
    *,
    header_unit: str,
    place_date: str,
    qr_text: str,
    qr_caption: str,
    out_path: Path,
    fonts: FontSet | str | os.PathLike[str] | None = None,
) -> Path:
    """Draw a paper and write it to ``out_path``.

    Raises:
        FontNotFound: no Vietnamese-capable font (when ``fonts`` is None).
        OSError: the file cannot be written.
    """
    if not isinstance(fonts, FontSet):
        fonts = find_serif_fonts(fonts)
    renderer = Renderer(
        layout,
        values,
        fonts,
        header_unit=header_unit,
        place_date=place_date,
        qr_text=qr_text,
        qr_caption=qr_caption,
    )
    return renderer.render(out_path)


def _draw_signed(
    layout: DocumentLayout,
    values: Values,
    unit: Unit,
    day: dt.date,
    payload_text: str,
    dossier_no: str,
    out_path: str | os.PathLike[str],
    fonts: FontSet | str | os.PathLike[str] | None,
) -> Path:
    """Draw a paper issued by ``unit`` on ``day`` with its signed QR payload."""
    return draw(
        layout,
        values,
        header_unit=unit.unit.upper(),
        place_date=place_and_date(unit.name, day),
        qr_text=payload_text,
        qr_caption=f"Mã hồ sơ: {dossier_no}",
        out_path=Path(out_path),
        fonts=fonts,
    )


# -- the public API -----------------------------------------------------------------------------


def render_certificate(
    procedure_code: str,
    dossier_record: DossierInput,
    *,
    commune_name: str,
    signer_name: str,
    signer_title: str,
    signer: Signer | None,
    date_in_words_style: DateWordsStyle | Mapping[str, object] | None = None,
    out_path: str | os.PathLike[str],
    issued_on: dt.date | None = None,
    province_name: str = "Lào Cai",
    fonts: FontSet | str | os.PathLike[str] | None = None,
) -> Path:
    """Print the result paper of a dossier (Giấy khai sinh, Trích lục khai tử, …) as a PDF.

    Args:
        procedure_code: ``khai_sinh``, ``khai_tu``, ``xac_nhan_hon_nhan`` or ``ket_hon``.
        dossier_record: the flat dossier record (``dossier_no``, ``book_number``,
            ``book_year``, ``data.<field>`` …; a nested ``data`` dict works too), or a stored
            dossier holding it in ``record`` (the store's ``DossierRecord``).
        commune_name: the issuing unit ("Xã Mù Cang Chải", "Phường Cam Đường", or a bare name,
            taken as a xã).
        signer_name: the commune leader who signs.
        signer_title: their position ("Chủ tịch", "Phó Chủ tịch").
        signer: ``private_key.sign`` of the device's Ed25519 key, or None (unsigned QR).
        date_in_words_style: a ``DateWordsStyle``, or a mapping of the settings
            (``date_words_mung``/``date_words_zero_tens``, or ``mung``/``zero_tens``).
        out_path: where to write the PDF.
        issued_on: the registration date printed on the paper (default: today).
        province_name: the province of the registry line.
        fonts: the fonts to embed, or a font file/folder from the settings to try first
            (default: found on this machine).

    Returns:
        The path written.

    Raises:
        ValueError: unknown procedure, or a record of another procedure.
        FontNotFound: no Vietnamese-capable font is installed (Vietnamese message).
        OSError: the file cannot be written.
    """
    from desktop.forms.procedures import get_procedure

    record = flat_record(dossier_record)
    layout = certificate_layout(procedure_code)
    procedure = get_procedure(procedure_code)
    stored = record.get("procedure")
    if stored and stored != procedure_code:
        raise ValueError(f"record is a {stored!r} dossier, not {procedure_code!r}")
    dossier_no = str(record.get("dossier_no") or "")
    if not dossier_no:
        raise ValueError("the dossier has no number yet; save it before printing")
    day = issued_on or dt.date.today()
    unit = Unit.parse(commune_name, province_name)
    context = unit.context() | {
        "registered_on": format_date_vn(day),
        "signer_name": " ".join(signer_name.split()),
        "signer_title": " ".join(signer_title.split()),
    }
    values = Values(procedure, record, context, style=DateWordsStyle.coerce(date_in_words_style))
    digest = facts_digest(certificate_facts(procedure, layout, record))
    payload = make_payload(dossier_no, layout.kind, digest, signer)
    return _draw_signed(layout, values, unit, day, payload.encode(), dossier_no, out_path, fonts)


def render_receipt(
    slip: ReceiptSlip,
    *,
    signer: Signer | None,
    out_path: str | os.PathLike[str],
    province_name: str = "Lào Cai",
    fonts: FontSet | str | os.PathLike[str] | None = None,
) -> Path:
    """Print a receipt slip (phiếu tiếp nhận hồ sơ và hẹn trả kết quả) as a PDF.

    Args:
        slip: the slip (from ``desktop.forms.receipt.build_receipt``).
        signer: ``private_key.sign`` of the device's Ed25519 key, or None (unsigned QR).
        out_path: where to write the PDF.
        province_name: the province of the issuing unit.
        fonts: the fonts to embed, or a font file/folder from the settings to try first
            (default: found on this machine).

    Returns:
        The path written.

    Raises:
        ValueError: the slip has no dossier number.
        FontNotFound: no Vietnamese-capable font is installed (Vietnamese message).
        OSError: the file cannot be written.
    """
    dossier_no = slip.dossier_no
    if not dossier_no:
        raise ValueError("the receipt slip has no dossier number")
    unit = Unit.parse(slip.commune_name, province_name)
    values = Values(None, {}, unit.context(), slip=slip)
    facts = receipt_facts(dossier_no, slip.procedure_code, slip.received_at, slip.applicant_name)
    payload = make_payload(dossier_no, RECEIPT_SLIP.kind, facts_digest(facts), signer)
    day = slip.received_at.date()
    return _draw_signed(
        RECEIPT_SLIP, values, unit, day, payload.encode(), dossier_no, out_path, fonts
    )
