"""Spark tables mirrored into an in-memory DuckDB connection, and written back to Spark.

The Python steps of a run on the ``spark`` dbt target (landing aside) are the DuckDB steps run
on a mirror: the tables a step reads are read through Spark's Python API (``spark.table``, as
Arrow) into an in-memory DuckDB database under the same ``schema.table`` names, the unchanged
DuckDB code runs on that connection, and the table it wrote goes back to Spark whole
(:func:`write_table`: overwrite, as a Parquet table). The scoring writers
(orchestration/scoring/pipeline.py) thus keep their one implementation, their snapshot logic
included: the mirror holds the Spark table's kept months, the writer replaces one month in it,
and the whole table, kept months and new month, replaces the Spark table.

Types travel through Arrow: Spark's decimal, date, double, int, bigint, boolean and string are
DuckDB's DECIMAL, DATE, DOUBLE, INTEGER, BIGINT, BOOLEAN and VARCHAR and back; a Spark
timestamp (UTC session) arrives as TIMESTAMP WITH TIME ZONE, so a table given ``column_types``
(DuckDB type names, as ``pipeline.TABLE_TYPES``) is cast to them in the UTC time zone.

No Dagster here, and no scoring import (the package layers): the callers pass the types.
PySpark is needed only by the functions taking a session.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: DuckDB type names (as ``pipeline.TABLE_TYPES`` spells them) to Spark's.
_SPARK_TYPES = {
    "varchar": "string",
    "date": "date",
    "double": "double",
    "integer": "int",
    "bigint": "bigint",
    "boolean": "boolean",
    "timestamp": "timestamp",
}


def mirror_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB database in the UTC time zone (Spark's session time zone)."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    return con


def spark_type(duckdb_type: str) -> str:
    """Spark's name of a DuckDB type name: ``decimal(18, 2)`` is ``decimal(18,2)``."""
    name = duckdb_type.strip().lower()
    if name.startswith("decimal"):
        return name.replace(" ", "")
    if name not in _SPARK_TYPES:
        raise ValueError(f"no Spark type for the DuckDB type {duckdb_type!r}")
    return _SPARK_TYPES[name]


def _split(name: str) -> tuple[str, str]:
    schema, _, table = name.partition(".")
    if not schema or not table:
        raise ValueError(f"expected schema.table, got {name!r}")
    return schema, table


def read_table(
    spark: SparkSession,
    con: duckdb.DuckDBPyConnection,
    name: str,
    column_types: Mapping[str, str] | None = None,
) -> int | None:
    """Copy the Spark table ``name`` (``schema.table``) into ``con`` under the same name.

    With ``column_types`` and the same columns in the same order, the columns get those DuckDB
    types; otherwise (an older version's table) Arrow's. Returns the rows copied, or None when
    Spark has no such table (nothing is created).
    """
    if not spark.catalog.tableExists(name):
        return None
    schema, table = _split(name)
    arrow = spark.table(name).toArrow()
    view = f"_spark_{schema}_{table}"
    con.execute(f'create schema if not exists "{schema}"')
    con.register(view, arrow)
    try:
        if column_types is not None and list(column_types) == arrow.column_names:
            columns = ", ".join(f'"{column}" {kind}' for column, kind in column_types.items())
            select = ", ".join(
                f'cast("{column}" as {kind})' for column, kind in column_types.items()
            )
            con.execute(f'create or replace table "{schema}"."{table}" ({columns})')
            con.execute(f'insert into "{schema}"."{table}" select {select} from {view}')
        else:
            con.execute(f'create or replace table "{schema}"."{table}" as select * from {view}')
    finally:
        con.unregister(view)
    return arrow.num_rows


def read_tables(
    spark: SparkSession,
    con: duckdb.DuckDBPyConnection,
    names: Iterable[str],
    column_types: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, int | None]:
    """:func:`read_table` of each name; ``column_types`` keyed by name. Rows per name."""
    types = column_types or {}
    return {name: read_table(spark, con, name, types.get(name)) for name in names}


