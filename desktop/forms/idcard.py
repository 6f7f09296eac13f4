"""Parse the QR code on the chip citizen ID card (thẻ CCCD / thẻ căn cước) into a person's fields.

The 2021 card's QR holds ``ID|oldID|full name|DDMMYYYY birth|Nam/Nữ|address|DDMMYYYY issue``
(old ID empty when there is none); a 6-field variant leaves the old ID out. The 2024 card's
payload is not published and reports disagree, so fields are recognised *by content*, not by
position: the 12-digit number is the ID, a 9-digit (or second 12-digit) number the old ID,
8-digit dates ordered birth < issue < expiry, Nam/Nữ the sex, the field that looks like a
person's name the name, and the longest remaining text the address.

The result always goes to the clerk to confirm; oddities come back as Vietnamese warnings, and
anything that is not a card payload raises :class:`IdCardError` (never another exception).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass, field

from desktop.forms.dates import format_date_vn
from desktop.forms.personal_id import check_personal_id
from desktop.forms.vietnamese import fold, normalize

__all__ = ["MAX_QR_LENGTH", "IdCard", "IdCardError", "parse_cccd_qr"]

#: Longest payload accepted. Card payloads are about 100-250 characters; a QR code holds at most
#: 2,953 bytes. Checked before any other work so a pasted file cannot slow the form down.
MAX_QR_LENGTH = 1024
_MAX_FIELDS = 16
_MAX_NAME_WORDS = 6
_MAX_NAME_LENGTH = 80

_DATE_8 = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{4})")
_DATE_SEP = re.compile(r"([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})")
# Letters (any script, no digits or underscore), words joined by single spaces; ' and - may join
# parts of a word as in H'Mông names ("Mùa A Sử", "H'Hen Niê").
_NAME_WORD = r"[^\W\d_]+(?:['-][^\W\d_]+)*"
_NAME = re.compile(rf"{_NAME_WORD}(?: {_NAME_WORD})*")
# Some scanners prefix the AIM symbology identifier of a QR code ("]Q1") to what they type.
_SYMBOLOGY_ID = re.compile(r"^\]Q[0-9]")
_NO_EXPIRY = {"khong thoi han", "khong co thoi han", "vo thoi han"}


class IdCardError(ValueError):
    """The text is not a chip ID card QR payload that can be read.

    ``str(error)`` is an English message for logs and the API; :attr:`message_vi` is the message
    to show the clerk.
    """

    def __init__(self, message: str, message_vi: str) -> None:
        """Create the error.

        Args:
            message: What is wrong, in English.
            message_vi: The same for the clerk, in Vietnamese.
        """
        super().__init__(message)
        self.message_vi = message_vi


@dataclass(frozen=True)
class IdCard:
    """The person's data read from a chip ID card QR code, for the clerk to confirm.

    Attributes:
        id_number: The 12-digit personal ID number.
        old_id: The old ID number (9-digit CMND or 12-digit CCCD), or None.
        full_name: Full name, normalised (NFC, single spaces), as printed on the card.
        birth_date: Date of birth.
        sex: "Nam" or "Nữ".
        address: Place of residence (nơi thường trú / nơi cư trú), normalised.
        issue_date: Date of issue, or None when the payload has none.
        expiry_date: Expiry date, or None (not in 2021 payloads; "no expiry" cards).
        raw: The payload exactly as received, kept with the dossier.
        warnings: Oddities for the clerk to check, in Vietnamese.
    """

    id_number: str
    old_id: str | None
    full_name: str
    birth_date: datetime.date
    sex: str
    address: str
    issue_date: datetime.date | None
    expiry_date: datetime.date | None
    raw: str
    warnings: tuple[str, ...] = field(default=())


def _error(message: str, message_vi: str) -> IdCardError:
    return IdCardError(message, f"Không đọc được mã QR thẻ căn cước: {message_vi}")


def _clean_field(text: str) -> str:
    """Normalise one field; control characters (scanner noise) become spaces."""
    if not text.isprintable():
        text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    return normalize(text)


def _parse_date(text: str) -> datetime.date | None:
    """Return the date in a DDMMYYYY (or DD/MM/YYYY) field, None when it is not date-shaped.

    Raises:
        IdCardError: The field is date-shaped but not a real date.
    """
    match = _DATE_8.fullmatch(text) or _DATE_SEP.fullmatch(text)
    if match is None:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        value = datetime.date(year, month, day)
    except ValueError:
        raise _error(
            f"{text!r} is not a valid DDMMYYYY date", f"«{text}» không phải là ngày hợp lệ."
        ) from None
    if not 1850 <= year <= 2300:
        raise _error(f"date {text!r} is out of range", f"ngày «{text}» nằm ngoài khoảng hợp lệ.")
    return value


def _looks_like_name(text: str) -> bool:
    return (
        len(text) <= _MAX_NAME_LENGTH
        and len(text.split(" ")) <= _MAX_NAME_WORDS
        and _NAME.fullmatch(text) is not None
    )


def _is_expiry_of(candidate: datetime.date, birth: datetime.date) -> bool:
    """Tell whether a date is the card's legal expiry: the birthday at 14, 25, 40 or 60."""
    return (candidate.month, candidate.day) == (birth.month, birth.day) and (
        candidate.year - birth.year in (14, 25, 40, 60)
    )


