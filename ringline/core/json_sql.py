"""SQL expressions that build JSON text in SQLite.

A list page built as one JSON object per row in SQL reaches Python as one string
a row, which the response embeds as it is. Building the same objects in Python
cost about 1 µs a row for the dict alone, and the driver made a Python object of
every column first. They compile for SQLite only: on PostgreSQL, building the
JSON took longer than the Python it saves (see the calls repository).
"""

from typing import Any

from sqlalchemy import ColumnElement, Text
from sqlalchemy.ext.compiler import compiles


class JsonObject(ColumnElement[str]):
    """A JSON object built from (key, expression) pairs, keys in the given order.

    Keys are SQL string literals, so they must be plain names. SQL NULL becomes
    JSON null, and a JsonValue is embedded as JSON rather than as a string.
    """

    inherit_cache = False
    type = Text()

    def __init__(self, fields: list[tuple[str, Any]]) -> None:
        for key, _expression in fields:
            if not key.replace("_", "").isalnum():
                raise ValueError(
                    f"invalid JSON key {key!r}: use letters, digits and '_'"
                )
        self.fields = fields


@compiles(JsonObject, "sqlite")
def _json_object_sqlite(element: JsonObject, compiler: Any, **kw: Any) -> str:
    arguments = ", ".join(
        f"'{key}', {compiler.process(expression, **kw)}"
        for key, expression in element.fields
    )
    return f"json_object({arguments})"


class JsonValue(ColumnElement[str]):
    """A stored JSON document, embedded as JSON. SQL NULL and JSON null give {}."""

    inherit_cache = True
    type = Text()

    def __init__(self, column: Any) -> None:
        self.column = column


@compiles(JsonValue, "sqlite")
def _json_value_sqlite(element: JsonValue, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"json(coalesce(nullif({column}, 'null'), '{{}}'))"
