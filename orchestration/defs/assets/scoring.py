"""Scoring assets: the Python models of orchestration/scoring, written next to the marts.

Five assets, one table each in the ``scoring`` schema of the run's candidate warehouse (group
``scoring``), downstream of the dbt marts they read; ``churn_risk_drivers`` also comes after
``churn_risk_scores``, whose scores it explains. Each calls a pure function of
``orchestration.scoring.pipeline`` with the candidate's connection and the month to score: the
latest month the run built, i.e. the **last month of the run's partition range**, or the latest
``as_of_month`` of ``marts.portfolio_concentration`` when that is earlier (the data ends before
the month asked for). The models read the marts up to that month only.

The tables keep one snapshot per ``as_of_month``: a run replaces its month's rows and keeps the
others, except a full-refresh run (run config ``full_refresh``, orchestration/defs/assets/dbt.py),
which empties the tables first because the rebuilt marts may have changed history. A month
without marts rows writes no rows and does not fail the run; the metadata's ``note`` says why.
What was fitted and how well (sBG parameters per segment, holdout AUC against the naive
baseline, cross-sell hit rate against popularity) is the materialisation's metadata, with
``as_of_month`` (the month scored), ``partition_month``, ``keep_history``, ``note`` and
``beats_baseline`` where a baseline exists.

On the ``spark`` dbt target (orchestration/defs/spark_steps.py) the same writer runs in a child
process on an in-memory DuckDB mirror of the Spark tables it reads (the asset's marts, its own
scoring table with the months it keeps, and the scoring tables it comes after), and the whole
table goes back to Spark's ``scoring`` database (orchestration/warehouse/spark_mirror.py).

They take ``**CANDIDATE_WRITER`` (monthly partitions, the ``duckdb_writer`` pool, one candidate
writer at a time), so the publish step serves them together with the marts of the same run.
"""

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)
from dagster_dbt import get_asset_key_for_model

from orchestration.defs.assets.dbt import dbt_models
from orchestration.defs.partitions import partition_months
from orchestration.defs.resources import CANDIDATE_WRITER, WarehouseResource
from orchestration.defs.run_config import is_full_refresh
from orchestration.defs.spark_steps import on_spark, run_spark_step
from orchestration.scoring import features, pipeline

SCORING_GROUP = "scoring"
#: The mart that says which months were built (one row per month); every asset reads it.
MONTHS_MART = "portfolio_concentration"


def mart_keys(*models: str) -> list[AssetKey]:
    """Asset keys of dbt models (with their custom schema), from the dbt assets, and of
    :data:`MONTHS_MART`, which every scoring asset reads to choose its month."""
    return [get_asset_key_for_model([dbt_models], model) for model in (*models, MONTHS_MART)]


def scoring_key(table: str) -> AssetKey:
    return AssetKey([pipeline.SCHEMA, table])


def to_metadata(meta: Mapping[str, Any]) -> dict[str, MetadataValue]:
    """Dagster metadata from a writer's dict: scalars as such, nested values as JSON."""
    out: dict[str, MetadataValue] = {}
    for key, value in meta.items():
        if value is None:
            out[key] = MetadataValue.text("n/a")
        elif isinstance(value, bool):
            out[key] = MetadataValue.bool(value)
        elif isinstance(value, int):
            out[key] = MetadataValue.int(value)
        elif isinstance(value, float):
            out[key] = MetadataValue.float(value)
        elif isinstance(value, str):
            out[key] = MetadataValue.text(value)
        else:
            out[key] = MetadataValue.json(value)
    if "row_count" in meta:
        out["dagster/row_count"] = MetadataValue.int(int(meta["row_count"]))
    return out


def _materialize(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    writer: Callable[..., dict[str, Any]],
    reads: Sequence[AssetKey] = (),
    after: Sequence[str] = (),
) -> MaterializeResult:
    _, last = partition_months(context.partition_key_range)
    keep_history = not is_full_refresh(context.run.run_config)
    if on_spark():
        as_of_month, meta = _score_on_spark(context, writer, reads, after, last, keep_history)
    else:
        with warehouse.connect(context) as con:
            # Marts that were built for no month at all: score the partition's month, which
            # then gets no rows and a note.
            as_of_month = features.latest_as_of_month(con, up_to=last) or last
            meta = writer(con, as_of_month, keep_history=keep_history)
    meta = {**meta, "partition_month": last.isoformat(), "keep_history": keep_history}
    message = f"{context.asset_key.to_user_string()}: {meta['row_count']} rows as of "
    message += f"{as_of_month:%Y-%m} (partition {last:%Y-%m})"
    if not keep_history:
        message += ", other months' snapshots removed (full refresh)"
    if meta.get("note"):
        message += f"; {meta['note']}"
    context.log.info(message)
    return MaterializeResult(metadata=to_metadata(meta))


