"""Connection settings of every DuckDB file this project writes."""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration import settings

#: The file stays readable by DuckDB 1.4+ (BI tools and the DuckDB CLI). A connect-time
#: option: ``SET`` after connecting does not change the storage version.
DUCKDB_CONFIG = {"storage_compatibility_version": "v1.4.0"}


def sql_string(value: str) -> str:
    """``value`` as a SQL string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether the table or view ``schema.table`` exists in ``con``'s own database."""
    (count,) = con.execute(
        "select count(*) from information_schema.tables "
        "where table_catalog = current_database() and table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return count > 0


def relation_columns(
    con: duckdb.DuckDBPyConnection, schema: str, table: str
) -> list[tuple[str, str]]:
    """(name, type as DuckDB's information_schema spells it) of the columns of
    ``schema.table`` in ``con``'s own database, in order; empty when it does not exist."""
    return con.execute(
        """
        select column_name, data_type
        from information_schema.columns
        where table_catalog = current_database() and table_schema = ? and table_name = ?
        order by ordinal_position
        """,
        [schema, table],
    ).fetchall()


def connect_warehouse(path: Path | str) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) a warehouse file with the project's settings."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {**DUCKDB_CONFIG, "memory_limit": settings.duckdb_memory_limit()}
    return duckdb.connect(str(path), config=config)


def read_warehouse(path: Path | str) -> duckdb.DuckDBPyConnection:
    """Open a warehouse file read-only, within the project's memory limit and without DuckDB's
    progress bar (its output would land in the run's log). Rows need not keep the order they
    were inserted in, which lets large copies stream within the limit."""
    config = {"memory_limit": settings.duckdb_memory_limit(), "preserve_insertion_order": False}
    con = duckdb.connect(str(path), read_only=True, config=config)
    con.execute("set enable_progress_bar = false")
    return con
