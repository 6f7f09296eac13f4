"""Validate a dossier's data against its procedure declaration.

:func:`validate` checks every field (required, length, format of dates, times, personal IDs,
codes of communes and provinces, one of the 54 ethnic groups …), the procedure's cross-field
rules (dates in order, marriage ages, conditional requirements), the legal deadline of the
event (late registration) and returns the normalised data with derived fields filled in.

It never raises, whatever ``data`` holds: every problem becomes a :class:`FieldError` with a
Vietnamese message naming the field by its label (the store raises
``validation_result.ValidationError`` when data with errors is saved).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from desktop.forms.dates import parse_date_vn, parse_iso_date
from desktop.forms.fields import Field, FieldKind
from desktop.forms.model import Procedure
from desktop.forms.validation_result import FieldError, FieldWarning, ValidationResult

__all__ = ["check_field", "validate"]

EARLIEST_YEAR = 1880
"""Dates before this year are taken for typing mistakes."""

MAX_INTEGER = 99
"""INTEGER fields count small things (copies, the how-many-th marriage)."""

_TIME = re.compile(r"^\s*(\d{1,2})\s*(?::|h|g|giờ)\s*(\d{1,2})?\s*(?:phút|p|')?\s*$", re.I)
_NAME_EXTRA = set(" '-.")
_VN_NATIONALITY = {"viet nam", "vietnam", "vn", "viet"}


def _label(procedure: Procedure, f: Field) -> str:
    """Return «label» (section title) to name a field unambiguously in a message."""
    for section in procedure.sections:
        if section.key == f.section:
            return f"«{f.label}» ({section.title})"
    return f"«{f.label}»"


def _as_text(value: object) -> str | None:
    """Return a data value as text, or None when it is of a type a form never holds."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):  # datetime is a date too; keep the day
        return value.isoformat()[:10]
    return None


def _normalize(text: str, kind: FieldKind) -> str:
    """Normalise text the way it is stored (NFC, single spaces; lines kept in a TEXTAREA)."""
    from desktop.forms.vietnamese import normalize

    if kind is FieldKind.TEXTAREA:
        lines = [normalize(line) for line in text.replace("\r\n", "\n").split("\n")]
        return "\n".join(lines).strip("\n")
    return normalize(text)


def check_field(
    procedure: Procedure, f: Field, raw: object, *, today: date
) -> tuple[str, list[FieldError]]:
    """Check one field's value on its own (no cross-field rules).

    Args:
        procedure: the procedure the field belongs to (for the section title in messages).
        f: the field.
        raw: the value as typed or stored.
        today: the current date (dates may not be later).

    Returns:
        The normalised value ('' when empty or unusable) and the errors found.
    """
    label = _label(procedure, f)
    text = _as_text(raw)
    if text is None:
        return "", [FieldError(f.name, f"{label}: giá trị không hợp lệ, hãy nhập lại.")]
    value = _normalize(text, f.kind)
    if not value:
        if f.required and f.derived_from is None:
            return "", [
                FieldError(
                    f.name, f"Chưa nhập {label}: đây là mục bắt buộc, hãy nhập trước khi lưu."
                )
            ]
        return "", []
    checker = _CHECKERS.get(f.kind)
    errors: list[FieldError] = []
    if checker is not None:
        value, errors = checker(f, label, value, today)
    # Length counts what is stored (a province typed by name is stored as its 2-digit code).
    if not errors and len(value) > f.max_length and f.kind is not FieldKind.DATE_IN_WORDS:
        errors = [
            FieldError(
                f.name,
                f"{label} dài {len(value)} ký tự, quá giới hạn {f.max_length} ký tự: "
                "hãy viết ngắn lại.",
            )
        ]
    return value, errors


# -- one checker per kind: (field, label, value, today) -> (normalised, errors) -----------------


def _check_name(f: Field, label: str, value: str, today: date) -> tuple[str, list[FieldError]]:
    if any(not (ch.isalpha() or ch in _NAME_EXTRA) for ch in value) or not any(
        ch.isalpha() for ch in value
    ):
        return value, [
            FieldError(f.name, f"{label} chỉ được gồm chữ cái và dấu cách: hãy bỏ chữ số, ký hiệu.")
        ]
    return value, []


