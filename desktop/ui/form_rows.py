"""One field of the generic form: its label, its input and the message line under it."""

from __future__ import annotations

import tkinter

import ttkbootstrap as ttk

from desktop.forms.fields import Field as FormField
from desktop.ui.form_widgets import SearchCombobox, TextAreaInput, TextInput

#: The inputs a field can have; each has ``widget``, ``get_value()`` and ``set_value(value)``.
FormInput = TextInput | SearchCombobox | TextAreaInput


class FieldRow:
    """The widgets of one field: label, input and message line."""

    def __init__(
        self,
        field: FormField,
        frame: tkinter.Misc,
        label: ttk.Label,
        input: FormInput,
        message: ttk.Label,
    ) -> None:
        """Keep the parts together."""
        self.field = field
        self.frame = frame
        self.label = label
        self.input = input
        self.message = message
        self.shown: tuple[str, str] = ("", field.help)

    @property
    def widget(self) -> tkinter.Misc:
        """Return the widget that takes the focus."""
        return self.input.widget

    def show_message(self, kind: str, text: str) -> None:
        """Show a message under the field: kind "danger", "warning" or "" (the help text).

        Restyling a ttkbootstrap widget is slow, so nothing is touched when the message is
        already the one shown (live validation runs after every pause in typing).
        """
        if self.shown == (kind, text):
            return
        self.shown = (kind, text)
        if kind:
            self.message.configure(text=text, bootstyle=kind, font="-size 9")
        else:
            self.message.configure(text=text, bootstyle="secondary", font="-size 8")
        _style_input(self, kind)


def _style_input(row: FieldRow, style: str) -> None:
    """Colour an input's border for an error or a warning ('' = normal)."""
    widget = row.input
    # Entries and dropdowns have a ttkbootstrap border style; a text area has none.
    if isinstance(widget, (TextInput, SearchCombobox)):
        try:
            widget.configure(bootstyle=style or "default")
        except tkinter.TclError:
            pass
