"""The local Spark session of the ``spark`` target, configured as dbt-spark configures it.

dbt-spark's ``session`` method starts PySpark inside the dbt process with the
``server_side_parameters`` of ``profiles/profiles.yml``; :func:`session_config` is the same
configuration (a unit test renders the profile and compares), so the loader, the scoring
assets and dbt read and write one catalogue: Parquet tables under
``PORTFOLIO_SPARK_DIR/tables``, their metastore in ``PORTFOLIO_SPARK_DIR/metastore``.

The metastore is an embedded Derby database, which one process opens at a time: the loader,
dbt and the scoring steps run one after another, never at once. PySpark is the optional
dependency group ``spark`` (``make setup-spark``); it is imported only when a session starts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from orchestration import settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def session_config() -> dict[str, str]:
    """The Spark configuration of the ``spark`` target, from the environment."""
    spark_dir = settings.spark_dir()
    return {
        "spark.master": os.environ.get("PORTFOLIO_SPARK_MASTER") or "local[2]",
        "spark.driver.memory": os.environ.get("PORTFOLIO_SPARK_DRIVER_MEMORY") or "4g",
        "spark.sql.warehouse.dir": f"{spark_dir}/tables",
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={spark_dir}/metastore;create=true"
        ),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={spark_dir}",
        "spark.sql.shuffle.partitions": (
            os.environ.get("PORTFOLIO_SPARK_SHUFFLE_PARTITIONS") or "4"
        ),
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    }


class SparkUnavailableError(RuntimeError):
    """PySpark is not installed (the optional dependency group ``spark``)."""


def start_session() -> SparkSession:
    """The process's Spark session with :func:`session_config` (started on first use)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:  # pragma: no cover - depends on the installed groups
        raise SparkUnavailableError(
            "the spark target needs PySpark: run `make setup-spark` (uv sync --group spark)"
        ) from error
    settings.spark_dir().mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in session_config().items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


@contextmanager
def spark_session() -> Iterator[SparkSession]:
    """A Spark session for the block, stopped after it so that the metastore is free for the
    next process (dbt, or the next step of a run)."""
    session = start_session()
    try:
        yield session
    finally:
        session.stop()
