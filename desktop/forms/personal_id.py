"""The 12-digit personal ID number (số định danh cá nhân / số CCCD): format, decoding, soft checks.

Layout: ``AAA B CC DDDDDD``. ``AAA`` is the province where the birth was registered (the legacy
prefix table in ``data/id_birthplace_prefix_legacy.csv``), ``B`` encodes century and sex (0/1 =
1900s male/female, 2/3 = 2000s, 4/5 = 2100s, 6/7 = 2200s, 8/9 = 1800s), ``CC`` are the last two
digits of the birth year and ``DDDDDD`` is a serial number.

The prefix table expired with its circular on 1/7/2024, so every disagreement with the entered
date of birth or sex is a *soft* warning for the clerk, never a validation error.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from desktop.forms.vietnamese import fold

__all__ = [
    "PersonalIdInfo",
    "PrefixEntry",
    "check_personal_id",
    "decode",
    "is_valid_format",
    "prefix_table",
]

_FORMAT = re.compile(r"[0-9]{12}")

# Century digit B: (first year of the century, sex).
_CENTURY_SEX = {
    0: (1900, "Nam"),
    1: (1900, "Nữ"),
    2: (2000, "Nam"),
    3: (2000, "Nữ"),
    4: (2100, "Nam"),
    5: (2100, "Nữ"),
    6: (2200, "Nam"),
    7: (2200, "Nữ"),
    8: (1800, "Nam"),
    9: (1800, "Nữ"),
}


@dataclass(frozen=True)
class PrefixEntry:
    """One row of the legacy prefix table: the province that registered the birth."""

    prefix: str
    old_province_name: str
    new_province_code: str
    new_province_name: str


@dataclass(frozen=True)
class PersonalIdInfo:
    """What a 12-digit personal ID number says about its holder.

    Attributes:
        prefix: The first three digits (province of birth registration).
        province_name: Name of that province when the prefix was assigned (before the 2025
            merger), or None when the prefix is not in the table.
        century: First year of the birth century (1800, 1900, 2000, 2100 or 2200).
        sex: "Nam" or "Nữ".
        birth_year_2digits: The last two digits of the birth year (0-99).
        new_province_name: The province that holds that territory since 1/7/2025, or None.
    """

    prefix: str
    province_name: str | None
    century: int
    sex: str
    birth_year_2digits: int
    new_province_name: str | None = None

    @property
    def birth_year(self) -> int:
        """The full birth year encoded in the number (century + two digits)."""
        return self.century + self.birth_year_2digits


@cache
def prefix_table() -> Mapping[str, PrefixEntry]:
    """Return the legacy prefix table, loaded once from the package data.

    Returns:
        A read-only mapping from a 3-digit prefix ("010") to its :class:`PrefixEntry`.
    """
    # Imported here: importlib.resources costs ~20 ms, and start-up time is budgeted.
    from importlib import resources

    text = (
        resources.files("desktop.forms")
        .joinpath("data/id_birthplace_prefix_legacy.csv")
        .read_text(encoding="utf-8")
    )
    table: dict[str, PrefixEntry] = {}
    for row in csv.DictReader(io.StringIO(text)):
        prefix = row["id_prefix"].strip()
        table[prefix] = PrefixEntry(
            prefix=prefix,
            old_province_name=row["old_province_name"].strip(),
            new_province_code=row["new_province_code_2025"].strip(),
            new_province_name=row["new_province_name_2025"].strip(),
        )
    return MappingProxyType(table)


def is_valid_format(s: object) -> bool:
    """Tell whether ``s`` is exactly twelve ASCII digits (no spaces, no other characters).

    Args:
        s: The value to check; anything that is not a ``str`` is not valid.

    Returns:
        True when ``s`` is a 12-digit string.
    """
    return isinstance(s, str) and _FORMAT.fullmatch(s) is not None


def decode(id_number: str) -> PersonalIdInfo:
    """Decode the prefix, century, sex and birth year encoded in a personal ID number.

    Args:
        id_number: A 12-digit personal ID number.

    Returns:
        The decoded parts; ``province_name`` is None for a prefix outside the legacy table.

    Raises:
        ValueError: ``id_number`` is not exactly 12 digits.
    """
    if not is_valid_format(id_number):
        raise ValueError(f"a personal ID number has exactly 12 digits, got {id_number!r}")
    prefix = id_number[:3]
    century, sex = _CENTURY_SEX[int(id_number[3])]
    entry = prefix_table().get(prefix)
    return PersonalIdInfo(
        prefix=prefix,
        province_name=entry.old_province_name if entry else None,
        century=century,
        sex=sex,
        birth_year_2digits=int(id_number[4:6]),
        new_province_name=entry.new_province_name if entry else None,
    )


def _sex_of(sex: str | None) -> str | None:
    """Map free-typed sex ("Nam", "NỮ", "nu") to "Nam"/"Nữ", or None when it is neither."""
    if sex is None:
        return None
    return {"nam": "Nam", "nu": "Nữ"}.get(fold(sex))


def check_personal_id(
    id_number: str, birth_date: datetime.date | None, sex: str | None
) -> list[str]:
    """Compare a personal ID number with the entered date of birth and sex.

    Every finding is a soft warning in Vietnamese for the clerk to look at; none blocks saving,
    because the prefix table expired and numbers issued in error exist. An ill-formed number
    gives a single warning (the form's validation rejects it separately).

    Args:
        id_number: The personal ID number as entered.
        birth_date: The entered date of birth, or None when not known yet.
        sex: The entered sex ("Nam"/"Nữ", case and diacritics tolerated), or None.

    Returns:
        Warnings in Vietnamese, empty when everything agrees.
    """
    if not is_valid_format(id_number):
        return ["Số định danh cá nhân phải gồm đúng 12 chữ số."]
    info = decode(id_number)
    warnings: list[str] = []
    if info.province_name is None:
        warnings.append(
            f"Mã tỉnh nơi đăng ký khai sinh {info.prefix} (3 số đầu của số định danh) "
            "không có trong danh mục; hãy kiểm tra lại số."
        )
    entered_sex = _sex_of(sex)
    if entered_sex is not None and entered_sex != info.sex:
        warnings.append(
            f"Chữ số thứ tư của số định danh ({id_number[3]}) ứng với giới tính {info.sex}, "
            f"nhưng giới tính đã nhập là {entered_sex}."
        )
    if birth_date is not None:
        century = birth_date.year // 100 * 100
        if century != info.century:
            warnings.append(
                f"Chữ số thứ tư của số định danh ({id_number[3]}) ứng với người sinh từ năm "
                f"{info.century} đến {info.century + 99}, nhưng năm sinh đã nhập là "
                f"{birth_date.year}."
            )
        if birth_date.year % 100 != info.birth_year_2digits:
            warnings.append(
                f"Chữ số thứ năm và sáu của số định danh ({id_number[4:6]}) không khớp với "
                f"năm sinh đã nhập ({birth_date.year})."
            )
    return warnings
