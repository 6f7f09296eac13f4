"""A vertically scrolling area for long content (the form, the dossier's fields)."""

from __future__ import annotations

import tkinter

import ttkbootstrap as ttk


class ScrollArea(ttk.Frame):
    """A vertically scrolling area whose ``body`` holds the form; follows the focus."""

    def __init__(self, master: tkinter.Misc) -> None:
        """Create the canvas, its scrollbar and the body frame."""
        super().__init__(master)
        self.canvas = tkinter.Canvas(self, highlightthickness=0, borderwidth=0)
        self.vbar = ttk.Scrollbar(self, orient="vertical", command=self.canvas.yview)
        self.canvas.configure(yscrollcommand=self.vbar.set)
        self.vbar.pack(side="right", fill="y")
        self.canvas.pack(side="left", fill="both", expand=True)
        self.body = ttk.Frame(self.canvas, padding=(0, 0, 12, 0))
        self._window = self.canvas.create_window(0, 0, anchor="nw", window=self.body)
        self.body.bind("<Configure>", self._body_changed, add="+")
        self.canvas.bind("<Configure>", self._canvas_changed, add="+")
        # A plain Tk canvas does not follow the ttkbootstrap theme: give it the theme's colour.
        self.canvas.configure(background=ttk.Style.get_instance().colors.bg)

    def _body_changed(self, _event: tkinter.Event[tkinter.Misc]) -> None:
        self.canvas.configure(scrollregion=self.canvas.bbox("all"))

    def _canvas_changed(self, event: tkinter.Event[tkinter.Misc]) -> None:
        self.canvas.itemconfigure(self._window, width=event.width)

    def scroll_wheel(self, event: tkinter.Event[tkinter.Misc]) -> None:
        """Scroll on a mouse wheel event (Button-4/5 on X11, MouseWheel elsewhere)."""
        # tkinter fills both: ``num`` is "??" for MouseWheel, ``delta`` 0 for Button-4/5.
        if event.num == 4 or event.delta > 0:
            self.canvas.yview_scroll(-3, "units")
        else:
            self.canvas.yview_scroll(3, "units")

    def ensure_visible(self, widget: tkinter.Misc) -> None:
        """Scroll so that ``widget`` (a descendant of the body) is in view."""
        try:
            self.update_idletasks()
            body_h = self.body.winfo_height()
            view_h = self.canvas.winfo_height()
            if body_h <= view_h or body_h <= 1:
                return
            top = widget.winfo_rooty() - self.body.winfo_rooty()
            bottom = top + widget.winfo_height()
            first, last = self.canvas.yview()
            view_top, view_bottom = first * body_h, last * body_h
            margin = 60
            if top - margin < view_top:
                self.canvas.yview_moveto(max(top - margin, 0) / body_h)
            elif bottom + margin > view_bottom:
                self.canvas.yview_moveto(min(bottom + margin - view_h, body_h) / body_h)
        except tkinter.TclError:
            pass
