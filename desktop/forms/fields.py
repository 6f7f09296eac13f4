"""The building blocks of a procedure declaration: field kinds, fields, sections, persons.

A procedure (see :mod:`desktop.forms.model`) is a tuple of :class:`Section` values, each a tuple
of :class:`Field` values; the people the form describes are :class:`Person` values. Nothing here
imports another ``desktop`` module.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["Choice", "Field", "FieldKind", "Person", "Section"]


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