def _check_date(f: Field, label: str, value: str, today: date) -> tuple[str, list[FieldError]]:
    d = parse_iso_date(value)
    if d is None:
        try:
            d = parse_date_vn(value)
        except ValueError as exc:
            return value, [FieldError(f.name, f"{label}: {exc}")]
    if d.year < EARLIEST_YEAR:
        return value, [
            FieldError(f.name, f"{label}: năm {d.year} không hợp lệ, hãy kiểm tra lại năm.")
        ]
    if d > today:
        return d.isoformat(), [
            FieldError(
                f.name,
                f"{label} ({d.day:02d}/{d.month:02d}/{d.year}) là ngày trong tương lai: "
                "hãy kiểm tra lại ngày, tháng, năm.",
            )
        ]
    return d.isoformat(), []


def _check_time(f: Field, label: str, value: str, today: date) -> tuple[str, list[FieldError]]:
    m = _TIME.match(value)
    if m:
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        if hour < 24 and minute < 60:
            return f"{hour:02d}:{minute:02d}", []
    return value, [FieldError(f.name, f"{label} phải viết theo dạng giờ:phút, ví dụ 14:30.")]


def _check_sex(f: Field, label: str, value: str, today: date) -> tuple[str, list[FieldError]]:
    from desktop.forms.vietnamese import fold

    canonical = {"nam": "Nam", "nu": "Nữ"}.get(fold(value))
    if canonical is None:
        return value, [FieldError(f.name, f"{label} phải là «Nam» hoặc «Nữ».")]
    return canonical, []


def _check_ethnicity(f: Field, label: str, value: str, today: date) -> tuple[str, list[FieldError]]:
    from desktop.forms.reference import find_ethnic_group

    group = find_ethnic_group(value)
    if group is None:
        return value, [
            FieldError(
                f.name,
                f"{label}: «{value}» không có trong danh mục 54 dân tộc; "
                "hãy chọn dân tộc trong danh sách.",
            )
        ]
    return group.name, []


def _check_nationality(
    f: Field, label: str, value: str, today: date
) -> tuple[str, list[FieldError]]:
    from desktop.forms.vietnamese import fold

    if fold(value).replace(".", "") in _VN_NATIONALITY:
        return "Việt Nam", []
    if not any(ch.isalpha() for ch in value):
        return value, [FieldError(f.name, f"{label} phải là tên một quốc gia, ví dụ Việt Nam.")]
    return value, []


def _check_personal_id(
    f: Field, label: str, value: str, today: date
) -> tuple[str, list[FieldError]]:
    digits = value.replace(" ", "").replace(".", "")
    if len(digits) != 12 or not digits.isascii() or not digits.isdigit():
        return value, [
            FieldError(
                f.name,
                f"{label} phải gồm đúng 12 chữ số (đã nhập {len(digits)} ký tự): "
                "hãy nhập lại theo thẻ căn cước.",
            )
        ]
    return digits, []


def _check_unit(
    f: Field,
    label: str,
    value: str,
    by_code: Callable[[str], object],
    units: Iterable[Any],
    not_found: str,
) -> tuple[str, list[FieldError]]:
    """Accept an administrative unit's code, or a name naming exactly one unit (→ its code)."""
    from desktop.forms.vietnamese import fold

    if by_code(value) is not None:
        return value, []
    key = fold(value)
    named = [u for u in units if key in (fold(u.name), fold(u.short_name))]
    if len(named) == 1:
        return named[0].code, []
    return value, [FieldError(f.name, f"{label}: «{value}» {not_found}; hãy chọn trong danh sách.")]


def _check_commune(f: Field, label: str, value: str, today: date) -> tuple[str, list[FieldError]]:
    from desktop.forms.reference import commune_by_code, communes

    return _check_unit(
        f, label, value, commune_by_code, communes(), "không phải một xã, phường của tỉnh Lào Cai"
    )


def _check_province(f: Field, label: str, value: str, today: date) -> tuple[str, list[FieldError]]:
    from desktop.forms.reference import province_by_code, provinces

    return _check_unit(
        f, label, value, province_by_code, provinces(), "không phải một trong 34 tỉnh, thành phố"
    )


