"""The building blocks of a printed paper, declared as data.

A :class:`DocumentLayout` lists, top to bottom, what a paper shows: its title, the "Số …,
Quyển số …" line, lines of "Label: value" items, fixed sentences, a two-column table (the
marriage certificate), and its signature blocks. The layouts themselves are in
:mod:`desktop.printing.documents`; :mod:`desktop.printing.pdf` draws any of them.

A *source* names where a value comes from:

- ``"tre_gioi_tinh"``: a field of the procedure (record key ``data.tre_gioi_tinh``), formatted
  by its kind (dates dd/mm/yyyy, dates in words re-spelled in the chosen style, choice labels,
  commune and province names);
- ``"name:tre"``: a person's full name (họ + chữ đệm + tên);
- ``"words:ngay_chet"``: a date field spelled in words;
- ``"a+b"``: several sources joined with ", " (a part already contained in the text so far
  is left out, so "…, Lào Cai" is not repeated);
- ``"meta:book_number"``: a top-level key of the dossier record (``dossier_no``,
  ``book_number``, ``book_year``, ``received_at`` …);
- ``"ctx:<key>"``: a value of the printing context (``registry`` "Ủy ban nhân dân xã …",
  ``registered_on``, ``commune_upper`` …);
- ``"slip:<attr>"``: an attribute of the receipt slip (``forms.receipt.ReceiptSlip``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
"""A ``{source}`` placeholder in a :class:`Text` sentence (``str.format`` would read the colon
of ``{name:tre}`` as a format spec, so the sentences are filled by this pattern instead)."""


@dataclass(frozen=True)
class Item:
    """One "Label: value" on a line.

    Attributes:
        source: where the value comes from (see the module docstring).
        label: the printed label; None takes the field's own label from the declaration.
        emphasis: print the value in bold capitals (the main person's name).
        optional: leave the whole line out when the value is empty (instead of dots).
    """

    source: str
    label: str | None = None
    emphasis: bool = False
    optional: bool = False


@dataclass(frozen=True)
class Line:
    """Items printed side by side when they fit, else one under the other."""

    items: tuple[Item, ...]


@dataclass(frozen=True)
class Text:
    """A fixed sentence; ``{source}`` placeholders are filled from the record.

    Attributes:
        text: the sentence, e.g. "Xét đề nghị của ông/bà: {name:nguoi_yeu_cau}".
        style: fpdf2 style letters ("", "B", "I", "BI").
        align: "L", "C", "R" or "J".
    """

    text: str
    style: str = ""
    align: str = "J"


@dataclass(frozen=True)
class Numbered:
    """A numbered list taken from a sequence-valued source (the papers received)."""

    source: str
    label: str


@dataclass(frozen=True)
class Columns:
    """A two-column table: one row per label, one column per person (husband | wife)."""

    headings: tuple[str, str]
    rows: tuple[tuple[Item, Item], ...]


@dataclass(frozen=True)
class Signature:
    """One signature block: who signs, what they write, and optionally a printed name.

    Attributes:
        heading: bold capitals ("NGƯỜI KÝ GIẤY KHAI SINH", "CHỒNG").
        note: italic instruction ("(Ký, ghi rõ họ, chữ đệm, tên, chức vụ, đóng dấu)").
        title_source: source of a bold line under the heading (the signer's position).
        name_source: source of the name printed under the space left for signing.
    """

    heading: str
    note: str
    title_source: str | None = None
    name_source: str | None = None


Block = Line | Text | Numbered | Columns


@dataclass(frozen=True)
class DocumentLayout:
    """A whole paper.

    Attributes:
        kind: short code carried in the QR payload (``GKS``, ``TLKT``, ``XNHN``, ``GCNKH``,
            ``PTN``).
        title: the title in capitals.
        subtitle: printed under the title (``(Bản chính)``), or "".
        number_line: the items of the "Số …, Quyển số …" line under the issuing body.
        blocks: the body, top to bottom.
        signatures: signature blocks, left to right; the last one is the issuing officer's
            and sits in the right half of the page under the place-and-date line.
        footnote: an italic sentence printed after the signatures (validity), or "".
    """

    kind: str
    title: str
    subtitle: str
    number_line: tuple[Item, ...]
    blocks: tuple[Block, ...]
    signatures: tuple[Signature, ...]
    footnote: str = ""


def line(*items: Item) -> Line:
    """Return a :class:`Line` of the given items (shorthand for the declarations)."""
    return Line(tuple(items))


def sources_of(layout: DocumentLayout) -> list[str]:
    """Return every source a layout reads (placeholders in sentences included), in order."""
    found: list[str] = [item.source for item in layout.number_line]

    def from_text(text: str) -> list[str]:
        return PLACEHOLDER.findall(text)

    for block in layout.blocks:
        if isinstance(block, Line):
            found.extend(item.source for item in block.items)
        elif isinstance(block, Text):
            found.extend(from_text(block.text))
        elif isinstance(block, Numbered):
            found.append(block.source)
        elif isinstance(block, Columns):
            for left, right in block.rows:
                found.extend((left.source, right.source))
    for signature in layout.signatures:
        found.extend(s for s in (signature.title_source, signature.name_source) if s)
    found.extend(from_text(layout.footnote))
    return list(dict.fromkeys(found))


def split_source(source: str) -> list[str]:
    """Return the simple sources of a joined ``a+b`` source."""
    return [part.strip() for part in source.split("+") if part.strip()]
