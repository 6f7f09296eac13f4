"""Procedure data in a flat dossier record: ``data.<field name>`` keys.

Data values are strings keyed by field name (``{"tre_ho": "Giàng", ...}``); in a stored dossier
record the same values live under ``data.<field name>`` keys (see docs/architecture.md), so that
each form field is a separate unit for change capture. :func:`record_data` and
:func:`record_fields` convert between the two.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["DATA_PREFIX", "record_data", "record_fields"]

DATA_PREFIX = "data."
"""Prefix of procedure fields in a flat dossier record (``data.tre_ho``)."""


def record_data(record: Mapping[str, Any]) -> dict[str, Any]:
    """Return the procedure data of a flat dossier record (``data.<name>`` keys unprefixed).

    A record holding a nested ``"data"`` dict (the JSON-lines import format) works too.
    """
    nested = record.get("data")
    out: dict[str, Any] = dict(nested) if isinstance(nested, Mapping) else {}
    for key, value in record.items():
        if isinstance(key, str) and key.startswith(DATA_PREFIX):
            out[key[len(DATA_PREFIX) :]] = value
    return out


def record_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return procedure data as flat record keys (``{"data.tre_ho": ...}``)."""
    return {f"{DATA_PREFIX}{k}": v for k, v in data.items()}
