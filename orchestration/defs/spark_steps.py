"""The runs on the ``spark`` dbt target (``PORTFOLIO_DBT_TARGET=spark``): how the steps differ.

With the ``spark`` target the job builds the same assets in Spark's catalogue
(``PORTFOLIO_SPARK_DIR``; the README section "Apache Spark") instead of a DuckDB candidate:

- landing: the exports are loaded into Spark's ``landing`` database
  (orchestration/landing/spark.py); the months asked for are checked against the export files
  first, so a run asking for a month the exports do not cover changes nothing;
- dbt (both steps): ``dbt build`` on the ``spark`` target, which the profile takes from
  ``PORTFOLIO_DBT_TARGET`` (passed to the dbt subprocess with the rest of the environment);
  every model is built (no kept models) and the data tests still fail the step;
- scoring: each writer of orchestration/scoring/pipeline.py runs on an in-memory DuckDB mirror
  of the Spark tables it reads, and its table goes back to Spark's ``scoring`` database whole;
- publish: there is no candidate to swap. The dbt steps wrote the tables in place, so a failed
  data test leaves the failed build in Spark's tables (the run fails, and gets no row in the
  publish log); a run that succeeds appends its row to Spark's ``audit.publish_log``. The
  Parquet exports are not written (Spark's tables are Parquet files already);
- report: the month-end report reads the DuckDB warehouse: not written on Spark (logged).

Spark's embedded metastore admits one process at a time and stays taken by a process that has
had a session (Derby stays booted in its JVM), while dbt runs as a subprocess of this one: so
the Python steps never start Spark in the Dagster process. Each runs
``python -m orchestration.commands.spark_step`` as a child process (:func:`run_spark_step`),
which exits before the next step starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, OpExecutionContext

from orchestration import settings

#: The module each Spark step runs as a child process.
SPARK_STEP_MODULE = "orchestration.commands.spark_step"
#: Lines of a failed child's output shown in the step's error.
FAILURE_TAIL_LINES = 40


def on_spark() -> bool:
    """Whether the runs build on Spark (``PORTFOLIO_DBT_TARGET=spark``)."""
    return settings.dbt_target() == "spark"


class SparkStepError(RuntimeError):
    """A Spark child process of a step failed."""


def spark_environment() -> dict[str, str]:
    """The environment of a Spark child process or of dbt on the spark target: this one's,
    with the Spark folder absolute (the profile reads it relative to the project root) and
    Spark bound to the loopback interface unless set otherwise."""
    return {
        **os.environ,
        "PORTFOLIO_SPARK_DIR": str(settings.spark_dir()),
        "SPARK_LOCAL_IP": os.environ.get("SPARK_LOCAL_IP") or "127.0.0.1",
    }


def _useful_lines(output: str) -> list[str]:
    """Spark's own log lines (WARN ..., log4j notes) left out."""
    noise = ("WARN ", "Using Spark's default log4j", "To adjust logging level", "Setting default")
    return [line for line in output.splitlines() if line.strip() and not line.startswith(noise)]


def run_spark_step(
    context: AssetExecutionContext | OpExecutionContext, command: str, *args: str
) -> dict[str, Any]:
    """Run ``python -m orchestration.commands.spark_step <command> <args>`` and return the
    JSON it wrote.

    Raises:
        SparkStepError: the child process failed; the message ends with its last lines.
    """
    with tempfile.TemporaryDirectory(prefix="portfolio-spark-step-") as scratch:
        result_path = Path(scratch) / "result.json"
        argv = [sys.executable, "-m", SPARK_STEP_MODULE, command, *args]
        argv += ["--result", str(result_path)]
        started = time.monotonic()
        process = subprocess.run(
            argv,
            cwd=settings.PROJECT_DIR,
            env=spark_environment(),
            capture_output=True,
            text=True,
        )
        seconds = time.monotonic() - started
        if process.returncode != 0 or not result_path.exists():
            lines = _useful_lines(process.stdout + "\n" + process.stderr)
            tail = "\n".join(lines[-FAILURE_TAIL_LINES:])
            raise SparkStepError(
                f"the Spark step `{command}` failed (exit code {process.returncode}) after "
                f"{seconds:.0f} s:\n{tail}"
            )
        context.log.debug(f"Spark step `{command}` took {seconds:.1f} s")
        return json.loads(result_path.read_text())
