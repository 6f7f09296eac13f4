"""A person's name: joining its parts, proposing parts from a full name."""

from __future__ import annotations

__all__ = ["full_name", "propose_name_parts"]


def full_name(ho: str, chu_dem: str, ten: str) -> str:
    """Join họ, chữ đệm and tên into a full name with single spaces (empties skipped)."""
    return " ".join(" ".join(p.split()) for p in (ho, chu_dem, ten) if p and p.strip())


def propose_name_parts(name: str) -> tuple[str, str, str]:
    """Propose (họ, chữ đệm, tên) from a full name: first word, middle words, last word.

    Only a proposal for the clerk to confirm (e.g. after a CCCD scan): names are never split
    by position without a person checking them.
    """
    words = name.split()
    if not words:
        return ("", "", "")
    if len(words) == 1:
        return ("", "", words[0])
    return (words[0], " ".join(words[1:-1]), words[-1])
