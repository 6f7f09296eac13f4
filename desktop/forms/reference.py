"""Reference data shipped in the package: Lào Cai communes, provinces, ethnic groups, procedures.

The CSV files live in ``desktop/forms/data`` (see ../shared/reference/README.md for sources).
Each table is read once, on first use, and cached; lookups are diacritic- and case-insensitive
through ``vietnamese.fold`` so a clerk typing "mu cang chai" finds "Xã Mù Cang Chải".
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = [
    "Commune",
    "EthnicGroup",
    "Province",
    "commune_by_code",
    "communes",
    "ethnic_group_by_code",
    "ethnic_groups",
    "find_communes",
    "find_ethnic_group",
    "find_ethnic_groups",
    "find_provinces",
    "procedures_catalog",
    "province_by_code",
    "provinces",
]

LAO_CAI_PROVINCE_CODE = "15"
"""Code of Tỉnh Lào Cai after 1 July 2025."""


@dataclass(frozen=True)
class Commune:
    """A commune-level unit (xã / phường) of Lào Cai after 1 July 2025.

    Attributes:
        code: 5-digit statistics code (``04465``).
        name: official name with its type (``Xã Khao Mang``).
        kind: ``xã`` or ``phường``.
        aliases: other spellings and the names of the old units merged into it, for search.
        province_code: ``15`` (Lào Cai).
    """

    code: str
    name: str
    kind: str
    aliases: tuple[str, ...]
    province_code: str = LAO_CAI_PROVINCE_CODE

    @property
    def short_name(self) -> str:
        """The name without its type (``Khao Mang``)."""
        return _strip_unit_type(self.name)


@dataclass(frozen=True)
class Province:
    """A province-level unit after 1 July 2025 (34 in all).

    Attributes:
        code: 2-digit code (``15``).
        name: official name with its type (``Tỉnh Lào Cai``).
        kind: ``tỉnh`` or ``thành phố trực thuộc trung ương``.
        old_provinces: names of the provinces merged into it.
        commune_count: number of commune-level units.
    """

    code: str
    name: str
    kind: str
    old_provinces: tuple[str, ...]
    commune_count: int

    @property
    def short_name(self) -> str:
        """The name without its type (``Lào Cai``)."""
        return _strip_unit_type(self.name)


@dataclass(frozen=True)
class EthnicGroup:
    """One of the 54 ethnic groups.

    Attributes:
        code: 2-digit code (``08``).
        name: canonical name (``Mông``).
        variants: spellings accepted as this group (``H'Mông``, ``Hmông``, ``Mèo``).
        other_names: other names from a public transcription (UNVERIFIED: search hints only,
            never accepted as the group on their own; several are shared by two groups).
    """

    code: str
    name: str
    variants: tuple[str, ...]
    other_names: tuple[str, ...] = ()


_UNIT_TYPE = re.compile(
    r"^\s*(xã|phường|thị trấn|thành phố|tỉnh|thị xã|huyện|quận)\s+", re.IGNORECASE
)


def _strip_unit_type(name: str) -> str:
    """Remove a leading administrative type word (``Xã``, ``Phường``, ``Tỉnh`` …)."""
    return _UNIT_TYPE.sub("", name, count=1).strip()


def _read_csv(name: str) -> list[dict[str, str]]:
    """Read a shipped CSV file as a list of rows."""
    text = resources.files("desktop.forms").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _fold(text: str) -> str:
    """Fold for matching (lazy import keeps this module cheap)."""
    from desktop.forms.vietnamese import fold

    return fold(text)


def _compact(text: str) -> str:
    """Fold and drop separators, so ``H'Mông``, ``H Mông`` and ``Hmông`` compare equal."""
    return re.sub(r"[\s'\-.]+", "", _fold(text))


def _split_list(text: str, sep: str) -> list[str]:
    """Split a CSV cell list, dropping empties and ellipses."""
    return [p.strip() for p in text.split(sep) if p.strip() and p.strip() not in ("...", "…")]


# -- communes ---------------------------------------------------------------------------------


def _commune_aliases(row: dict[str, str]) -> tuple[str, ...]:
    """Collect a commune's search aliases: spelling variants and the merged old units."""
    aliases: list[str] = []
    # Spelling notes quote both spellings: NQ 1673 "Mù Cang Chải" = GSO "Mù Căng Chải".
    aliases.extend(re.findall(r'"([^"]+)"', row.get("spelling_variant_notes", "")))
    for unit in _split_list(row.get("old_units_with_codes", ""), ";"):
        # "04459 Xã Hồ Bốn (Huyện Mù Căng Chải, tỉnh Yên Bái)" → "Hồ Bốn"
        m = re.match(r"^\d{5}\s+(.*?)\s*(\(.*\))?$", unit)
        if m:
            aliases.append(_strip_unit_type(m.group(1)))
    name = _strip_unit_type(row["name"])
    seen = {_fold(name)}
    unique: list[str] = []
    for alias in aliases:
        alias = _strip_unit_type(alias)
        key = _fold(alias)
        if key and key not in seen:
            seen.add(key)
            unique.append(alias)
    return tuple(unique)


@cache
def communes() -> list[Commune]:
    """Return the 99 commune-level units of Lào Cai, in the order of the official list."""
    return [
        Commune(
            code=row["code"],
            name=row["name"],
            kind=row["type"],
            aliases=_commune_aliases(row),
            province_code=row["province_code"],
        )
        for row in _read_csv("laocai_communes_2025.csv")
    ]


@cache
def _communes_by_code() -> dict[str, Commune]:
    return {c.code: c for c in communes()}


def commune_by_code(code: str) -> Commune | None:
    """Return the Lào Cai commune with a 5-digit code, or None."""
    return _communes_by_code().get(code) if isinstance(code, str) else None


@cache
def _commune_search_index() -> list[tuple[Commune, str, tuple[str, ...]]]:
    """Per commune: folded short name and folded aliases."""
    return [(c, _fold(c.short_name), tuple(_fold(a) for a in c.aliases)) for c in communes()]


def _match_rank(query: str, text: str) -> int | None:
    """Rank how well ``query`` matches ``text`` (both folded); lower is better."""
    if text == query:
        return 0
    if text.startswith(query):
        return 1
    if (" " + text).find(" " + query) >= 0:
        return 2
    if query in text:
        return 3
    return None


def find_communes(text: str, limit: int | None = None) -> list[Commune]:
    """Find Lào Cai communes for a search-as-you-type dropdown.

    Matching is diacritic- and case-insensitive, on the name (with or without "xã"/"phường"),
    its spelling variants and the names of the old units merged into it, and on the code.
    Name matches come before alias matches; an empty query returns every commune.

    Args:
        text: what the clerk typed.
        limit: at most this many results.
    """
    if not isinstance(text, str):
        return []
    query = _fold(_strip_unit_type(text)) if text.strip() else ""
    if not query:
        found = list(communes())
        return found[:limit] if limit is not None else found
    ranked: list[tuple[int, int, Commune]] = []
    for order, (commune, name, aliases) in enumerate(_commune_search_index()):
        rank = _match_rank(query, name)
        if rank is None and query.isdigit() and commune.code.startswith(query):
            rank = 1
        if rank is None:
            alias_ranks = [r for r in (_match_rank(query, a) for a in aliases) if r is not None]
            if alias_ranks:
                rank = 10 + min(alias_ranks)
        if rank is not None:
            ranked.append((rank, order, commune))
    ranked.sort(key=lambda t: (t[0], t[1]))
    result = [c for _, _, c in ranked]
    return result[:limit] if limit is not None else result


# -- provinces --------------------------------------------------------------------------------


@cache
def provinces() -> list[Province]:
    """Return the 34 province-level units, in code order."""
    result = []
    for row in _read_csv("provinces_2025.csv"):
        old = []
        for item in _split_list(row["merged_from_old_provinces"], ";"):
            item = re.sub(r"^\(không sáp nhập\)\s*", "", item)
            item = re.sub(r"^\d+\s+", "", item)
            old.append(item)
        result.append(
            Province(
                code=row["code"],
                name=row["name"],
                kind=row["type"],
                old_provinces=tuple(old),
                commune_count=int(row["n_commune_units"]),
            )
        )
    return sorted(result, key=lambda p: p.code)


@cache
def _provinces_by_code() -> dict[str, Province]:
    return {p.code: p for p in provinces()}


def province_by_code(code: str) -> Province | None:
    """Return the province with a 2-digit code, or None."""
    return _provinces_by_code().get(code) if isinstance(code, str) else None


def find_provinces(text: str) -> list[Province]:
    """Find provinces by name or old (merged) province name, diacritic-insensitive."""
    if not isinstance(text, str):
        return []
    query = _fold(_strip_unit_type(text)) if text.strip() else ""
    if not query:
        return list(provinces())
    ranked: list[tuple[int, str, Province]] = []
    for p in provinces():
        rank = _match_rank(query, _fold(p.short_name))
        if rank is None and query.isdigit() and p.code.startswith(query):
            rank = 1
        if rank is None:
            ranks = [_match_rank(query, _fold(_strip_unit_type(o))) for o in p.old_provinces]
            found = [r for r in ranks if r is not None]
            rank = 10 + min(found) if found else None
        if rank is not None:
            ranked.append((rank, p.code, p))
    ranked.sort(key=lambda t: (t[0], t[1]))
    return [p for _, _, p in ranked]


# -- ethnic groups ----------------------------------------------------------------------------


@cache
def ethnic_groups() -> list[EthnicGroup]:
    """Return the 54 ethnic groups in code order."""
    result = []
    for row in _read_csv("ethnic_groups.csv"):
        result.append(
            EthnicGroup(
                code=row["code"],
                name=row["name"],
                variants=tuple(_split_list(row["spelling_variants_seen"], ";")),
                other_names=tuple(
                    _split_list(row["other_names_QD121_transcription_UNVERIFIED"], ",")
                ),
            )
        )
    return sorted(result, key=lambda g: g.code)


@cache
def _ethnic_index() -> dict[str, EthnicGroup]:
    """Compact folded name and accepted variants → group (canonical names win)."""
    index: dict[str, EthnicGroup] = {}
    for group in ethnic_groups():
        index[_compact(group.name)] = group
    for group in ethnic_groups():
        for variant in group.variants:
            index.setdefault(_compact(variant), group)
    return index


def ethnic_group_by_code(code: str) -> EthnicGroup | None:
    """Return the ethnic group with a 2-digit code, or None."""
    for group in ethnic_groups():
        if group.code == code:
            return group
    return None


def find_ethnic_group(text: str) -> EthnicGroup | None:
    """Return the ethnic group a typed name denotes, or None.

    Accepts the canonical name and the spelling variants (``H'Mông``, ``Hmông`` and ``Mèo``
    all give ``Mông``), ignoring case, diacritics, spaces, hyphens and apostrophes. The
    unverified "other names" are not accepted here (several are shared by two groups).
    """
    if not isinstance(text, str) or not text.strip():
        return None
    return _ethnic_index().get(_compact(text))


def find_ethnic_groups(text: str) -> list[EthnicGroup]:
    """Find ethnic groups for a search-as-you-type dropdown (name, variants, other names)."""
    if not isinstance(text, str):
        return []
    query = _fold(text.strip())
    if not query:
        return list(ethnic_groups())
    ranked: list[tuple[int, str, EthnicGroup]] = []
    for group in ethnic_groups():
        rank = _match_rank(query, _fold(group.name))
        if rank is None:
            names = [*group.variants, *group.other_names]
            found = [r for r in (_match_rank(query, _fold(n)) for n in names) if r is not None]
            rank = 10 + min(found) if found else None
        if rank is not None:
            ranked.append((rank, group.code, group))
    ranked.sort(key=lambda t: (t[0], t[1]))
    return [g for _, _, g in ranked]


# -- procedures catalog -----------------------------------------------------------------------


@cache
def procedures_catalog() -> list[dict[str, str]]:
    """Return the rows of procedures.csv: 41 civil-status procedures of the national portal.

    Keys include ``code`` (national code), ``name``, ``processing_time_cases_on_portal``,
    ``fee_on_portal``, ``result_documents``, ``legal_bases_listed_on_portal`` and ``notes``.
    """
    return _read_csv("procedures.csv")
