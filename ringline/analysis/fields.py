"""Analysis field definitions and the check that gives each value its type.

A definition is stored on the agent version as a dict whose `field_type` is
already upper case and whose SELECTOR options are never empty.
"""

import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypedDict

FieldValue = str | bool | int | float

NUMBER_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
TRUE_WORDS = frozenset({"true", "yes"})
FALSE_WORDS = frozenset({"false", "no"})


class FieldDefinition(TypedDict):
    """One analysis field of an agent version, as stored in the database."""

    field_name: str
    field_type: str
    field_description: str | None
    options: list[str] | None


def coerce(definition: Mapping[str, Any], value: object) -> FieldValue | None:
    """Validate one value against its field's type and return it normalised.

    None stays None, because null means the conversation does not tell. Raises
    ValueError naming the field and the expected value for anything else that
    does not fit the type.
    """
    if value is None:
        return None

    name = definition["field_name"]
    field_type = definition["field_type"]
    if field_type == "TEXT":
        return _coerce_text(name, value)
    if field_type == "SELECTOR":
        return _coerce_selector(name, definition.get("options") or [], value)
    if field_type == "BOOLEAN":
        return _coerce_boolean(name, value)
    if field_type == "NUMBER":
        return _coerce_number(name, value)
    if field_type == "DATETIME":
        return _coerce_datetime(name, value)
    raise ValueError(f"field {name!r} has the unknown type {field_type!r}")


def _invalid(name: str, expected: str, value: object) -> ValueError:
    # The value itself stays out of the message because it may hold the
    # callee's personal data and the message reaches the logs.
    return ValueError(f"field {name!r}: expected {expected}, got {_json_type(value)}")


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "an empty string" if not value.strip() else "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _coerce_text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _invalid(name, "a non-empty string", value)
    return value.strip()


def _coerce_selector(name: str, options: list[str], value: object) -> str:
    expected = "one of " + ", ".join(repr(option) for option in options)
    if not isinstance(value, str):
        raise _invalid(name, expected, value)

    requested = value.strip().casefold()
    for option in options:
        if option.casefold() == requested:
            return option
    raise ValueError(f"field {name!r}: expected {expected}, got another string")


def _coerce_boolean(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise _invalid(name, "true or false", value)


def _coerce_number(name: str, value: object) -> int | float:
    expected = "a finite number"
    number: int | float
    if isinstance(value, bool):
        raise _invalid(name, expected, value)
    if isinstance(value, int | float):
        number = value
    elif isinstance(value, str) and NUMBER_TEXT.fullmatch(value.strip()):
        text = value.strip()
        is_integer = text.lstrip("+-").isdigit()
        number = int(text) if is_integer else float(text)
    else:
        raise _invalid(name, expected, value)

    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError(f"field {name!r}: expected {expected}, got NaN or infinity")
    return number


def _coerce_datetime(name: str, value: object) -> str:
    expected = "an ISO 8601 date or date and time"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if not isinstance(value, str):
        raise _invalid(name, expected, value)

    text = value.strip()
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError(
            f"field {name!r}: expected {expected}, got a string in another format"
        ) from None
