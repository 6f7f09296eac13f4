"""Describe the declared procedures as Markdown (docs/procedures.md is generated from this).

Run ``python -m desktop.forms.describe > docs/procedures.md`` after changing a declaration;
``tests/forms/test_procedures.py`` fails while the document and the declarations disagree.
"""

from __future__ import annotations

from desktop.forms.fields import Field, FieldKind
from desktop.forms.model import Procedure
from desktop.forms.procedures import all_procedures

_KIND_WORDS = {
    FieldKind.TEXT: "text",
    FieldKind.NAME: "name",
    FieldKind.DATE: "date (dd/mm/yyyy; stored ISO)",
    FieldKind.TIME: "time HH:MM",
    FieldKind.SEX: "Nam / Nữ",
    FieldKind.ETHNICITY: "one of the 54 ethnic groups",
    FieldKind.NATIONALITY: "nationality",
    FieldKind.PERSONAL_ID: "12-digit personal ID",
    FieldKind.COMMUNE: "Lào Cai commune code",
    FieldKind.PROVINCE: "province code (34)",
    FieldKind.PLACE: "place / address",
    FieldKind.CHOICE: "choice",
    FieldKind.TEXTAREA: "long text",
    FieldKind.DATE_IN_WORDS: "date in words (derived)",
    FieldKind.INTEGER: "number",
}


def _kind(f: Field) -> str:
    text = _KIND_WORDS[f.kind]
    if f.options:
        text += ": " + "; ".join(f"`{c.value}` {c.label}" for c in f.options)
    return text


def _processing(p: Procedure) -> str:
    rule = p.processing
    days = "same day" if rule.working_days == 0 else f"{rule.working_days} working days"
    if rule.extended_working_days is not None:
        days += f" (up to {rule.extended_working_days} working days when conditions are verified)"
    if rule.cutoff is not None:
        days += f"; papers received from {rule.cutoff:%H:%M} count from the next working day"
    return days


def procedure_markdown(p: Procedure) -> str:
    """Return the Markdown section describing one procedure."""
    lines = [
        f"## {p.title} (`{p.code}`)",
        "",
        f"- National code: {p.national_code}; result: {p.result_document}; book: `{p.book_type}`",
        f"- Processing time: {_processing(p)}",
    ]
    if p.event_deadline_days is not None:
        lines.append(
            f"- On time within {p.event_deadline_days} days of `{p.event_date_field}`; "
            "later registrations are flagged late (fee applies)"
        )
    for order in p.date_orders:
        gap = f" by at least {order.min_years} years" if order.min_years else ""
        lines.append(f"- `{order.later}` not before `{order.earlier}`{gap}")
    for age in p.minimum_ages:
        lines.append(f"- `{age.birth_field}`: at least {age.years} years old on registration")
    for req in p.required_when:
        lines.append(f"- `{req.field}` required when `{req.when}` is {', '.join(req.values)}")
    for rule in p.forbidden:
        pairs = " and ".join(f"`{n}` = {v}" for n, v in rule.values)
        lines.append(f"- never {pairs}")
    lines += ["", "| field | label | kind | required | person |", "|---|---|---|---|---|"]
    for section in p.sections:
        lines.append(f"| **{section.title}** | | | | |")
        for f in section.fields:
            required = "yes" if f.required else ""
            lines.append(f"| `{f.name}` | {f.label} | {_kind(f)} | {required} | {f.person or ''} |")
    return "\n".join(lines) + "\n"


def procedures_markdown() -> str:
    """Return the whole document: every declared procedure, in registry order."""
    head = (
        "# Procedures\n\n"
        "Generated from the declarations in `desktop/forms` by "
        "`python -m desktop.forms.describe`; do not edit by hand.\n"
        "Values are stored under `data.<field>` in a dossier record (see architecture.md).\n"
    )
    return head + "".join("\n" + procedure_markdown(p) for p in all_procedures())


if __name__ == "__main__":
    print(procedures_markdown(), end="")
