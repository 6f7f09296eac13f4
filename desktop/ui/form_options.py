"""The option lists of the form's searchable dropdowns, one per kind of field.

Ethnic groups, provinces, communes and nationalities come from ``desktop.forms.reference``
(built once, on first use); sex and fixed choices from the field's own declaration.
"""

from __future__ import annotations

import functools

from desktop.forms.fields import Field as FormField
from desktop.forms.fields import FieldKind
from desktop.ui.form_widgets import Option, OptionList


@functools.cache
def ethnic_options() -> OptionList:
    """Return the 54 ethnic groups (canonical name stored; spelling variants searchable)."""
    from desktop.forms.reference import ethnic_groups, find_ethnic_groups

    return OptionList(
        [Option(g.name, g.name, tuple(g.variants)) for g in ethnic_groups()],
        finder=lambda text: [g.name for g in find_ethnic_groups(text)],
    )


@functools.cache
def province_options() -> OptionList:
    """Return the 34 provinces (2-digit code stored, name shown)."""
    from desktop.forms.reference import find_provinces, provinces

    return OptionList(
        [Option(p.code, p.name) for p in provinces()],
        finder=lambda text: [p.code for p in find_provinces(text)],
    )


@functools.cache
def commune_options() -> OptionList:
    """Return the 99 Lào Cai communes (5-digit code stored; old names and variants searchable)."""
    from desktop.forms.reference import communes, find_communes

    return OptionList(
        [Option(c.code, c.name, tuple(c.aliases)) for c in communes()],
        finder=lambda text: [c.code for c in find_communes(text)],
    )


@functools.cache
def nationality_options() -> OptionList:
    """Return the usual nationalities (any other is typed as free text)."""
    return OptionList(
        [Option(n, n) for n in ("Việt Nam", "Lào", "Trung Quốc", "Campuchia", "Không quốc tịch")]
    )


def options_for(field: FormField) -> OptionList | None:
    """Return the dropdown options of a field, or None when it is typed freely."""
    if field.kind in (FieldKind.SEX, FieldKind.CHOICE):
        return OptionList([Option(c.value, c.label) for c in field.options])
    if field.kind is FieldKind.ETHNICITY:
        return ethnic_options()
    if field.kind is FieldKind.PROVINCE:
        return province_options()
    if field.kind is FieldKind.COMMUNE:
        return commune_options()
    if field.kind is FieldKind.NATIONALITY:
        return nationality_options()
    return None
