"""Spark tables read back for the Spark tests, in a child process.

A Spark session boots the embedded Derby metastore in its JVM, and the metastore stays booted
there until the process ends: the next dbt call or run on the same Spark folder could not open
it. So the test process never starts a session; :func:`read_spark_tables` runs Spark's Python
API in a child process and gets the tables back pickled.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import PROJECT_DIR


@dataclass(frozen=True)
class SparkTable:
    """One Spark table: its columns, their Spark types and every row."""

    columns: list[str]
    dtypes: dict[str, str]
    rows: list[tuple]

    def dicts(self) -> list[dict[str, object]]:
        """The rows as column → value mappings."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


_READER = """
import json, pickle, sys
from orchestration.warehouse.spark import spark_session

wanted, schemas, out = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
tables = {}
with spark_session() as spark:
    names = [tuple(name) for name in wanted]
    for schema in schemas:
        if spark.catalog.databaseExists(schema):
            names += [(schema, t.name) for t in spark.catalog.listTables(schema)]
    for schema, table in names:
        if spark.catalog.tableExists(f"{schema}.{table}"):
            frame = spark.table(f"{schema}.{table}")
            rows = [tuple(row) for row in frame.collect()]
            tables[(schema, table)] = (frame.columns, dict(frame.dtypes), rows)
with open(out, "wb") as handle:
    pickle.dump(tables, handle)
"""


def read_spark_tables(
    spark_dir: Path,
    tables: Iterable[tuple[str, str]] = (),
    schemas: Iterable[str] = (),
) -> dict[tuple[str, str], SparkTable]:
    """Every table of ``tables`` ((schema, table) pairs) and of the databases ``schemas`` that
    exists in the Spark folder ``spark_dir``, keyed (schema, table)."""
    out = spark_dir.parent / f"spark-tables-{os.getpid()}.pickle"
    command = [
        sys.executable,
        "-c",
        _READER,
        json.dumps([list(name) for name in tables]),
        json.dumps(list(schemas)),
        str(out),
    ]
    env = {
        **os.environ,
        "PORTFOLIO_SPARK_DIR": str(spark_dir),
        "SPARK_LOCAL_IP": os.environ.get("SPARK_LOCAL_IP", "127.0.0.1"),
    }
    result = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"reading Spark's tables failed:\n{result.stderr[-5000:]}"
    with out.open("rb") as handle:
        read = pickle.load(handle)
    out.unlink()
    return {name: SparkTable(*value) for name, value in read.items()}
