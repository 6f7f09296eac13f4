"""The Procedure: one civil-status procedure declared once, as data.

A procedure (khai sinh, khai tử, xác nhận tình trạng hôn nhân, kết hôn) is declared in its own
module (``birth.py`` …) from the building blocks of ``fields.py`` and the rules of ``rules.py``,
and registered in ``procedures.py``. The form renderer, validation, the store (search terms,
duplicate keys, book type), the receipt slip and printing all read the same declaration.

Data values are strings keyed by field name (``{"tre_ho": "Giàng", ...}``); dates are ISO
``YYYY-MM-DD`` strings (``records.py`` maps them to the flat record's ``data.<name>`` keys).

This module stays cheap to import: it imports nothing heavy and only the small declaration
modules of ``desktop.forms``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from desktop.forms.fields import Field, FieldKind, Person, Section
from desktop.forms.names import full_name, propose_name_parts
from desktop.forms.rules import DateOrder, Forbidden, MinimumAge, ProcessingRule, RequiredWhen

if TYPE_CHECKING:
    from desktop.forms.idcard import IdCard

__all__ = ["Procedure"]


def _text(value: object) -> str:
    """Return ``value`` as text ('' for None)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


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

    def fill_person(self, person: str, card: IdCard) -> dict[str, str]:
        """Return the data values a scanned ID card gives for one person's fields.

        Args:
            person: the person's key.
            card: the card read by ``idcard.parse_cccd_qr``.

        Returns:
            ``{field name: value}`` with dates as ISO strings; values the card leaves empty
            are left out. A split name is proposed as first word = họ, last word = tên, the
            rest = chữ đệm, for the clerk to confirm.
        """
        mapping = self.person_fields(person)
        values: dict[str, str] = {}
        parts = propose_name_parts(card.full_name)
        for attr, name in mapping.items():
            if attr in ("ho", "chu_dem", "ten"):
                value: object = parts[("ho", "chu_dem", "ten").index(attr)]
            else:
                # The declaration names the card attribute (Field.idcard_attr).
                value = getattr(card, attr)
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
