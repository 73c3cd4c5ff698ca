"""Descriptions of the tables the run writes itself, as DuckDB comments.

dbt writes the comments of its models (``persist_docs``). The tables Python writes (the
publish log, the models' recorded inputs) carry theirs from here, so a SQL client or BI tool
shows a definition next to every audit column, whoever wrote the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import duckdb

from orchestration.warehouse.connection import sql_string


@dataclass(frozen=True)
class TableDescription:
    """A table's description and one per column, in the table's column order."""

    table: str
    columns: Mapping[str, str]


def comment_on(
    con: duckdb.DuckDBPyConnection, relation: str, description: TableDescription
) -> None:
    """Set the comments of ``relation`` (``schema.table``) and of its described columns.

    Raises:
        ValueError: a described column is not a column of the table (the description and the
            table's definition drifted apart).
    """
    schema, table = relation.split(".")
    existing = {
        name
        for (name,) in con.execute(
            """
            select column_name from duckdb_columns()
            where database_name = current_database() and schema_name = ? and table_name = ?
            """,
            [schema, table],
        ).fetchall()
    }
    unknown = sorted(set(description.columns) - existing)
    if unknown:
        raise ValueError(f"{relation} has no column {', '.join(unknown)} to describe")
    con.execute(f"comment on table {relation} is {sql_string(description.table)}")
    for column, text in description.columns.items():
        con.execute(f'comment on column {relation}."{column}" is {sql_string(text)}')
