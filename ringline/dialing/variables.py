"""Dynamic variables: `{{name}}` in the welcome message and prompt."""

import re
from collections.abc import Mapping

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
SPACES = re.compile(r"[ \t]{2,}")
SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([,.!?;:])")


def fill_variables(text: str, *sources: Mapping[str, object]) -> str:
    """Replace each placeholder by the first source that has a value for it.

    A variable with no value anywhere is dropped, never spoken as braces, and the
    spaces around it are tidied.
    """

    def value_of(match: re.Match[str]) -> str:
        name = match.group(1)
        for source in sources:
            value = source.get(name)
            if value is not None and value != "":
                return _spoken(value)
        return ""

    filled = PLACEHOLDER.sub(value_of, text)
    filled = SPACE_BEFORE_PUNCTUATION.sub(r"\1", SPACES.sub(" ", filled))
    return filled.strip()


def _spoken(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
