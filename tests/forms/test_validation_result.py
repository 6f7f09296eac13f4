"""Tests of the validation result and the exception raised for data with errors."""

from __future__ import annotations

from desktop.forms.validation_result import FieldError, ValidationError, ValidationResult


def test_validation_error_has_english_str_and_keeps_the_errors() -> None:
    errors = (FieldError("tre_ho", "Chưa nhập «Họ»"), FieldError("tre_ten", "Chưa nhập «Tên»"))
    exc = ValidationError(errors)
    assert isinstance(exc, ValueError)
    assert exc.errors == errors
    assert "2 error(s)" in str(exc) and "tre_ho" in str(exc) and "tre_ten" in str(exc)


def test_validation_result_helpers() -> None:
    result = ValidationResult((FieldError("a", "x"),), (), False, {})
    assert not result.ok
    assert result.errors_for("a") == (FieldError("a", "x"),)
    assert result.errors_for("b") == ()
    assert ValidationResult((), (), False, {}).ok
