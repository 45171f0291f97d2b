"""Phone number validation and E.164 normalization with the phonenumbers library."""

import re

import phonenumbers

SEPARATORS = re.compile(r"[\s().-]")
EXAMPLE = "+14155550123"


class PhoneNumberError(ValueError):
    """A phone number is malformed; the message explains why and shows an example."""


def normalize_phone_number(field: str, raw: str) -> str:
    """Return the E.164 form of a number given as `+`, country code and number.

    Spaces, dashes, dots and parentheses are removed first. Only the length for
    the country code is checked: whether a possible number is assigned is the
    carrier's business.
    """
    value = SEPARATORS.sub("", raw)
    if not value.startswith("+"):
        raise PhoneNumberError(
            f"{field} must start with + and the country code, for example "
            f"{EXAMPLE} (got {raw[:30]!r})"
        )
    if not value[1:].isascii() or not value[1:].isdigit():
        raise PhoneNumberError(
            f"{field} must have only the digits 0-9 after the +, with no letters "
            f"or extension, for example {EXAMPLE} (got {raw[:30]!r})"
        )
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise PhoneNumberError(
            f"{field} is not a possible number for its country code, expected "
            f"for example {EXAMPLE} (got {raw[:30]!r})"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
