"""What validating a dossier gives: field errors and warnings, the result, the exception.

``validation.validate`` fills in a :class:`ValidationResult`; the store raises
:class:`ValidationError` when data with errors is saved.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FieldError", "FieldWarning", "ValidationError", "ValidationResult"]


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


class ValidationError(ValueError):
    """Data that cannot be saved; ``errors`` holds one :class:`FieldError` per problem.

    ``str()`` is English (for logs and the CLI); the Vietnamese messages are in ``errors``.
    """

    def __init__(self, errors: tuple[FieldError, ...] | list[FieldError]) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        fields = ", ".join(dict.fromkeys(e.field for e in self.errors)) or "(none)"
        super().__init__(f"invalid dossier data: {len(self.errors)} error(s) in fields: {fields}")
