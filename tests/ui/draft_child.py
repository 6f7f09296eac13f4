"""The app in a child process for the kill test: the real session, reporting what it shows.

Run as ``python tests/ui/draft_child.py PROFILE STATUS_FILE TITLE`` (with the project on
PYTHONPATH). It opens the same window the app opens (sign-in, then the shell) and, every
100 ms, writes a small JSON status (session state, current screen, focused field, the form's
data) that the test reads to know when to type and what the window shows.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main(profile: str, status_file: str, title: str) -> None:
    """Run the window until killed."""
    import ttkbootstrap as ttk

    from desktop.ui.session import AppSession
    from desktop.ui.tasks import TaskRunner

    root = ttk.App(title=title, size=(1240, 700), position=(0, 0))
    tasks = TaskRunner(root)
    session = AppSession(root, Path(profile), tasks=tasks)
    session.start()
    target = Path(status_file)

    def report() -> None:
        info: dict[str, object] = {"state": session.state, "pid": os.getpid()}
        focus = root.focus_get()
        info["focus_class"] = focus.winfo_class() if focus is not None else ""
        shell = session.shell
        if shell is not None and session.state == "shell":
            info["screen"] = shell.current
            screen = shell.current_screen
            drafts = getattr(screen, "_drafts", None)
            info["drafts"] = len(drafts) if drafts is not None else 0
            form = getattr(screen, "form", None)
            if form is not None:
                info["form"] = form.get_data()
                info["focus"] = form._name_of.get(str(focus), str(focus))
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, target)
        root.after(100, report)

    root.after(100, report)
    root.mainloop()


if __name__ == "__main__":
    main(*sys.argv[1:4])
