"""Opaque identifiers: a type prefix and a random part from [0-9a-z]."""

import re
import secrets
import string

ALPHABET = string.digits + string.ascii_lowercase
RANDOM_LENGTH = 20
KEY_ID_LENGTH = 14

# Path and filter ids are checked against this before they reach the database.
ID_PATTERN = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


def random_string(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_id(prefix: str) -> str:
    return f"{prefix}_{random_string(RANDOM_LENGTH)}"


def new_key_id() -> str:
    return random_string(KEY_ID_LENGTH)


def is_valid_id(value: str) -> bool:
    return ID_PATTERN.fullmatch(value) is not None


def is_generated_id(value: str, prefix: str) -> bool:
    """Return whether value has the form Ringline generates: prefix_ and 16+ chars."""
    return re.fullmatch(rf"{prefix}_[0-9a-z]{{16,58}}", value) is not None
