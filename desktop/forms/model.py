"""The shape of a procedure declaration: fields, sections, persons, processing rules.

A procedure (khai sinh, khai tử, xác nhận tình trạng hôn nhân, kết hôn) is declared once, as
data, in its own module (``birth.py`` …) and registered in ``procedures.py``. The form renderer,
validation, the store (search terms, duplicate keys, book type), the receipt slip and printing
all read the same declaration.

Data values are strings keyed by field name (``{"tre_ho": "Giàng", ...}``); dates are ISO
``YYYY-MM-DD`` strings. In a stored dossier record the same values live under
``data.<field name>`` keys (see docs/architecture.md); :func:`record_data` and
:func:`record_fields` convert between the two.

This module stays cheap to import: it imports nothing heavy and no other ``desktop`` module at
import time (``vietnamese.fold`` is imported lazily where a key is folded).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import Enum
from typing import Any

__all__ = [
    "Choice",
    "DATA_PREFIX",
    "DateOrder",
    "Forbidden",
    "MinimumAge",
    "RequiredWhen",
    "Field",
    "FieldError",
    "FieldKind",
    "FieldWarning",
    "Person",
    "ProcessingRule",
    "Procedure",
    "Section",
    "ValidationError",
    "ValidationResult",
    "full_name",
    "propose_name_parts",
    "record_data",
    "record_fields",
]

DATA_PREFIX = "data."
"""Prefix of procedure fields in a flat dossier record (``data.tre_ho``)."""


class FieldKind(str, Enum):
    """What a field holds; decides its widget, its normalisation and its checks."""

    TEXT = "text"
    """A short free text on one line."""
    NAME = "name"
    """A person's name or a part of it (họ, chữ đệm, tên, or a full name); normalised."""
    DATE = "date"
    """A calendar date, stored ISO ``YYYY-MM-DD``, shown dd/mm/yyyy."""
    TIME = "time"
    """A time of day ``HH:MM`` (e.g. the hour of death)."""
    SEX = "sex"
    """``Nam`` or ``Nữ``."""
    ETHNICITY = "ethnicity"
    """One of the 54 ethnic groups, stored by its canonical name (``Mông`` for H'Mông)."""
    NATIONALITY = "nationality"
    """A nationality, as text (``Việt Nam`` by default)."""
    PERSONAL_ID = "personal_id"
    """A 12-digit personal identification number (số định danh cá nhân)."""
    COMMUNE = "commune"
    """A 5-digit code of a Lào Cai commune-level unit (xã/phường)."""
    PROVINCE = "province"
    """A 2-digit code of one of the 34 province-level units."""
    PLACE = "place"
    """A free-text address or place (thôn/bản, xã, tỉnh)."""
    CHOICE = "choice"
    """One of a fixed set of :class:`Choice` values."""
    TEXTAREA = "textarea"
    """A longer free text on several lines."""
    DATE_IN_WORDS = "date_in_words"
    """Read-only, derived from a DATE field by ``vietnamese.date_in_words``."""
    INTEGER = "integer"
    """A whole number (e.g. number of copies, the how-many-th marriage)."""


@dataclass(frozen=True)
class Choice:
    """One option of a CHOICE field: the stored value and its Vietnamese label."""

    value: str
    label: str