def _split(raw: object) -> tuple[str, list[str]]:
    """Check the payload's size and type and split it into cleaned fields."""
    if isinstance(raw, (bytes, bytearray)):
        if len(raw) > 4 * MAX_QR_LENGTH:
            raise _error("payload too long", "dữ liệu quá dài.")
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise _error("payload is not UTF-8 text", "dữ liệu không phải văn bản UTF-8.") from None
    if not isinstance(raw, str):
        raise _error(f"expected text, got {type(raw).__name__}", "dữ liệu không phải văn bản.")
    if len(raw) > MAX_QR_LENGTH:
        raise _error(
            f"payload is {len(raw)} characters, more than {MAX_QR_LENGTH}",
            "dữ liệu quá dài, không phải mã QR trên thẻ.",
        )
    # Keyboard-wedge scanners end with CR/LF (or Tab) and may prefix a symbology identifier.
    body = _SYMBOLOGY_ID.sub("", raw.strip())
    if "|" not in body:
        raise _error(
            "no '|' separators: not a CCCD QR payload",
            "không có dấu «|» ngăn cách các trường.",
        )
    parts = body.split("|")
    if len(parts) > _MAX_FIELDS:
        raise _error(
            f"{len(parts)} fields, more than {_MAX_FIELDS}", "có quá nhiều trường dữ liệu."
        )
    return raw, [_clean_field(p) for p in parts]


_IGNORED = "Đã bỏ qua một trường không nhận ra trong mã QR: «{}»."


@dataclass
class _Fields:
    """The payload's fields sorted by what they look like, before any is given a role."""

    twelve: list[str] = field(default_factory=list)
    old_ids: list[str] = field(default_factory=list)
    dates: list[datetime.date] = field(default_factory=list)
    sexes: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    no_expiry: bool = False
    warnings: list[str] = field(default_factory=list)


def _sort_fields(fields: list[str]) -> _Fields:
    """Sort the cleaned fields by content: numbers, dates, sex, "no expiry", texts."""
    found = _Fields()
    for text in fields:
        if not text:
            continue
        if text.isdigit() and text.isascii():
            date = _parse_date(text) if len(text) == 8 else None
            if date is not None:
                found.dates.append(date)
            elif len(text) == 12:
                found.twelve.append(text)
            elif len(text) == 9:
                found.old_ids.append(text)
            else:
                found.warnings.append(_IGNORED.format(text))
            continue
        date = _parse_date(text)
        if date is not None:
            found.dates.append(date)
            continue
        folded = fold(text)
        if folded in ("nam", "nu"):
            found.sexes.append("Nam" if folded == "nam" else "Nữ")
        elif folded in _NO_EXPIRY:
            found.no_expiry = True
        elif any(c.isalpha() for c in text):
            found.texts.append(text)
        else:
            found.warnings.append(_IGNORED.format(text))
    return found


def _id_numbers(found: _Fields) -> tuple[str, str | None]:
    """Return the ID number and the old ID (None when there is none)."""
    if not found.twelve:
        raise _error("no 12-digit ID number found", "không thấy số định danh 12 chữ số.")
    if len(found.twelve) > 2:
        raise _error(
            f"{len(found.twelve)} 12-digit numbers found, at most 2 expected",
            "có quá nhiều số 12 chữ số.",
        )
    old_candidates = found.twelve[1:] + found.old_ids
    old_id = old_candidates[0] if old_candidates else None
    if len(old_candidates) > 1:
        found.warnings.append(
            f"Mã QR có nhiều số CMND/CCCD cũ ({', '.join(old_candidates)}); "
            f"đã lấy số {old_id}, hãy kiểm tra lại."
        )
    return found.twelve[0], old_id


def _sex(found: _Fields) -> str:
    """Return the one sex the payload gives."""
    if not found.sexes:
        raise _error("no sex field (Nam/Nữ) found", "không thấy giới tính (Nam/Nữ).")
    if len(set(found.sexes)) > 1:
        raise _error("conflicting sex fields", "có hai giới tính khác nhau.")
    return found.sexes[0]


