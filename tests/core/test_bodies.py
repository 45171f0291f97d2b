"""Values that cannot be stored as strict JSON, found with their paths."""

import pytest

from ringline.core.bodies import unstorable_value

CASES = {
    "plain values": ({"a": "text", "b": [1, 2.5, True, None]}, None),
    "64-bit bounds": ({"low": -(2**63), "high": 2**63 - 1}, None),
    "above 64 bits": ({"a": {"b": 2**63}}, "a.b: whole numbers"),
    "below 64 bits": ({"a": -(2**63) - 1}, "a: whole numbers"),
    "NaN in a list": ({"a": [1, float("nan")]}, "a[1]: numbers must be finite"),
    "infinity": ({"a": float("-inf")}, "a: numbers must be finite"),
    "lone surrogate": ({"a": "x\ud800"}, "a: text must be valid Unicode"),
    "surrogate key": ({"\udfff": 1}, "body: text must be valid Unicode"),
    "top-level text": ("\ud800", "body: text must be valid Unicode"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_unstorable_value_named(case: str) -> None:
    value, expected = CASES[case]

    problem = unstorable_value(value)

    if expected is None:
        assert problem is None
    else:
        assert problem is not None
        assert problem.startswith(expected)
