"""The form's "Quét CCCD" entries: a chip ID card's QR code fills a person's fields.

Each person who may carry a chip ID card (everyone but a person just born) gets an entry. The
QR scanner's burst (or pasted text) is parsed, shown in a confirmation dialog, and on
confirmation fills that person's fields as if the clerk had typed them.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import ttkbootstrap as ttk

from desktop.forms.dates import format_date_vn, parse_iso_date
from desktop.forms.fields import FieldKind
from desktop.forms.model import Procedure
from desktop.ui.dialogs import IdCardConfirmDialog
from desktop.ui.form_widgets import ScanInput

if TYPE_CHECKING:
    from desktop.ui.form_renderer import FormRenderer


def card_persons(procedure: Procedure) -> set[str]:
    """Return the persons a chip ID card can fill (everyone but a person just born)."""
    event = procedure.event_date_field
    newborn = None
    if event is not None:
        event_field = procedure.field(event)
        if event_field.idcard_attr == "birth_date":
            newborn = event_field.person
    persons = set()
    for person in procedure.persons:
        mapping = procedure.person_fields(person.key)
        if person.key != newborn and ("id_number" in mapping or "full_name" in mapping):
            persons.add(person.key)
    return persons


class CardScanner:
    """The "Quét CCCD" entries of one form and what a scanned card does to it.

    Args:
        form: the form whose fields a card fills.

    Attributes:
        persons: the persons a card can fill.
        inputs: the scan entry of each person, once built.
        messages: the message line under each scan entry (packed only when it says something).
        dialog: the open confirmation dialog, if any.
    """

    def __init__(self, form: FormRenderer) -> None:
        """Find the persons; the entries are built with the form's sections."""
        self.form = form
        self.persons = card_persons(form.procedure)
        self.inputs: dict[str, ScanInput] = {}
        self.messages: dict[str, ttk.Label] = {}
        self.dialog: IdCardConfirmDialog | None = None

    def build(self, frame: ttk.Labelframe, row: int, person: str, columns: int) -> ScanInput:
        """Build a person's scan entry on ``row`` of a section's grid; return it."""
        title = self.form.procedure.person(person).title
        box = ttk.Frame(frame)
        box.grid(row=row, column=0, columnspan=columns, sticky="ew", pady=(2, 6))
        ttk.Label(box, text="Quét CCCD", bootstyle="info").pack(anchor="w")
        line = ttk.Frame(box)
        line.pack(fill="x")
        scan = ScanInput(line, functools.partial(self.scan, person), width=40)
        scan.pack(side="left")
        ttk.Label(
            line,
            text=f"Quét mã QR trên thẻ căn cước của {title.lower()}, hoặc dán rồi nhấn Enter.",
            bootstyle="secondary",
        ).pack(side="left", padx=(10, 0))
        # Shown (packed) only while there is something to say, so it takes no room otherwise.
        message = ttk.Label(box, text="", bootstyle="danger", wraplength=900, justify="left")
        self.inputs[person] = scan
        self.messages[person] = message
        return scan

    def reset(self) -> None:
        """Empty every scan entry and hide its message."""
        for person, scan in self.inputs.items():
            scan.set_value("")
            self.messages[person].configure(text="")
            self.messages[person].pack_forget()

    def scan(self, person: str, raw: str) -> None:
        """Parse a scanned card payload and, once the clerk confirms, fill the person's fields.

        Args:
            person: the person whose fields the card fills.
            raw: the scanner's text (or pasted text).
        """
        from desktop.forms.idcard import IdCardError, parse_cccd_qr  # needed once a card is read

        form, procedure = self.form, self.form.procedure
        message = self.messages.get(person)
        try:
            card = parse_cccd_qr(raw, today=form.today())
        except IdCardError as exc:
            if message is not None:
                message.configure(
                    text=f"{exc.message_vi} Hãy quét lại, hoặc nhập tay các ô bên dưới."
                )
                message.pack(anchor="w")
            return
        if message is not None:
            message.configure(text="")
            message.pack_forget()
        values = procedure.fill_person(person, card)
        rows = []
        for name, value in values.items():
            field = procedure.field(name)
            shown = value
            if field.kind is FieldKind.DATE and parse_iso_date(value) is not None:
                shown = format_date_vn(value)
            rows.append((field.label, shown))
        warnings = list(card.warnings)
        who = procedure.person(person)
        if who.sex and card.sex and who.sex != card.sex:
            warnings.insert(
                0,
                f"Thẻ ghi giới tính {card.sex}, nhưng mục này là {who.title.lower()}: "
                "kiểm tra đã quét đúng thẻ chưa.",
            )

        def decided(ok: bool) -> None:
            self.dialog = None
            if not ok:
                self.inputs[person].focus_set()
                return
            form.set_values(values)
            fields = procedure.fields_of(person)
            form.touched.update(f.name for f in fields if f.name in values)
            form.validate_touched()
            editable = [f for f in fields if not f.read_only]
            if editable:
                form.focus_field(editable[0].name)

        self.dialog = IdCardConfirmDialog(
            form, person_title=who.title, rows=rows, warnings=warnings, on_result=decided
        )