def _check_choice(f: Field, label: str, value: str, today: date) -> tuple[str, list[FieldError]]:
    from desktop.forms.vietnamese import fold

    for choice in f.options:
        if value == choice.value or fold(value) == fold(choice.label):
            return choice.value, []
    options = "; ".join(c.label for c in f.options)
    return value, [FieldError(f.name, f"{label}: hãy chọn một trong các mục: {options}.")]


def _check_integer(f: Field, label: str, value: str, today: date) -> tuple[str, list[FieldError]]:
    if value.isascii() and value.isdigit() and int(value) <= MAX_INTEGER:
        return str(int(value)), []
    return value, [FieldError(f.name, f"{label} phải là một số nguyên từ 0 đến {MAX_INTEGER}.")]


_CHECKERS = {
    FieldKind.NAME: _check_name,
    FieldKind.DATE: _check_date,
    FieldKind.TIME: _check_time,
    FieldKind.SEX: _check_sex,
    FieldKind.ETHNICITY: _check_ethnicity,
    FieldKind.NATIONALITY: _check_nationality,
    FieldKind.PERSONAL_ID: _check_personal_id,
    FieldKind.COMMUNE: _check_commune,
    FieldKind.PROVINCE: _check_province,
    FieldKind.CHOICE: _check_choice,
    FieldKind.INTEGER: _check_integer,
}


# -- the whole dossier ------------------------------------------------------------------------


def _add_years(d: date, years: int) -> date:
    """Return ``d`` plus whole years (29 February becomes 28 February when needed)."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def _id_warnings(procedure: Procedure, values: dict[str, str], bad: set[str]) -> list[FieldWarning]:
    """Soft warnings where a personal ID disagrees with its owner's date of birth and sex."""
    from desktop.forms.personal_id import check_personal_id

    warnings: list[FieldWarning] = []
    for f in procedure.fields:
        if f.kind is not FieldKind.PERSONAL_ID or f.name in bad or not values.get(f.name):
            continue
        birth = sex = None
        if f.person is not None:
            birth_field = f"{f.person}_ngay_sinh"
            if birth_field not in bad:
                birth = parse_iso_date(values.get(birth_field))
            sex = values.get(f"{f.person}_gioi_tinh") or procedure.person(f.person).sex
        for message in check_personal_id(values[f.name], birth, sex):
            warnings.append(FieldWarning(f.name, f"{f.label}: {message}"))
    return warnings


def _cross_rules(
    procedure: Procedure, values: dict[str, str], bad: set[str], registered_on: date
) -> list[FieldError]:
    """Apply the procedure's declared cross-field rules to fields that passed on their own."""
    errors: list[FieldError] = []

    def day(name: str) -> date | None:
        return None if name in bad else parse_iso_date(values.get(name))

    for rule in procedure.date_orders:
        earlier, later = day(rule.earlier), day(rule.later)
        if earlier and later and later < _add_years(earlier, rule.min_years):
            errors.append(FieldError(rule.on, rule.message))
    for age in procedure.minimum_ages:
        born = day(age.birth_field)
        if born is not None and registered_on < _add_years(born, age.years):
            errors.append(FieldError(age.birth_field, age.message))
    for req in procedure.required_when:
        if values.get(req.when) in req.values and not values.get(req.field):
            f = procedure.field(req.field)
            errors.append(
                FieldError(
                    f.name,
                    f"Chưa nhập {_label(procedure, f)}: cần khi "
                    f"«{procedure.field(req.when).label}» là "
                    f"«{procedure.field(req.when).option_label(values[req.when])}».",
                )
            )
    for forbidden in procedure.forbidden:
        if all(values.get(name) == value for name, value in forbidden.values):
            errors.append(FieldError(forbidden.on, forbidden.message))
    # One ID number on two people of the same dossier is a typing mistake. The requester is
    # left out: the requester is often one of the people on the form (the father, oneself).
    owners: dict[str, Field] = {}
    for f in procedure.fields:
        if f.person == procedure.applicant_person:
            continue
        if f.kind is FieldKind.PERSONAL_ID and f.name not in bad and values.get(f.name):
            other = owners.setdefault(values[f.name], f)
            if other is not f and other.person != f.person:
                errors.append(
                    FieldError(
                        f.name,
                        f"{_label(procedure, f)} trùng với {_label(procedure, other)}: "
                        "hai người không thể có cùng số định danh, hãy kiểm tra lại.",
                    )
                )
    return errors


