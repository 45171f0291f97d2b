"""Query plans of the captured statements, as evidence next to the timings."""

from typing import Any

from capture import Statement


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


async def explain_postgres(connection: Any, statement: Statement) -> str:
    """Return PostgreSQL's EXPLAIN (ANALYZE, BUFFERS): the statement runs once."""
    rows = await connection.fetch(
        "EXPLAIN (ANALYZE, BUFFERS) " + statement.sql, *statement.parameters
    )
    return "\n".join(row[0] for row in rows)


async def explain(kind: str, connection: Any, statement: Statement) -> str:
    if kind == "sqlite":
        return await explain_sqlite(connection, statement)
    return await explain_postgres(connection, statement)