@dataclass(frozen=True)
class Field:
    """One field of a procedure declaration, as on the paper form.

    Attributes:
        name: snake_case ASCII key, unique within the procedure (``tre_ho``).
        label: Vietnamese label as on the paper form (``Họ``).
        kind: what the field holds.
        section: key of the :class:`Section` the field belongs to.
        required: whether a value is needed to save the dossier.
        options: the choices of a CHOICE field, in display order.
        help: a short Vietnamese hint shown next to the field.
        derived_from: name of the field this read-only value is computed from
            (the date of birth in words is derived from the date of birth).
        person: key of the :class:`Person` this field describes, if any.
        searchable: whether the value is indexed for search (names, ID numbers).
        max_length: maximum number of characters.
        default: the value a new form starts with.
        idcard_attr: the attribute of a scanned ID card (``forms.idcard.IdCard``) that fills
            this field: ``id_number``, ``full_name``, ``birth_date``, ``sex``, ``address``,
            ``old_id``, ``issue_date``; or the name parts ``ho``, ``chu_dem``, ``ten``, which
            are proposed from the card's full name for the clerk to confirm.
    """

    name: str
    label: str
    kind: FieldKind = FieldKind.TEXT
    section: str = ""
    required: bool = False
    options: tuple[Choice, ...] = ()
    help: str = ""
    derived_from: str | None = None
    person: str | None = None
    searchable: bool = False
    max_length: int = 200
    default: str = ""
    idcard_attr: str | None = None

    @property
    def read_only(self) -> bool:
        """Whether the clerk cannot type into this field (it is computed)."""
        return self.derived_from is not None

    def option_label(self, value: str) -> str:
        """Return the Vietnamese label of a CHOICE value (the value itself if unknown)."""
        for choice in self.options:
            if choice.value == value:
                return choice.label
        return value


@dataclass(frozen=True)
class Section:
    """A group of fields, titled as on the paper form; field order is Tab order."""

    key: str
    title: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Person:
    """A person a procedure is about (the child, the mother, the requester …).

    Attributes:
        key: prefix of the person's field names (``tre``, ``me``, ``nguoi_yeu_cau`` …).
        title: Vietnamese title (``Người được khai sinh``), e.g. for a "Quét CCCD" button.
        split_name: whether the name is declared as ``<key>_ho``, ``<key>_chu_dem``,
            ``<key>_ten`` (people who are sorted by name) rather than one ``<key>_ho_ten``.
        sex: the sex implied by the role (``Nữ`` for the mother or the wife), if any.
        has_id_card: whether the person can hold a chip ID card to scan ("Quét CCCD");
            False for a newborn.
    """

    key: str
    title: str
    split_name: bool = False
    sex: str | None = None
    has_id_card: bool = True


@dataclass(frozen=True)
class ProcessingRule:
    """The statutory processing time of a procedure (see ``workdays.due_date``).

    Attributes:
        working_days: working days after the day of receipt; 0 means the result is given on
            the day the papers are received.
        extended_working_days: the longer time when conditions must be verified
            (marriage: 5 working days), or None.
        cutoff: papers received at or after this time count from the next working day
            (15:00); None for no roll-over.
        description: Vietnamese wording for the slip and the UI.
    """

    working_days: int
    extended_working_days: int | None = None
    cutoff: time | None = time(15, 0)
    description: str = ""


@dataclass(frozen=True)
class DateOrder:
    """A rule that one date comes after another (by at least ``min_years`` full years).

    Attributes:
        earlier: the field with the earlier date (e.g. the mother's date of birth).
        later: the field with the later date (e.g. the child's date of birth).
        on: the field the error is shown next to.
        message: the Vietnamese error message (names the fields, says how to fix).
        min_years: full years required between the two dates.
    """

    earlier: str
    later: str
    on: str
    message: str
    min_years: int = 0


@dataclass(frozen=True)
class MinimumAge:
    """A person must be at least ``years`` full years old on the registration date.

    Attributes:
        birth_field: the field with the person's date of birth.
        years: the minimum age in full years.
        message: the Vietnamese error message.
    """

    birth_field: str
    years: int
    message: str


@dataclass(frozen=True)
class RequiredWhen:
    """A field becomes required when another field holds one of some values.

    Attributes:
        field: the field that becomes required.
        when: the field whose value decides.
        values: the values of ``when`` that make ``field`` required.
    """

    field: str
    when: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Forbidden:
    """A combination of values that cannot go together (e.g. married + purpose marriage).

    Attributes:
        values: ``{field: value}`` pairs that must not all hold at once.
        on: the field the error is shown next to.
        message: the Vietnamese error message.
    """

    values: tuple[tuple[str, str], ...]
    on: str
    message: str


def _no_duplicate_key(data: Mapping[str, Any]) -> tuple[str, ...] | None:
    """Return None: the procedure declares no duplicate rule."""
    return None


