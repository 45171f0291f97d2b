"""Query plans of the captured statements, as evidence next to the timings."""

from datetime import datetime
from typing import Any

from capture import Statement

GENERIC_PLAN_STATEMENT = "bench_generic_plan"


async def explain_sqlite(connection: Any, statement: Statement) -> str:
    """Return SQLite's EXPLAIN QUERY PLAN as an indented tree."""
    rows = await connection.execute_fetchall(
        "EXPLAIN QUERY PLAN " + statement.sql, statement.parameters
    )
    depth = {0: -1}
    lines = []
    for node_id, parent, _unused, detail in rows:
        depth[node_id] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node_id] + detail)
    return "\n".join(lines)


def postgres_literal(value: Any) -> str:
    """Return value as a PostgreSQL literal, for the few types the list binds."""
    if isinstance(value, bool) or value is None:
        return "NULL" if value is None else str(value).upper()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'::timestamptz"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no PostgreSQL literal for {type(value).__name__} {value!r}")


async def explain_postgres_custom(connection: Any, statement: Statement) -> str:
    rows = await connection.fetch(
        "EXPLAIN (ANALYZE, BUFFERS) " + statement.sql, *statement.parameters
    )
    return "\n".join(row[0] for row in rows)


async def explain_postgres_generic(connection: Any, statement: Statement) -> str:
    """Explain the generic plan, which PostgreSQL builds without the values.

    Bound parameters of EXPLAIN are substituted before planning, so the
    statement is prepared in SQL and executed with literal values instead.
    """
    arguments = ", ".join(postgres_literal(value) for value in statement.parameters)
    async with connection.transaction():
        await connection.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        await connection.execute(f"PREPARE {GENERIC_PLAN_STATEMENT} AS {statement.sql}")
        try:
            rows = await connection.fetch(
                f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE "
                f"{GENERIC_PLAN_STATEMENT}({arguments})"
            )
        finally:
            await connection.execute(f"DEALLOCATE {GENERIC_PLAN_STATEMENT}")
    return "\n".join(row[0] for row in rows)


async def explain_postgres(connection: Any, statement: Statement) -> str:
    """Return EXPLAIN (ANALYZE, BUFFERS) of the custom and of the generic plan.

    Both run the statement. PostgreSQL plans a prepared statement with its
    values (custom) for the first five executions, and may then switch to the
    generic plan. asyncpg, which ringline and the floor use, prepares every
    statement.
    """
    custom = await explain_postgres_custom(connection, statement)
    generic = await explain_postgres_generic(connection, statement)
    return f"-- custom plan\n{custom}\n\n-- generic plan\n{generic}"


async def explain(kind: str, connection: Any, statement: Statement) -> str:
    if kind == "sqlite":
        return await explain_sqlite(connection, statement)
    return await explain_postgres(connection, statement)
