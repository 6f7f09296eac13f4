"""Turn layout sources into printed text, and collect the facts a printout's QR signs.

The same code feeds the PDF renderer and :func:`verify_printout`, so a record re-read from the
store gives the digest that was printed if (and only if) the printed facts are unchanged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata
from collections.abc import Mapping
from typing import Any, Protocol

from desktop.forms.dates import format_date_vn, parse_iso_date
from desktop.forms.fields import FieldKind
from desktop.forms.model import Procedure
from desktop.forms.receipt import ReceiptSlip
from desktop.forms.records import DATA_PREFIX
from desktop.printing.layout import DocumentLayout, sources_of, split_source


class StoredDossier(Protocol):
    """A stored dossier that carries its flat record (the store's ``DossierRecord``).

    Printing never imports the store: anything with a ``record`` mapping prints.
    """

    @property
    def record(self) -> Mapping[str, Any]:
        """The flat dossier record (metadata and ``data.<field>`` keys)."""
        ...


DossierInput = Mapping[str, Any] | StoredDossier
"""What printing and verification accept: the flat record, or a stored dossier holding it."""


def flat_record(dossier: DossierInput) -> Mapping[str, Any]:
    """Return the flat record of a dossier given either way."""
    return dossier if isinstance(dossier, Mapping) else dossier.record


@dataclasses.dataclass(frozen=True)
class DateWordsStyle:
    """How dates are spelled in words (a setting: localities differ).

    Attributes:
        mung: write "mùng" before days 1-10.
        zero_tens: "linh" or "lẻ" for an empty tens place (2005).
    """

    mung: bool = False
    zero_tens: str = "linh"

    @classmethod
    def coerce(cls, value: DateWordsStyle | Mapping[str, object] | None) -> DateWordsStyle:
        """Accept a style, None (the default style) or a mapping of the settings.

        A mapping may use ``mung``/``zero_tens`` or the settings names
        ``date_words_mung``/``date_words_zero_tens``; anything unknown is the default.
        """
        if value is None:
            return cls()
        if isinstance(value, DateWordsStyle):
            return value

        def pick(*names: str, default: object) -> object:
            for name in names:
                if name in value:
                    return value[name]
            return default

        mung = pick("mung", "date_words_mung", default=False)
        zero_tens = pick("zero_tens", "date_words_zero_tens", default="linh")
        return cls(
            mung is True or mung in (1, "1", "true"), "lẻ" if zero_tens in ("lẻ", "le") else "linh"
        )


@dataclasses.dataclass(frozen=True)
class Unit:
    """The commune-level unit that issues a paper, parsed from a name like "Xã Mù Cang Chải".

    Attributes:
        kind: "xã" or "phường" (lower case, as inside a sentence).
        name: the bare name ("Mù Cang Chải").
        province: the bare province name ("Lào Cai").
    """

    kind: str
    name: str
    province: str = "Lào Cai"

    @classmethod
    def parse(cls, commune_name: str, province: str = "Lào Cai") -> Unit:
        """Split "Xã Mù Cang Chải" / "Phường Cam Đường" / "Mù Cang Chải" (a xã by default).

        A 5-digit commune code ("04456") is looked up in the Lào Cai list.
        """
        text = _text(commune_name)
        if text.isdigit() and len(text) == 5:
            from desktop.forms.reference import commune_by_code

            commune = commune_by_code(text)
            text = commune.name if commune else text
        province = _text(province)
        for kind in ("xã", "phường", "thị trấn", "đặc khu"):
            if text.lower().startswith(kind + " "):
                return cls(kind, text[len(kind) + 1 :].strip(), province)
        return cls("xã", text, province)

    @property
    def unit(self) -> str:
        """ "xã Mù Cang Chải"."""
        return f"{self.kind} {self.name}"

    def context(self) -> dict[str, str]:
        """Return the ``ctx:`` values that depend on the unit."""
        authority = f"Ủy ban nhân dân {self.unit}"
        return {
            "unit": self.unit,
            "unit_upper": self.unit.upper(),
            "place": self.name,
            "authority": authority,
            "authority_upper": authority.upper(),
            "registry": f"{authority}, tỉnh {self.province}" if self.province else authority,
            "pickup": f"Bộ phận tiếp nhận và trả kết quả, {authority}",
        }


def _text(value: object) -> str:
    """Return a value as printed text: NFC (fonts have precomposed Vietnamese letters only,
    and fpdf2 does no shaping of combining marks), single spaces, Vietnamese dates."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return f"{value.hour:02d} giờ {value.minute:02d} phút, ngày {format_date_vn(value)}"
    if isinstance(value, dt.date):
        return format_date_vn(value)
    return unicodedata.normalize("NFC", " ".join(str(value).split()))


def _unit_in_sentence(name: str) -> str:
    """Lower-case the type word of a unit name, as inside a sentence ("tỉnh Lào Cai")."""
    head, _, rest = name.partition(" ")
    if head.lower() in ("xã", "phường", "tỉnh", "thành", "đặc"):
        return f"{head.lower()} {rest}"
    return name


def _fold(text: str) -> str:
    from desktop.forms.vietnamese import fold

    return fold(text)


class Values:
    """Resolve the sources of a layout against one dossier record (or one receipt slip).

    Args:
        procedure: the procedure declaration, or None for a receipt slip.
        record: the flat dossier record (``data.<field>`` keys) or {}.
        context: ``ctx:`` values (unit, registry, signer …).
        slip: the receipt slip for ``slip:`` sources, or None.
        style: the date-in-words style.
    """

    def __init__(
        self,
        procedure: Procedure | None,
        record: Mapping[str, Any],
        context: Mapping[str, str],
        *,
        slip: ReceiptSlip | None = None,
        style: DateWordsStyle | None = None,
    ) -> None:
        self.procedure = procedure
        self.record = record
        self.context = context
        # ``slip:<name>`` sources name the slip's fields (layout.py): read them by name.
        self.slip_fields: dict[str, Any] = dataclasses.asdict(slip) if slip is not None else {}
        self.style = style or DateWordsStyle()

    # -- text --------------------------------------------------------------------------------

    def text(self, source: str) -> str:
        """Return the printed text of a source ("" when empty)."""
        parts = split_source(source)
        if len(parts) == 1:
            return self._simple(parts[0])
        joined: list[str] = []
        for part in parts:
            value = self._simple(part)
            if value and _fold(value) not in _fold(", ".join(joined)):
                joined.append(value)
        return ", ".join(joined)

    def sequence(self, source: str) -> list[str]:
        """Return a list-valued source as printed lines (the papers received)."""
        value = self._raw_slip(source[len("slip:") :]) if source.startswith("slip:") else None
        if isinstance(value, (list, tuple)):
            return [_text(v) for v in value if _text(v)]
        text = self.text(source)
        return [text] if text else []

    def label(self, source: str) -> str:
        """Return the declared label of a field source ("" for other sources)."""
        first = split_source(source)[0]
        if self.procedure is not None and self.procedure.has_field(first):
            return self.procedure.field(first).label
        return ""

    def _simple(self, source: str) -> str:
        prefix, _, key = source.partition(":")
        if not key:
            return self._field(source)
        if prefix == "name":
            if self.procedure is None:
                return ""
            try:
                return _text(self.procedure.full_name_of(key, self._data()))
            except KeyError:
                return ""
        if prefix == "words":
            return self._words(self.data_value(key))
        if prefix == "meta":
            return self._meta(key)
        if prefix == "ctx":
            return _text(self.context.get(key))
        if prefix == "slip":
            return _text(self._raw_slip(key))
        raise ValueError(f"unknown source {source!r}")

    def _data(self) -> dict[str, Any]:
        from desktop.forms.records import record_data

        return record_data(self.record)

    def data_value(self, name: str) -> Any:
        """Return the stored value of a procedure field (flat or nested record), or None."""
        value = self.record.get(DATA_PREFIX + name)
        if value is None and isinstance(self.record.get("data"), Mapping):
            value = self.record["data"].get(name)
        return value

    def _words(self, value: Any) -> str:
        day = parse_iso_date(value) if isinstance(value, str) else None
        if day is None:
            return ""
        from desktop.forms.vietnamese import date_in_words

        return date_in_words(day, mung=self.style.mung, zero_tens=self.style.zero_tens)

    def _meta(self, key: str) -> str:
        if key == "book_volume":
            # One book per event type per year (Luật Hộ tịch): the year's book is volume 01.
            year = _text(self.record.get("book_year"))
            return f"01/{year}" if year else ""
        value = self.record.get(key)
        if isinstance(value, str) and key.endswith("_at") and len(value) >= 16:
            try:
                value = dt.datetime.fromisoformat(value)
            except ValueError:
                pass
        elif isinstance(value, str) and parse_iso_date(value) is not None:
            value = parse_iso_date(value)
        return _text(value)

    def _raw_slip(self, key: str) -> Any:
        value = self.slip_fields.get(key)
        # A count of 0 (no copies asked for) prints as nothing, so an optional line drops.
        return None if value == 0 and not isinstance(value, bool) else value

    def _field(self, name: str) -> str:
        value = self.data_value(name)
        if self.procedure is None or not self.procedure.has_field(name):
            return _text(value)
        field = self.procedure.field(name)
        if field.kind is FieldKind.DATE_IN_WORDS and field.derived_from:
            # Re-spell from the date in the style chosen for printing, whatever was stored.
            return self._words(self.data_value(field.derived_from)) or _text(value)
        if value is None or (isinstance(value, str) and not value.strip()):
            return ""
        text = _text(value)
        if field.kind is FieldKind.DATE:
            day = parse_iso_date(text)
            return format_date_vn(day) if day else text
        if field.kind is FieldKind.TIME:
            hour, _, minute = text.partition(":")
            if hour.isdigit() and minute.isdigit():
                return f"{int(hour):02d} giờ {int(minute):02d} phút"
            return text
        if field.kind is FieldKind.CHOICE:
            return field.option_label(text)
        if field.kind is FieldKind.COMMUNE:
            from desktop.forms.reference import commune_by_code

            commune = commune_by_code(text)
            return _unit_in_sentence(commune.name) if commune else text
        if field.kind is FieldKind.PROVINCE:
            from desktop.forms.reference import province_by_code

            province = province_by_code(text)
            return _unit_in_sentence(province.name) if province else text
        return text

    # -- facts ------------------------------------------------------------------------------

    def record_keys(self, source: str) -> list[str]:
        """Return the record keys a source reads (for the signed digest); [] for ``ctx:``."""
        keys: list[str] = []
        for part in split_source(source):
            prefix, _, key = part.partition(":")
            if not key:
                keys.extend(self._field_keys(part))
            elif prefix == "name" and self.procedure is not None:
                try:
                    split = self.procedure.person(key).split_name
                except KeyError:
                    continue
                names = ("ho", "chu_dem", "ten") if split else ("ho_ten",)
                keys.extend(f"{DATA_PREFIX}{key}_{n}" for n in names)
            elif prefix == "words":
                keys.append(DATA_PREFIX + key)
            elif prefix == "meta":
                keys.extend(("book_year",) if key == "book_volume" else (key,))
        return keys

    def _field_keys(self, name: str) -> list[str]:
        if self.procedure is not None and self.procedure.has_field(name):
            derived = self.procedure.field(name).derived_from
            if derived:
                return [DATA_PREFIX + derived]
        return [DATA_PREFIX + name]


def certificate_facts(
    procedure: Procedure, layout: DocumentLayout, record: Mapping[str, Any]
) -> dict[str, Any]:
    """Return the record values a certificate prints, keyed by record key.

    Always includes ``dossier_no`` and ``procedure``; ``ctx:`` values (the signer, the
    registry) are not in the record and not covered.
    """
    values = Values(procedure, record, {})
    facts: dict[str, Any] = {
        "dossier_no": record.get("dossier_no"),
        "procedure": record.get("procedure") or procedure.code,
    }
    for source in sources_of(layout):
        for key in values.record_keys(source):
            if key.startswith(DATA_PREFIX):
                facts[key] = values.data_value(key[len(DATA_PREFIX) :])
            else:
                facts[key] = record.get(key)
    return facts


def receipt_facts(
    dossier_no: str, procedure_code: str, received_at: object, applicant_name: str
) -> dict[str, Any]:
    """Return the facts a receipt slip's QR signs: number, procedure, time received, applicant.

    ``received_at`` may be a datetime or an ISO string; it is compared to the minute, as
    printed.
    """
    stamp = str(received_at or "")
    if isinstance(received_at, str):
        try:
            received_at = dt.datetime.fromisoformat(received_at.strip())
        except ValueError:
            pass
    if isinstance(received_at, dt.datetime):
        stamp = received_at.replace(tzinfo=None).isoformat(timespec="minutes")
    return {
        "dossier_no": dossier_no,
        "procedure": procedure_code,
        "received_at": stamp,
        "applicant": " ".join(str(applicant_name or "").split()),
    }


def receipt_facts_from_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """Return :func:`receipt_facts` computed from a stored dossier record."""
    from desktop.forms.procedures import get_procedure
    from desktop.forms.records import record_data

    code = str(record.get("procedure") or "")
    procedure = get_procedure(code)
    applicant = procedure.applicant(record_data(record))["name"]
    return receipt_facts(
        str(record.get("dossier_no") or ""), code, record.get("received_at"), applicant
    )