@dataclass(frozen=True)
class Procedure:
    """One civil-status procedure, declared once.

    Attributes:
        code: internal code (``khai_sinh``, ``khai_tu``, ``xac_nhan_hon_nhan``, ``ket_hon``).
        national_code: code on the national public service portal (``1.001193``).
        title: Vietnamese title (``Đăng ký khai sinh``).
        short_title: a short name for narrow list columns (``Khai sinh``).
        result_document: what the citizen receives (``Giấy khai sinh``).
        book_type: the register book this procedure is entered in (``KS``, ``KT``, ``XNHN``,
            ``KH``).
        sections: the sections of the form in paper order.
        persons: the people the form describes, in form order.
        processing: statutory processing time.
        event_deadline_days: days after the event within which registration is on time
            (60 for a birth, 15 for a death), or None.
        event_date_field: the field holding the event date the deadline counts from.
        main_persons: persons whose names summarise the dossier (``display_name``).
        applicant_person: the person who hands in the papers (name/ID/phone on the slip).
        papers: the papers usually received (thành phần hồ sơ), for the receipt slip.
        date_orders: cross-field date rules (child born 10+ years after the mother …).
        minimum_ages: ages required on the registration date (marriage: 20 and 18).
        required_when: fields that become required depending on another field.
        forbidden: combinations of values that cannot go together.
        duplicate_rule: function computing the duplicate key from (normalised) data.
    print_layout: left None; printing keeps its layouts keyed by procedure code.
    """

    code: str
    national_code: str
    title: str
    result_document: str
    book_type: str
    sections: tuple[Section, ...]
    persons: tuple[Person, ...] = ()
    processing: ProcessingRule = ProcessingRule(working_days=0)
    event_deadline_days: int | None = None
    event_date_field: str | None = None
    main_persons: tuple[str, ...] = ()
    applicant_person: str | None = None
    papers: tuple[str, ...] = ()
    date_orders: tuple[DateOrder, ...] = ()
    minimum_ages: tuple[MinimumAge, ...] = ()
    required_when: tuple[RequiredWhen, ...] = ()
    forbidden: tuple[Forbidden, ...] = ()
    duplicate_rule: Callable[[Mapping[str, Any]], tuple[str, ...] | None] = field(
        default=_no_duplicate_key, compare=False, repr=False
    )
    short_title: str = ""
    print_layout: object | None = None
    _by_name: dict[str, Field] = field(default_factory=dict, init=False, compare=False, repr=False)
    _fields: tuple[Field, ...] = field(default=(), init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        """Index the fields by name and check the declaration is consistent."""
        index: dict[str, Field] = {}
        for section in self.sections:
            for f in section.fields:
                if f.name in index:
                    raise ValueError(f"{self.code}: duplicate field {f.name!r}")
                if f.section != section.key:
                    raise ValueError(f"{self.code}: field {f.name!r} not in section {section.key}")
                index[f.name] = f
        person_keys = {p.key for p in self.persons}
        for f in index.values():
            if f.person is not None and f.person not in person_keys:
                raise ValueError(f"{self.code}: field {f.name!r} names unknown person {f.person}")
            if f.derived_from is not None and f.derived_from not in index:
                raise ValueError(f"{self.code}: {f.name!r} derived from unknown field")
            if f.kind is FieldKind.CHOICE and not f.options:
                raise ValueError(f"{self.code}: choice field {f.name!r} has no options")
        if self.event_date_field is not None and self.event_date_field not in index:
            raise ValueError(f"{self.code}: unknown event date field {self.event_date_field}")
        referenced = [
            *(n for r in self.date_orders for n in (r.earlier, r.later, r.on)),
            *(r.birth_field for r in self.minimum_ages),
            *(n for r in self.required_when for n in (r.field, r.when)),
            *(n for r in self.forbidden for n in (r.on, *(f for f, _ in r.values))),
        ]
        for name in referenced:
            if name not in index:
                raise ValueError(f"{self.code}: a rule names unknown field {name!r}")
        object.__setattr__(self, "_by_name", index)
        object.__setattr__(self, "_fields", tuple(index.values()))

    # -- the declaration --------------------------------------------------------------------

    @property
    def fields(self) -> tuple[Field, ...]:
        """All fields, flat, in paper-form (Tab) order."""
        return self._fields

    @property
    def field_names(self) -> tuple[str, ...]:
        """All field names in form order."""
        return tuple(self._by_name)

    def field(self, name: str) -> Field:
        """Return the field called ``name``.

        Raises:
            KeyError: the procedure has no such field.
        """
        return self._by_name[name]

    def has_field(self, name: str) -> bool:
        """Whether the procedure declares a field called ``name``."""
        return name in self._by_name

    def person(self, key: str) -> Person:
        """Return the person called ``key``.

        Raises:
            KeyError: the procedure describes no such person.
        """
        for p in self.persons:
            if p.key == key:
                return p
        raise KeyError(key)

    def fields_of(self, person: str) -> tuple[Field, ...]:
        """The fields describing one person, in form order."""
        return tuple(f for f in self._by_name.values() if f.person == person)

    def person_fields(self, person: str) -> dict[str, str]:
        """Map ID-card attributes to this person's field names (for "Quét CCCD").

        Keys are ``forms.idcard.IdCard`` attribute names (``id_number``, ``full_name``,
        ``birth_date``, ``sex``, ``address`` …) or, for a person whose name is split, the name
        parts ``ho``, ``chu_dem`` and ``ten`` (fill them with :meth:`fill_person`, which
        proposes the parts from the card's full name).
        """
        return {f.idcard_attr: f.name for f in self.fields_of(person) if f.idcard_attr}

    def fill_person(self, person: str, card: object) -> dict[str, str]:
        """Return the data values a scanned ID card gives for one person's fields.

        Args:
            person: the person's key.
            card: an object with ``IdCard`` attributes (``id_number``, ``full_name``,
                ``birth_date`` as a ``date``, ``sex``, ``address``, ``issue_date`` …).

        Returns:
            ``{field name: value}`` with dates as ISO strings; attributes the card lacks or
            that are empty are left out. A split name is proposed as first word = họ, last
            word = tên, the rest = chữ đệm, for the clerk to confirm.
        """
        mapping = self.person_fields(person)
        values: dict[str, str] = {}
        full = str(getattr(card, "full_name", "") or "")
        parts = propose_name_parts(full) if full else ("", "", "")
        for attr, name in mapping.items():
            if attr in ("ho", "chu_dem", "ten"):
                value: object = parts[("ho", "chu_dem", "ten").index(attr)]
            else:
                value = getattr(card, attr, None)
            if isinstance(value, (date, datetime)):
                value = value.isoformat()[:10]
            if value is None or value == "":
                continue
            values[name] = str(value)
        return values

    # -- derived values of one dossier's data -----------------------------------------------

    def full_name_of(self, person: str, data: Mapping[str, Any]) -> str:
        """Return a person's full name from the data (empty when not filled in)."""
        p = self.person(person)
        if p.split_name:
            return full_name(
                _text(data.get(f"{person}_ho")),
                _text(data.get(f"{person}_chu_dem")),
                _text(data.get(f"{person}_ten")),
            )
        return " ".join(_text(data.get(f"{person}_ho_ten")).split())

    def search_terms(self, data: Mapping[str, Any]) -> list[str]:
        """Return the values to index for search: every person's full name and each
        searchable field (personal ID numbers, certificate numbers), without empties."""
        terms: list[str] = []
        for p in self.persons:
            name = self.full_name_of(p.key, data)
            if name:
                terms.append(name)
        for f in self._by_name.values():
            if not f.searchable or f.kind is FieldKind.NAME:
                continue
            value = _text(data.get(f.name)).strip()
            if value:
                terms.append(value)
        return list(dict.fromkeys(terms))

    def display_name(self, data: Mapping[str, Any]) -> str:
        """Return a one-line summary: the main person's name (both spouses for a marriage)."""
        names = [self.full_name_of(p, data) for p in self.main_persons]
        names = [n for n in names if n]
        return " – ".join(names) if names else "(chưa có tên)"

    def duplicate_key(self, data: Mapping[str, Any]) -> tuple[str, ...] | None:
        """Return the key under which two dossiers of the same event collide, or None.

        The key starts with the procedure code and uses folded names (diacritic- and
        case-insensitive), so two devices registering the same birth produce equal keys.
        None when the data lacks what the key needs.
        """
        try:
            key = self.duplicate_rule(data)
        except Exception:  # a broken draft must never break saving; no key is the safe answer
            return None
        return None if key is None else (self.code, *key)

    def applicant(self, data: Mapping[str, Any]) -> dict[str, str]:
        """Return the applicant's ``name``, ``id_number``, ``phone`` and ``address``.

        Without an ``applicant_person`` (a marriage: both spouses come in person) the main
        persons' names are joined with "và" and the first one's ID and address are used.
        """
        people = (self.applicant_person,) if self.applicant_person else self.main_persons
        if not people:
            return {"name": "", "id_number": "", "phone": "", "address": ""}
        first = people[0]
        fields = {f.idcard_attr: f.name for f in self.fields_of(first) if f.idcard_attr}
        phone = next(
            (f.name for f in self.fields_of(first) if f.name.endswith("_dien_thoai")), None
        )
        if phone is None and self.has_field("dien_thoai"):
            phone = "dien_thoai"
        names = [n for n in (self.full_name_of(p, data) for p in people) if n]
        return {
            "name": " và ".join(names),
            "id_number": _text(data.get(fields.get("id_number", ""))).strip(),
            "phone": _text(data.get(phone)).strip() if phone else "",
            "address": _text(data.get(fields.get("address", ""))).strip(),
        }

    def defaults(self) -> dict[str, str]:
        """Return the starting values of a new form (fields with a default)."""
        return {f.name: f.default for f in self._by_name.values() if f.default}


# -- validation results (filled in by validation.py) ------------------------------------------


@dataclass(frozen=True)
class FieldError:
    """A problem that stops saving: the field's name and a Vietnamese message.

    The message names the field by its label, says what is wrong and how to fix it.
    """

    field: str
    message: str


@dataclass(frozen=True)
class FieldWarning:
    """A soft warning the clerk should look at; it does not stop saving."""

    field: str
    message: str


@dataclass(frozen=True)
class ValidationResult:
    """The outcome of ``validation.validate``.

    Attributes:
        errors: problems that stop saving (empty when the data is valid).
        warnings: soft warnings (late registration, ID number oddities).
        late: the event is registered after its legal deadline (a fee applies).
        normalized: the cleaned data: known fields only, text normalised, ethnic groups by
            canonical name, derived fields (date in words) filled in.
    """

    errors: tuple[FieldError, ...]
    warnings: tuple[FieldWarning, ...]
    late: bool
    normalized: dict[str, str]

    @property
    def ok(self) -> bool:
        """Whether there are no errors."""
        return not self.errors

    def errors_for(self, name: str) -> tuple[FieldError, ...]:
        """Return the errors of one field."""
        return tuple(e for e in self.errors if e.field == name)

    def warnings_for(self, name: str) -> tuple[FieldWarning, ...]:
        """Return the warnings of one field."""
        return tuple(w for w in self.warnings if w.field == name)


class ValidationError(ValueError):
    """Data that cannot be saved; ``errors`` holds one :class:`FieldError` per problem.

    ``str()`` is English (for logs and the CLI); the Vietnamese messages are in ``errors``.
    """

    def __init__(self, errors: tuple[FieldError, ...] | list[FieldError]) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        fields = ", ".join(dict.fromkeys(e.field for e in self.errors)) or "(none)"
        super().__init__(f"invalid dossier data: {len(self.errors)} error(s) in fields: {fields}")


# -- names and dates --------------------------------------------------------------------------


def _text(value: object) -> str:
    """Return ``value`` as text ('' for None)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


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


# -- records ----------------------------------------------------------------------------------


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
