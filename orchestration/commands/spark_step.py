"""The Spark work of a run's steps on the ``spark`` dbt target, each in a process of its own.

Spark's local metastore is an embedded Derby database that one process opens at a time and
that stays booted in the JVM after its session stops: the Dagster process, which starts the
dbt subprocesses, must never start a Spark session itself. So each Python step that reads or
writes Spark tables runs this module as a child process, which starts a session, does the
step's work, stops it and exits before the next step (orchestration/defs/spark_steps.py). What
the step needs to report goes, as JSON, to the file named by ``--result``.

Command line (what the steps call; also handy by hand)::

    python -m orchestration.commands.spark_step land --landing-dir data/landing \\
        --table invoice_lines ... --result out.json
    python -m orchestration.commands.spark_step score --table retention_curves \\
        --writer write_retention_curves --read marts.mrr_movements ... --up-to 2026-10 \\
        [--full-refresh] --result out.json
    python -m orchestration.commands.spark_step publish-log --run-id ID --job-name portfolio_job \\
        --first 2026-01 --last 2026-10 [--full-refresh] --result out.json

``land`` loads the landing folder with :func:`orchestration.landing.spark.load_landing_to_spark`
and counts the rows of the ``--table`` landing tables in Spark. ``score`` mirrors the ``--read``
tables and the scoring tables into an in-memory DuckDB database
(orchestration/warehouse/spark_mirror.py), runs the scoring writer of ``pipeline`` on it for
the latest month built up to ``--up-to``, and writes the scoring table back to Spark whole.
``publish-log`` appends the run's row to Spark's ``audit.publish_log``, with the row counts of
every table in ``marts`` and ``scoring``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from orchestration import settings


def _json_default(value: object) -> object:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


def _write_result(path: Path, result: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(result, default=_json_default))


def land(args: argparse.Namespace) -> dict[str, Any]:
    """Load the landing folder into Spark; what was loaded and the row counts."""
    from orchestration.landing.contract import LANDING_SCHEMA
    from orchestration.landing.spark import load_landing_to_spark
    from orchestration.warehouse.spark import spark_session

    loads = load_landing_to_spark(args.landing_dir)
    with spark_session() as spark:
        present = sorted(t.name for t in spark.catalog.listTables(LANDING_SCHEMA))
        counts = {
            table: spark.table(f"{LANDING_SCHEMA}.{table}").count()
            for table in args.table
            if table in present
        }
    return {
        "loads": [
            {
                "table": load.table,
                "path": str(load.path) if load.path else None,
                "is_present": load.is_present,
                "note": load.note,
                "reused": load.reused,
                "rows_loaded": load.rows_loaded,
            }
            for load in loads
        ],
        "tables": present,
        "counts": counts,
    }


def score(args: argparse.Namespace) -> dict[str, Any]:
    """Run one scoring writer on a DuckDB mirror of Spark's tables; write its table back."""
    from orchestration.scoring import features, pipeline
    from orchestration.warehouse import spark_mirror
    from orchestration.warehouse.spark import spark_session

    writer = getattr(pipeline, args.writer)
    up_to = settings.parse_month(args.up_to, "--up-to")
    own = f"{pipeline.SCHEMA}.{args.table}"
    scoring_tables = [own, *(f"{pipeline.SCHEMA}.{other}" for other in args.after)]
    types = {f"{pipeline.SCHEMA}.{table}": kinds for table, kinds in pipeline.TABLE_TYPES.items()}
    with spark_session() as spark, spark_mirror.mirror_connection() as con:
        read = spark_mirror.read_tables(spark, con, [*args.read, *scoring_tables], types)
        missing = [name for name in args.read if read[name] is None]
        if missing:
            raise SystemExit(f"error: Spark has no table {', '.join(missing)}: run dbt first")
        as_of_month = features.latest_as_of_month(con, up_to=up_to) or up_to
        meta = writer(con, as_of_month, keep_history=not args.full_refresh)
        written = spark_mirror.write_table(spark, con, own, pipeline.TABLE_TYPES[args.table])
    return {
        "as_of_month": as_of_month.isoformat(),
        "meta": meta,
        "rows_read": read,
        "rows_written": written,
    }


def publish_log(args: argparse.Namespace) -> dict[str, Any]:
    """Append the run's row to Spark's publish log."""
    from orchestration.warehouse import publish, spark_mirror
    from orchestration.warehouse.spark import spark_session

    name = f"{publish.PUBLISH_LOG_SCHEMA}.{publish.PUBLISH_LOG_TABLE}"
    first = settings.parse_month(args.first, "--first") if args.first else None
    last = settings.parse_month(args.last, "--last") if args.last else None
    with spark_session() as spark:
        counts = spark_mirror.count_rows(spark, publish.COUNTED_SCHEMAS)
        fingerprint = spark_mirror.latest_landing_fingerprint(spark)
        published_at = spark_mirror.append_publish_log(
            spark,
            name,
            run_id=args.run_id,
            job_name=args.job_name,
            first_month=first,
            last_month=last,
            full_refresh=args.full_refresh,
            row_counts=counts,
            landing_fingerprint=fingerprint,
        )
    return {
        "table": name,
        "row_counts": counts,
        "published_at": published_at.isoformat(),
        "landing_fingerprint": fingerprint,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.commands.spark_step",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    land_parser = commands.add_parser("land", help="load the landing folder into Spark")
    land_parser.add_argument("--landing-dir", type=Path, required=True)
    land_parser.add_argument("--table", action="append", default=[], help="landing table to count")
    score_parser = commands.add_parser("score", help="one scoring table on a DuckDB mirror")
    score_parser.add_argument("--table", required=True, help="the scoring table written")
    score_parser.add_argument("--writer", required=True, help="its writer in scoring.pipeline")
    score_parser.add_argument(
        "--read", action="append", default=[], help="a table it reads, schema.table"
    )
    score_parser.add_argument(
        "--after", action="append", default=[], help="a scoring table it reads too"
    )
    score_parser.add_argument("--up-to", required=True, help="last month to score, YYYY-MM")
    score_parser.add_argument("--full-refresh", action="store_true", help="drop other months")
    log_parser = commands.add_parser("publish-log", help="append the run to audit.publish_log")
    log_parser.add_argument("--run-id", required=True)
    log_parser.add_argument("--job-name", required=True)
    log_parser.add_argument("--first")
    log_parser.add_argument("--last")
    log_parser.add_argument("--full-refresh", action="store_true")
    for sub in (land_parser, score_parser, log_parser):
        sub.add_argument("--result", type=Path, required=True, help="JSON file of the outcome")
    args = parser.parse_args(argv)
    handlers = {"land": land, "score": score, "publish-log": publish_log}
    _write_result(args.result, handlers[args.command](args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
