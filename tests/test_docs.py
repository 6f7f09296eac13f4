"""Docs stay true: every command of both CLIs is documented, and the README starts with the two
commands that CI runs (Datasette's tests/test_docs.py idea)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _subcommands(parser: argparse.ArgumentParser) -> list[str]:
    names: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            names.extend(action.choices)
    return names


def _docs_text() -> str:
    parts = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(p.read_text(encoding="utf-8") for p in parts)


def test_readme_starts_with_the_two_commands_and_ci_runs_the_test_one() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    block = lines[1:3]
    assert lines[0].startswith("```")
    assert block[0].startswith("bash scripts/demo")
    assert block[1].startswith("bash scripts/test")
    assert "bash scripts/test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("program", "module"), [("motcua", "desktop.cli"), ("motcua-server", "server.cli")]
)
def test_every_command_is_documented(program: str, module: str) -> None:
    import importlib

    cli = importlib.import_module(module)
    parser = cli.build_parser()
    docs = _docs_text()
    missing = [
        name
        for name in _subcommands(parser)
        if not re.search(rf"{re.escape(program)}\b[^\n`|]*\s{re.escape(name)}\b", docs)
    ]
    assert missing == [], f"undocumented {program} commands: {missing}"
