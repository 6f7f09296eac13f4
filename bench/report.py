"""How a benchmark reports: its JSON summary on stdout and in a file, its RESULTS.md section.

Every benchmark and campaign ends the same way: the summary printed as indented JSON (and
written to ``--json`` when given), and, for the recorded ones, its own ``## …`` section of
``bench/RESULTS.md`` replaced while every other section is kept.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["print_summary", "summary_json", "write_section"]


def summary_json(summary: Mapping[str, Any]) -> str:
    """Return the summary as indented JSON, non-ASCII text kept as is."""
    return json.dumps(summary, ensure_ascii=False, indent=2)


def print_summary(summary: Mapping[str, Any], json_path: Path | None) -> None:
    """Print the summary as JSON and write it to ``json_path`` too when one is given."""
    text = summary_json(summary)
    print(text)
    if json_path:
        json_path.write_text(text + "\n", encoding="utf-8")


def write_section(path: Path, heading: str, section: str) -> None:
    """Replace (or append) the section starting with ``heading``, keeping every other section.

    Args:
        path: the results file (``bench/RESULTS.md``); created when missing.
        heading: the section's heading line, e.g. ``## Desktop app``.
        section: the whole new section, heading included.
    """
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n\n"
    start = text.find(heading)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1 :] if end != -1 else "")
    path.write_text(text, encoding="utf-8")
