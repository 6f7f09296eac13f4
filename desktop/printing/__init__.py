"""Printed papers: the receipt slip and the result paper of each procedure, as PDF.

Each paper is declared once as data (:mod:`.documents`) and drawn by one renderer
(:mod:`.pdf`) in the official A4 layout with an embedded Vietnamese serif font
(:mod:`.fonts`) and a signed QR code (:mod:`.qr`) that :func:`verify_printout` checks later.

fpdf2, segno and cryptography are imported only when a paper is drawn or checked.
"""

from __future__ import annotations

from desktop.printing.fonts import FontNotFound, FontSet, find_serif_fonts
from desktop.printing.pdf import render_certificate, render_receipt
from desktop.printing.qr import QrPayload, parse_payload
from desktop.printing.system import open_with_system_viewer, send_to_default_printer
from desktop.printing.values import DateWordsStyle
from desktop.printing.verify import verify_printout

__all__ = [
    "DateWordsStyle",
    "FontNotFound",
    "FontSet",
    "QrPayload",
    "find_serif_fonts",
    "open_with_system_viewer",
    "parse_payload",
    "render_certificate",
    "render_receipt",
    "send_to_default_printer",
    "verify_printout",
]