def _lateness(
    procedure: Procedure, values: dict[str, str], bad: set[str], registered_on: date
) -> tuple[bool, list[FieldWarning]]:
    """Whether the event is registered after its legal deadline, with the warning to show."""
    name = procedure.event_date_field
    days = procedure.event_deadline_days
    if name is None or days is None or name in bad:
        return False, []
    event = parse_iso_date(values.get(name))
    if event is None:
        return False, []
    elapsed = (registered_on - event).days
    if elapsed <= days:
        return False, []
    message = (
        f"{procedure.title} quá hạn: đã {elapsed} ngày kể từ "
        f"{event.day:02d}/{event.month:02d}/{event.year}, quá thời hạn {days} ngày. "
        "Hồ sơ được đăng ký quá hạn và phải nộp lệ phí."
    )
    return True, [FieldWarning(name, message)]


def _derive(
    procedure: Procedure, values: dict[str, str], bad: set[str], mung: bool, zero_tens: str
) -> None:
    """Fill derived fields (dates in words) from their sources, in place."""
    from desktop.forms.vietnamese import date_in_words

    for f in procedure.fields:
        if f.derived_from is None:
            continue
        source = None if f.derived_from in bad else parse_iso_date(values.get(f.derived_from))
        if source is None or f.kind is not FieldKind.DATE_IN_WORDS:
            values[f.name] = ""
            continue
        try:
            values[f.name] = date_in_words(source, mung=mung, zero_tens=zero_tens)
        except ValueError:  # an unknown zero_tens style: fall back to the default wording
            values[f.name] = date_in_words(source)


def _validate(
    procedure: Procedure,
    data: Mapping[str, Any],
    today: date,
    received_at: datetime | None,
    mung: bool,
    zero_tens: str,
) -> ValidationResult:
    errors: list[FieldError] = []
    values: dict[str, str] = {}
    bad: set[str] = set()
    for f in procedure.fields:
        value, field_errors = check_field(procedure, f, data.get(f.name), today=today)
        values[f.name] = value
        if field_errors:
            bad.add(f.name)
            errors.extend(field_errors)
    registered_on = received_at.date() if received_at is not None else today
    errors.extend(_cross_rules(procedure, values, bad, registered_on))
    late, warnings = _lateness(procedure, values, bad, registered_on)
    warnings.extend(_id_warnings(procedure, values, bad))
    _derive(procedure, values, bad, mung, zero_tens)
    return ValidationResult(
        errors=tuple(errors), warnings=tuple(warnings), late=late, normalized=values
    )


def validate(
    procedure: Procedure,
    data: Mapping[str, Any],
    *,
    today: date,
    received_at: datetime | None = None,
    mung: bool = False,
    zero_tens: str = "linh",
) -> ValidationResult:
    """Check a dossier's data and return errors, warnings, lateness and normalised data.

    Never raises: whatever ``data`` holds, problems come back as errors. Data that cannot be
    read at all (not a mapping) gives one error whose ``field`` is ``""``.

    Args:
        procedure: the procedure declaration.
        data: ``{field name: value}``; values are strings (dates ISO ``YYYY-MM-DD``, though
            ``dd/mm/yyyy`` is accepted and converted). Unknown keys are ignored.
        today: the current date; no date may be later.
        received_at: when the papers were received; the legal deadline and marriage ages
            count to this day (``today`` when None).
        mung: write days 1-10 in words with "mùng" (a local style setting).
        zero_tens: "linh" or "lẻ" for a zero tens digit in words (a local style setting).

    Returns:
        A :class:`ValidationResult`; ``normalized`` holds every declared field.
    """
    try:
        if not isinstance(data, Mapping):
            raise TypeError("data is not a mapping")
        if not isinstance(today, date):
            raise TypeError("today is not a date")
        if isinstance(today, datetime):
            today = today.date()
        if received_at is not None and not isinstance(received_at, datetime):
            received_at = None
        return _validate(procedure, data, today, received_at, bool(mung), str(zero_tens))
    except Exception:  # the contract: validation reports, it never raises
        return ValidationResult(
            errors=(
                FieldError(
                    "",
                    "Dữ liệu hồ sơ không đọc được: hãy mở lại biểu mẫu và nhập lại.",
                ),
            ),
            warnings=(),
            late=False,
            normalized={},
        )