def _score_on_spark(
    context: AssetExecutionContext,
    writer: Callable[..., dict[str, Any]],
    reads: Sequence[AssetKey],
    after: Sequence[str],
    last: date,
    keep_history: bool,
) -> tuple[date, dict[str, Any]]:
    """The writer run on a DuckDB mirror of Spark's tables in a child process
    (orchestration/commands/spark_step.py), its table written back to Spark whole."""
    table = context.asset_key.path[-1]
    args = ["--table", table, "--writer", writer.__name__, "--up-to", f"{last:%Y-%m}"]
    for key in reads:
        args += ["--read", ".".join(key.path)]
    for other in after:
        args += ["--after", other]
    if not keep_history:
        args.append("--full-refresh")
    result = run_spark_step(context, "score", *args)
    context.log.info(
        f"scoring.{table} on Spark: read {len(reads)} marts into a DuckDB mirror, wrote "
        f"{result['rows_written']} rows (every kept month) back to Spark's scoring database"
    )
    return date.fromisoformat(result["as_of_month"]), result["meta"]


def scoring_asset(
    table: str,
    reads: tuple[str, ...],
    description: str,
    writer: Callable[..., dict[str, Any]],
    after: tuple[str, ...] = (),
) -> AssetsDefinition:
    """The asset writing ``scoring.<table>`` with ``writer``, downstream of the marts it reads
    and of the scoring tables named in ``after``."""

    @asset(
        key=scoring_key(table),
        deps=[*mart_keys(*reads), *(scoring_key(other) for other in after)],
        group_name=SCORING_GROUP,
        kinds={"python", "duckdb"},
        description=f"scoring.{table}: {description}",
        **CANDIDATE_WRITER,
    )
    def _scoring_table(
        context: AssetExecutionContext, warehouse: WarehouseResource
    ) -> MaterializeResult:
        return _materialize(context, warehouse, writer, reads=mart_keys(*reads), after=after)

    return _scoring_table


retention_curves = scoring_asset(
    "retention_curves",
    reads=("mrr_movements", "customer_classification"),
    description="sBG survival and retention by tenure month 1..36 per classification segment "
    "(A/B/C/D, all), with the fitted alpha, beta and log-likelihood.",
    writer=pipeline.write_retention_curves,
)

customer_lifetime_value = scoring_asset(
    "customer_lifetime_value",
    reads=("mrr_movements", "customer_classification", "customers"),
    description="per active MRR customer, DERL with its segment's sBG fit times its monthly "
    "gross margin (PORTFOLIO_CLV_ANNUAL_DISCOUNT_RATE).",
    writer=pipeline.write_customer_lifetime_value,
)

churn_risk_scores = scoring_asset(
    "churn_risk_scores",
    reads=("churn_risk_features", "customer_classification", "customers"),
    description="probability of an MRR churn within 3 months per active MRR customer, with "
    "the time-based holdout AUC and the naive baseline's.",
    writer=pipeline.write_churn_risk_scores,
)

churn_risk_drivers = scoring_asset(
    "churn_risk_drivers",
    reads=("churn_risk_features", "customer_classification", "customers"),
    after=("churn_risk_scores",),
    description="the three features that raise each scored customer's churn risk most: "
    "additive contributions to the log-odds (coefficient x standardised value, the SHAP value "
    "of the linear model), with plain-words labels.",
    writer=pipeline.write_churn_risk_drivers,
)

cross_sell_recommendations = scoring_asset(
    "cross_sell_recommendations",
    reads=(
        "customer_offering_matrix",
        "offering_penetration",
        "customer_classification",
        "customers",
    ),
    description="top 3 unowned current offerings per active customer by propensity, expected "
    "revenue = propensity x ARPO; hit rate vs popularity.",
    writer=pipeline.write_cross_sell_recommendations,
)
