"""Checks on JSON request bodies that field validation does not make.

Python's JSON parser accepts a few values that cannot be stored and sent back as
strict JSON. They are a lone UTF-16 surrogate escape such as \\ud800, a whole
number beyond 64 bits, and NaN or Infinity (numbers like 1e400 overflow to it).
Such a value would be stored, then fail or turn into invalid JSON on every read
that returns it.
"""

import math
from typing import Any

INT64_LIMIT = 2**63


def unstorable_value(value: Any, path: str = "") -> str | None:
    """Return a message naming the first value under path that cannot be
    stored as strict JSON, or None when every value can."""
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if not _is_text(key):
                return f"{path or 'body'}: {_TEXT_MESSAGE} (in a key)"
            problem = unstorable_value(item, inner)
            if problem is not None:
                return problem
        return None
    if isinstance(value, list):
        for index, item in enumerate(value):
            problem = unstorable_value(item, f"{path}[{index}]")
            if problem is not None:
                return problem
        return None
    return _scalar_problem(value, path or "body")


_TEXT_MESSAGE = (
    "text must be valid Unicode; a lone surrogate escape such as \\ud800 is not"
)


def _scalar_problem(value: Any, path: str) -> str | None:
    if isinstance(value, str) and not _is_text(value):
        return f"{path}: {_TEXT_MESSAGE}"
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and not -INT64_LIMIT <= value < INT64_LIMIT:
        return f"{path}: whole numbers must be from -2^63 to 2^63-1"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{path}: numbers must be finite; NaN and Infinity are not JSON"
    return None


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
