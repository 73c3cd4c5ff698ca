"""Parquet exports of the published marts and scores, for tools that cannot open DuckDB.

Power BI, Excel and most notebooks read Parquet. Each publish writes one Parquet file per
table of the ``marts`` and ``scoring`` schemas of the run's candidate to
``<export dir>/current/<schema>/<table>.parquet`` (``PORTFOLIO_EXPORT_DIR``, by default
``exports/`` next to the served warehouse), with ``run.json`` naming the run, its months and
the row count of every file.

The files are written into a staging folder before the candidate is published; a failure
there fails the run and publishes nothing. After the publish the staging folder replaces
``current`` by two renames (the old folder is renamed away, the new one renamed in, the old
one removed): a reader sees the previous run's complete set or the new one, never a mix, and
``current`` is missing only between the two renames.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from orchestration.warehouse.connection import read_warehouse, sql_string
from orchestration.warehouse.publish import PublishRecord

#: The schemas exported, one folder each.
EXPORTED_SCHEMAS = ("marts", "scoring")
#: The folder of the latest published run's files, inside the export folder.
CURRENT = "current"


@dataclass(frozen=True)
class StagedExports:
    """The files of one run, written and not yet published."""

    folder: Path
    #: Rows per file, keyed ``schema/table``.
    row_counts: dict[str, int]


def _staging(export_dir: Path, run_id: str) -> Path:
    return export_dir / f".staging-{run_id}"


def stage_exports(candidate: Path, export_dir: Path, record: PublishRecord) -> StagedExports:
    """Write every table of :data:`EXPORTED_SCHEMAS` of ``candidate`` as Parquet into the
    run's staging folder under ``export_dir``, with ``run.json``; nothing is published yet.

    Raises:
        duckdb.Error, OSError: a file could not be written; the staging folder is removed.
    """
    folder = _staging(export_dir, record.run_id)
    shutil.rmtree(folder, ignore_errors=True)
    row_counts: dict[str, int] = {}
    try:
        # A run of the landing tables alone exports no table, only its run.json.
        folder.mkdir(parents=True)
        with read_warehouse(candidate) as con:
            placeholders = ", ".join("?" for _ in EXPORTED_SCHEMAS)
            tables = con.execute(
                f"""
                select schema_name, table_name from duckdb_tables()
                where database_name = current_database() and schema_name in ({placeholders})
                order by all
                """,
                list(EXPORTED_SCHEMAS),
            ).fetchall()
            for schema, table in tables:
                path = folder / schema / f"{table}.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                con.execute(
                    f'copy (select * from "{schema}"."{table}") to {sql_string(str(path))} '
                    "(format parquet, compression zstd)"
                )
                (rows,) = con.execute(f'select count(*) from "{schema}"."{table}"').fetchall()[0]
                row_counts[f"{schema}/{table}"] = int(rows)
        (folder / "run.json").write_text(
            json.dumps(
                {
                    "run_id": record.run_id,
                    "first_month": None if record.first_month is None else str(record.first_month),
                    "last_month": None if record.last_month is None else str(record.last_month),
                    "full_refresh": record.full_refresh,
                    "published_at": record.published_at.isoformat(),
                    "row_counts": row_counts,
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return StagedExports(folder=folder, row_counts=row_counts)


def publish_exports(staged: StagedExports, export_dir: Path) -> Path:
    """Make ``staged`` the ``current`` folder of ``export_dir``; returns its path."""
    current = export_dir / CURRENT
    retired = export_dir / f".retired-{staged.folder.name.removeprefix('.staging-')}"
    shutil.rmtree(retired, ignore_errors=True)
    if current.exists():
        current.rename(retired)
    staged.folder.rename(current)
    shutil.rmtree(retired, ignore_errors=True)
    return current


def discard_exports(export_dir: Path, run_id: str) -> None:
    """Remove the run's staging folder, if any (the run failed before publishing)."""
    shutil.rmtree(_staging(export_dir, run_id), ignore_errors=True)