def _card_dates(
    found: _Fields, today: datetime.date
) -> tuple[datetime.date, datetime.date | None, datetime.date | None]:
    """Return (birth, issue, expiry) told apart by value: birth < issue < expiry."""
    dates = sorted(found.dates)
    if not dates:
        raise _error("no date of birth found", "không thấy ngày sinh.")
    if len(dates) > 3:
        raise _error(
            f"{len(dates)} dates found, at most 3 expected (birth, issue, expiry)",
            "có quá nhiều ngày tháng (chỉ có ngày sinh, ngày cấp, ngày hết hạn).",
        )
    if len(set(dates)) != len(dates):
        raise _error("two dates are equal", "có hai ngày tháng trùng nhau.")
    birth_date = dates[0]
    issue_date: datetime.date | None = None
    expiry_date: datetime.date | None = None
    if len(dates) == 3:
        issue_date, expiry_date = dates[1], dates[2]
    elif len(dates) == 2:
        later = dates[1]
        if _is_expiry_of(later, birth_date) or later > today:
            expiry_date = later
        else:
            issue_date = later
    if birth_date > today:
        raise _error(
            f"date of birth {format_date_vn(birth_date)} is in the future",
            f"ngày sinh {format_date_vn(birth_date)} ở tương lai.",
        )
    return birth_date, issue_date, expiry_date


def _name_and_address(found: _Fields) -> tuple[str, str]:
    """Return the first name-like text and the longest remaining one (the address)."""
    names = [t for t in found.texts if _looks_like_name(t)]
    if not names:
        raise _error("no field looks like a person's name", "không thấy họ tên.")
    full_name = names[0]
    rest = list(found.texts)
    rest.remove(full_name)
    if not rest:
        raise _error("no address found", "không thấy nơi cư trú.")
    # The longest remaining text is the address; max() keeps the first of equally long ones.
    address_index = max(range(len(rest)), key=lambda i: len(rest[i]))
    address = rest.pop(address_index)
    found.warnings.extend(_IGNORED.format(extra) for extra in rest)
    return full_name, address


def _date_warnings(
    issue_date: datetime.date | None,
    expiry_date: datetime.date | None,
    no_expiry: bool,
    today: datetime.date,
) -> list[str]:
    """Return the clerk's warnings about missing, expired or future card dates."""
    warnings: list[str] = []
    if issue_date is None:
        warnings.append("Mã QR không ghi ngày cấp thẻ; hãy xem trên mặt thẻ.")
    if expiry_date is None and not no_expiry:
        warnings.append("Mã QR không ghi ngày hết hạn của thẻ; hãy xem trên mặt thẻ.")
    if expiry_date is not None and expiry_date < today:
        warnings.append(f"Thẻ đã hết hạn từ ngày {format_date_vn(expiry_date)}.")
    if issue_date is not None and issue_date > today:
        warnings.append(
            f"Ngày cấp thẻ {format_date_vn(issue_date)} ở tương lai; hãy kiểm tra ngày giờ của máy tính."
        )
    return warnings


def _parse(raw: object, today: datetime.date) -> IdCard:
    """Parse a payload; raises only IdCardError (see parse_cccd_qr)."""
    raw_text, fields = _split(raw)
    found = _sort_fields(fields)
    id_number, old_id = _id_numbers(found)
    sex = _sex(found)
    birth_date, issue_date, expiry_date = _card_dates(found, today)
    full_name, address = _name_and_address(found)
    warnings = found.warnings
    warnings += _date_warnings(issue_date, expiry_date, found.no_expiry, today)
    warnings += check_personal_id(id_number, birth_date, sex)
    return IdCard(
        id_number=id_number,
        old_id=old_id,
        full_name=full_name,
        birth_date=birth_date,
        sex=sex,
        address=address,
        issue_date=issue_date,
        expiry_date=expiry_date,
        raw=raw_text,
        warnings=tuple(warnings),
    )


def parse_cccd_qr(raw: str, *, today: datetime.date | None = None) -> IdCard:
    """Read the QR payload of a chip ID card (2021 or 2024 design), recognising fields by content.

    Trailing CR/LF from keyboard-wedge scanners is ignored; fields must be separated by ``|``.

    Args:
        raw: The scanned or pasted text (``bytes`` in UTF-8 are accepted too).
        today: The date to judge future and expired dates against (default: today).

    Returns:
        The card's data with Vietnamese warnings (missing issue or expiry date, expired card,
        ID number disagreeing with the date of birth or sex, ignored fields).

    Raises:
        IdCardError: The text is not a readable card payload. No other exception escapes.
    """
    try:
        return _parse(raw, today or datetime.date.today())
    except IdCardError:
        raise
    except Exception as exc:  # a bug must not crash the form: report it as unreadable input
        raise _error(
            f"unreadable payload ({type(exc).__name__})", "dữ liệu không đọc được."
        ) from exc
