"""The main job: landing, dbt build, Python assets, publish and the month-end report for a
range of months.

``portfolio_job`` selects every asset of the code location (new dbt models and new Python
assets join it by themselves) on the monthly partitions. A run covers one partition (the
schedule, the sensor) or a range (a backfill, ``make build``): one run, one ``dbt build``.
"""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

PORTFOLIO_JOB_NAME = "portfolio_job"

portfolio_job = define_asset_job(
    name=PORTFOLIO_JOB_NAME,
    # Partitioned like its assets (orchestration/defs/partitions.py): the partitioned ones
    # carry MONTHLY_PARTITIONS, and Dagster takes the job's partitions from them; the dbt
    # nodes rebuilt whole by every run are unpartitioned (assets/dbt.py).
    selection=AssetSelection.all(),
    description=(
        "Load landing, dbt build (models and data tests) and Python assets for the run's "
        "as_of_month range into a candidate warehouse, then publish it (write-audit-publish) "
        "and write the month-end report of its last month."
    ),
)