def write_table(
    spark: SparkSession,
    con: duckdb.DuckDBPyConnection,
    name: str,
    column_types: Mapping[str, str] | None = None,
) -> int:
    """Replace the Spark table ``name`` by ``con``'s table of that name, every row.

    With ``column_types`` (DuckDB type names), each Spark column gets the matching Spark type.
    The table is a Parquet table of Spark's catalogue, created (and its database) when missing.
    Returns the rows written.
    """
    from pyspark.sql.functions import col

    schema, table = _split(name)
    arrow = con.execute(f'select * from "{schema}"."{table}"').to_arrow_table()
    frame = spark.createDataFrame(arrow)
    if column_types is not None:
        frame = frame.select(
            *(
                col(column).cast(spark_type(kind)).alias(column)
                for column, kind in column_types.items()
            )
        )
    spark.sql(f"create database if not exists {schema}")
    frame.write.mode("overwrite").format("parquet").saveAsTable(name)
    return arrow.num_rows


def count_rows(spark: SparkSession, schemas: Iterable[str]) -> dict[str, int]:
    """Rows of every table in Spark's databases ``schemas``, keyed ``schema.table``, sorted
    (as ``publish.count_rows`` counts a DuckDB file's)."""
    counts: dict[str, int] = {}
    for schema in schemas:
        if not spark.catalog.databaseExists(schema):
            continue
        for table in sorted(t.name for t in spark.catalog.listTables(schema) if not t.isTemporary):
            counts[f"{schema}.{table}"] = spark.table(f"{schema}.{table}").count()
    return dict(sorted(counts.items()))


def latest_landing_fingerprint(spark: SparkSession) -> str | None:
    """The landing fingerprint of the latest load in Spark's ``landing.load_log``, if any."""
    if not spark.catalog.tableExists("landing.load_log"):
        return None
    rows = spark.sql(
        "select landing_fingerprint from landing.load_log order by loaded_at desc limit 1"
    ).collect()
    return rows[0][0] if rows else None


def append_publish_log(
    spark: SparkSession,
    name: str,
    *,
    run_id: str,
    job_name: str,
    first_month: date | None,
    last_month: date | None,
    full_refresh: bool,
    row_counts: Mapping[str, int],
    landing_fingerprint: str | None,
    published_at: datetime | None = None,
) -> datetime:
    """Append one row to the Spark table ``name`` (``audit.publish_log``): the columns of the
    DuckDB warehouse's publish log (``publish.write_publish_log``). Returns ``published_at``.

    Raises RuntimeError when the table did not grow by exactly that row."""
    from pyspark.sql.types import (
        BooleanType,
        DateType,
        LongType,
        MapType,
        StringType,
        StructField,
        StructType,
        TimestampType,
    )

    published = published_at or datetime.now(UTC)
    schema = StructType(
        [
            StructField("run_id", StringType(), False),
            StructField("job_name", StringType(), False),
            StructField("first_month", DateType(), True),
            StructField("last_month", DateType(), True),
            StructField("full_refresh", BooleanType(), False),
            StructField("row_counts", MapType(StringType(), LongType()), False),
            StructField("published_at", TimestampType(), False),
            StructField("landing_fingerprint", StringType(), True),
        ]
    )
    row = (
        run_id,
        job_name,
        first_month,
        last_month,
        full_refresh,
        dict(row_counts),
        published,
        landing_fingerprint,
    )
    frame = spark.createDataFrame([row], schema)
    database, _ = _split(name)
    spark.sql(f"create database if not exists {database}")
    before = spark.table(name).count() if spark.catalog.tableExists(name) else 0
    # Append, never overwrite: append creates a missing table, and an earlier row can never
    # be replaced by a wrong answer about whether the table exists.
    frame.write.mode("append").format("parquet").saveAsTable(name)
    spark.catalog.refreshTable(name)
    after = spark.table(name).count()
    if after != before + 1:
        raise RuntimeError(
            f"{name} held {before} row(s) before this run's row was appended and {after} "
            "after: the publish log must grow by exactly one row"
        )
    return published
