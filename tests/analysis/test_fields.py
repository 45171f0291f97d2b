from datetime import date, datetime
from typing import Any

import pytest

from ringline.analysis.fields import FieldDefinition, coerce


def definition(
    field_type: str, options: list[str] | None = None, name: str = "answer"
) -> FieldDefinition:
    return {
        "field_name": name,
        "field_type": field_type,
        "field_description": None,
        "options": options,
    }


PLANS = ["Basic", "Premium Plus"]


@pytest.mark.parametrize(
    ("field_type", "value", "expected"),
    [
        ("TEXT", "  Call after six.  ", "Call after six."),
        ("SELECTOR", "Basic", "Basic"),
        ("SELECTOR", " premium plus ", "Premium Plus"),
        ("BOOLEAN", True, True),
        ("BOOLEAN", False, False),
        ("BOOLEAN", "Yes", True),
        ("BOOLEAN", "no", False),
        ("BOOLEAN", " TRUE ", True),
        ("BOOLEAN", "false", False),
        ("NUMBER", 3, 3),
        ("NUMBER", 2.5, 2.5),
        ("NUMBER", "42", 42),
        ("NUMBER", " -7 ", -7),
        ("NUMBER", "3.25", 3.25),
        ("NUMBER", "1e3", 1000.0),
        ("DATETIME", "2025-03-14", "2025-03-14"),
        ("DATETIME", "2025-03-14T10:30:00", "2025-03-14T10:30:00"),
        ("DATETIME", "2025-03-14 10:30", "2025-03-14T10:30:00"),
        ("DATETIME", "2025-03-14T10:30:00Z", "2025-03-14T10:30:00+00:00"),
        ("DATETIME", date(2025, 3, 14), "2025-03-14"),
        ("DATETIME", datetime(2025, 3, 14, 10, 30), "2025-03-14T10:30:00"),
    ],
)
def test_coerce_valid_value(field_type: str, value: object, expected: Any) -> None:
    result = coerce(definition(field_type, PLANS), value)

    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    "field_type", ["TEXT", "SELECTOR", "BOOLEAN", "NUMBER", "DATETIME"]
)
def test_coerce_none_stays_none(field_type: str) -> None:
    result = coerce(definition(field_type, PLANS), None)

    assert result is None


@pytest.mark.parametrize(
    ("field_type", "value", "expected_text"),
    [
        ("TEXT", "", "expected a non-empty string"),
        ("TEXT", "   ", "expected a non-empty string"),
        ("TEXT", 5, "expected a non-empty string"),
        ("SELECTOR", "Gold", "expected one of 'Basic', 'Premium Plus'"),
        ("SELECTOR", "Premium", "expected one of 'Basic', 'Premium Plus'"),
        ("SELECTOR", ["Basic"], "expected one of 'Basic', 'Premium Plus'"),
        ("BOOLEAN", "maybe", "expected true or false"),
        ("BOOLEAN", 1, "expected true or false"),
        ("NUMBER", True, "expected a finite number"),
        ("NUMBER", "twelve", "expected a finite number"),
        ("NUMBER", "1,200", "expected a finite number"),
        ("NUMBER", "nan", "expected a finite number"),
        ("NUMBER", "inf", "expected a finite number"),
        ("NUMBER", float("nan"), "expected a finite number"),
        ("NUMBER", float("-inf"), "expected a finite number"),
        ("NUMBER", [3], "expected a finite number"),
        ("DATETIME", "next Tuesday", "expected an ISO 8601 date or date and time"),
        ("DATETIME", "2025-02-30", "expected an ISO 8601 date or date and time"),
        ("DATETIME", 20250314, "expected an ISO 8601 date or date and time"),
    ],
)
def test_coerce_invalid_value_raises(
    field_type: str, value: object, expected_text: str
) -> None:
    with pytest.raises(ValueError) as raised:
        coerce(definition(field_type, PLANS, name="plan"), value)

    assert "'plan'" in str(raised.value)
    assert expected_text in str(raised.value)


def test_coerce_unknown_type_raises() -> None:
    with pytest.raises(ValueError, match="unknown type 'COLOUR'"):
        coerce(definition("COLOUR"), "red")


def test_coerce_error_omits_value() -> None:
    with pytest.raises(ValueError) as raised:
        coerce(definition("NUMBER"), "+1 555 0100")

    assert "555" not in str(raised.value)
    assert "got a string" in str(raised.value)
