"""The MetricFlow semantic layer (models/semantic) against built warehouses, read-only.

The session's two served files (conftest): ``served_demo`` (30 customers, 14 months to 2026-10,
built by the job) and ``served_old`` (25 customers, 14 months to 2012-03, built by the run
command on a clock of December 2026; the time spine comes from the data, whatever the year).
``mf query`` reads them through the profile's ``served`` target (the file attached read-only),
as ``make metrics`` does, each query on the file whose data exercises it
(:data:`QUERY_WAREHOUSE`), and every headline metric at month grain must equal the figure this
module computes with its own SQL from the mart tables: exact for money and counts, within 1e-9
for ratios. Neither file's sha256 may change.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import BIN_DIR, PROJECT_DIR, query
from tests.orchestration.conftest import ServedDemo, ServedOld

#: A closed port as the HTTP(S) proxy: mf asks PyPI for a newer version at every start (no
#: setting turns that off); through it the check fails at once, offline (as in the Makefile).
OFFLINE_PROXY = "http://127.0.0.1:9"

#: The dbt project entries ``mf`` needs in its project folder.
PROJECT_ENTRIES = ("dbt_project.yml", "packages.yml", "macros", "models", "seeds", "dbt_packages")

#: How a figure is compared: money and counts exactly, ratios within 1e-9.
EXACT, RATIO = "exact", "ratio"

MONTHLY_MRR_METRICS = {
    "mrr": EXACT,
    "arr": EXACT,
    "starting_mrr": EXACT,
    "new_mrr": EXACT,
    "expansion_mrr": EXACT,
    "contraction_mrr": EXACT,
    "churned_mrr": EXACT,
    "reactivation_mrr": EXACT,
    "customers_with_mrr": EXACT,
    "starting_customers": EXACT,
    "churned_customers": EXACT,
    "grr": RATIO,
    "nrr": RATIO,
    "logo_churn_rate": RATIO,
    "quick_ratio": RATIO,
    "gross_mrr_churn_rate": RATIO,
    "net_mrr_churn_rate": RATIO,
    "nrr_12m": RATIO,
    "grr_12m": RATIO,
}

#: retention_summary's own columns.
MONTHLY_MRR_SQL = """
    select
        as_of_month,
        ending_mrr as mrr,
        12 * ending_mrr as arr,
        starting_mrr,
        new_mrr,
        expansion_mrr,
        contraction_mrr,
        churned_mrr,
        reactivation_mrr,
        ending_customers as customers_with_mrr,
        starting_customers,
        churned_customers,
        grr,
        nrr,
        logo_churn_rate,
        quick_ratio,
        gross_mrr_churn_rate,
        net_mrr_churn_rate,
        nrr_12m,
        grr_12m
    from marts.retention_summary
"""

MONTHLY_PORTFOLIO_METRICS = {
    "active_customers": EXACT,
    "revenue_ttm": EXACT,
    "hhi": RATIO,
    "top1_share": RATIO,
    "top5_share": RATIO,
    "top10_share": RATIO,
    "gini": RATIO,
    "pareto_80_customer_count": EXACT,
    "pareto_80_customer_share": RATIO,
    "gross_margin_ttm": EXACT,
    "gross_margin_pct": RATIO,
    "whitespace_revenue": EXACT,
    "cross_sell_ratio": RATIO,
    "tcp_and_full_package_share": RATIO,
    "full_package_share": RATIO,
    "avg_offerings_owned": RATIO,
}

MONTHLY_PORTFOLIO_SQL = """
    with classification as (
        select
            as_of_month,
            sum(gross_margin_ttm) as gross_margin_ttm,
            any_value(portfolio_gross_margin_pct) as gross_margin_pct
        from marts.customer_classification
        group by all
    )

    select
        concentration.as_of_month,
        concentration.active_customers,
        concentration.revenue_ttm,
        concentration.hhi,
        concentration.top1_share,
        concentration.top5_share,
        concentration.top10_share,
        concentration.gini,
        concentration.pareto_80_customer_count,
        concentration.pareto_80_customer_share,
        classification.gross_margin_ttm,
        classification.gross_margin_pct,
        cross_sell.whitespace_revenue,
        cross_sell.cross_sell_ratio,
        cross_sell.pct_in_tcp_and_full_package as tcp_and_full_package_share,
        cross_sell.full_package_customers::double
            / nullif(cross_sell.active_customers, 0) as full_package_share,
        cross_sell.avg_offerings_owned
    from marts.portfolio_concentration as concentration
    inner join marts.portfolio_cross_sell as cross_sell using (as_of_month)
    left join classification using (as_of_month)
"""

CLASS_SQL = """
    select as_of_month, classification, count(*) as active_customers
    from marts.customer_classification
    group by all
"""

PENETRATION_METRICS = {
    "offering_owners": EXACT,
    "penetration_rate": RATIO,
    "penetration_rate_tcp": RATIO,
}

PENETRATION_SQL = """
    select
        as_of_month,
        offering_id,
        owning_customers as offering_owners,
        penetration_rate,
        penetration_rate_tcp
    from marts.offering_penetration
"""

CHURN_QUADRANT_SQL = """
    select
        effective_month,
        churn_quadrant,
        sum(mrr_lost) as churn_event_mrr_lost,
        count(*) as churn_event_count
    from marts.churn_events
    group by all
"""

#: By quarter: MRR is the quarter's last month, starting MRR its first month, and the
#: movements are the sums of its months.
QUARTERLY_MRR_SQL = """
    with months as (
        select date_trunc('quarter', as_of_month)::date as quarter, *
        from marts.retention_summary
        where as_of_month in (select as_of_month from marts.mrr_movements)
    )

    select
        quarter,
        arg_max(ending_mrr, as_of_month) as mrr,
        arg_min(starting_mrr, as_of_month) as starting_mrr,
        sum(new_mrr) as new_mrr,
        sum(churned_mrr) as churned_mrr
    from months
    group by all
"""

#: Service economics: rates are ratios of the customers' exact sums (never averages of the
#: customers' own rates), here per month and per class.
PROFITABILITY_METRICS = {
    "labor_hours_ttm": EXACT,
    "labor_cost_ttm": EXACT,
    "product_cost_ttm": EXACT,
    "service_margin_ttm": EXACT,
    "product_resale_margin_ttm": EXACT,
    "effective_hourly_rate": RATIO,
    "service_margin_pct": RATIO,
    "product_resale_margin_pct": RATIO,
}

PROFITABILITY_SQL = """
    select
        profitability.as_of_month,
        {class_column}
        sum(profitability.labor_hours_ttm),
        sum(profitability.labor_cost_ttm),
        sum(profitability.product_cost_ttm),
        sum(profitability.service_margin_ttm),
        sum(profitability.product_resale_margin_ttm),
        sum(profitability.revenue_ttm - profitability.product_cost_ttm)::double
            / nullif(sum(profitability.labor_hours_ttm)::double, 0),
        sum(profitability.service_margin_ttm)::double
            / nullif(sum(profitability.revenue_service_ttm)::double, 0),
        sum(profitability.product_resale_margin_ttm)::double
            / nullif(sum(profitability.revenue_product_resale_ttm)::double, 0)
    from marts.customer_profitability as profitability
    left join marts.customer_classification as classification
        on profitability.as_of_month = classification.as_of_month
        and profitability.customer_id = classification.customer_id
    group by all
"""

#: By agreement type, the agreements' EHR and margin are the type's row of
#: agreement_type_profitability (whose `unattributed` row has no agreement).
AGREEMENT_TYPE_METRICS = {
    "agreement_count": EXACT,
    "agreement_effective_hourly_rate": RATIO,
    "agreement_gross_margin_pct": RATIO,
}

AGREEMENT_TYPE_SQL = """
    select as_of_month, agreement_type, agreements, effective_hourly_rate, gross_margin_pct
    from marts.agreement_type_profitability
    where agreements > 0
"""

GROSS_PROFIT_METRICS = {
    "starting_gross_profit": EXACT,
    "new_gross_profit": EXACT,
    "expansion_gross_profit": EXACT,
    "contraction_gross_profit": EXACT,
    "churned_gross_profit": EXACT,
    "reactivation_gross_profit": EXACT,
    "margin_change_gross_profit": EXACT,
    "ending_gross_profit": EXACT,
    "gross_profit_nrr": RATIO,
    "gross_profit_grr": RATIO,
}

GROSS_PROFIT_SQL = """
    select
        as_of_month,
        starting_gross_profit,
        new_gross_profit,
        expansion_gross_profit,
        contraction_gross_profit,
        churned_gross_profit,
        reactivation_gross_profit,
        margin_change,
        ending_gross_profit,
        gross_profit_nrr,
        gross_profit_grr
    from marts.gross_profit_bridge
"""

COMMITTED_METRICS = {
    "committed_mrr_next_month": EXACT,
    "committed_mrr_in_12_months": EXACT,
    "committed_revenue_next_12_months": EXACT,
}

COMMITTED_SQL = """
    select
        as_of_month,
        sum(case when months_ahead = 1 then committed_mrr end),
        sum(case when months_ahead = 12 then committed_mrr end),
        sum(committed_mrr)
    from marts.committed_mrr
    group by all
"""

COHORT_METRICS = {
    "cohort_customers": EXACT,
    "cohort_retained_customers": EXACT,
    "cohort_logo_retention": RATIO,
    "cohort_net_revenue_retention": RATIO,
}

COHORT_SQL = """
    select
        cohort_month,
        months_since_start,
        segment_type,
        segment,
        cohort_customers,
        retained_customers,
        logo_retention,
        net_revenue_retention
    from marts.customer_cohort_retention
"""

COHORT_DIMENSIONS = [
    "metric_time__month",
    "cohort_cell__months_since_start",
    "cohort_cell__segment_type",
    "cohort_cell__segment",
]

#: By quarter, the new snapshots take the quarter's last month (starting gross profit its first),
#: and the gross-profit movements sum its months.
QUARTERLY_NEW_METRICS = {
    "starting_gross_profit": EXACT,
    "new_gross_profit": EXACT,
    "ending_gross_profit": EXACT,
    "committed_mrr_next_month": EXACT,
    "labor_hours_ttm": EXACT,
    "effective_hourly_rate": RATIO,
}

QUARTERLY_NEW_SQL = """
    with gross_profit as (
        select
            date_trunc('quarter', as_of_month)::date as quarter,
            arg_min(starting_gross_profit, as_of_month) as starting_gross_profit,
            sum(new_gross_profit) as new_gross_profit,
            arg_max(ending_gross_profit, as_of_month) as ending_gross_profit
        from marts.gross_profit_bridge
        group by all
    ),

    committed as (
        select
            date_trunc('quarter', as_of_month)::date as quarter,
            arg_max(committed_mrr, as_of_month) as committed_mrr_next_month
        from marts.committed_mrr
        where months_ahead = 1
        group by all
    ),

    profitability_by_month as (
        select
            as_of_month,
            sum(labor_hours_ttm) as labor_hours_ttm,
            sum(revenue_ttm - product_cost_ttm)::double
                / nullif(sum(labor_hours_ttm)::double, 0) as effective_hourly_rate
        from marts.customer_profitability
        group by all
    ),

    profitability as (
        select
            date_trunc('quarter', as_of_month)::date as quarter,
            arg_max(labor_hours_ttm, as_of_month) as labor_hours_ttm,
            arg_max(effective_hourly_rate, as_of_month) as effective_hourly_rate
        from profitability_by_month
        group by all
    )

    select
        quarter,
        gross_profit.starting_gross_profit,
        gross_profit.new_gross_profit,
        gross_profit.ending_gross_profit,
        committed.committed_mrr_next_month,
        profitability.labor_hours_ttm,
        profitability.effective_hourly_rate
    from gross_profit
    full join committed using (quarter)
    full join profitability using (quarter)
"""

QUERIES = {
    "monthly": (
        [*MONTHLY_MRR_METRICS, *MONTHLY_PORTFOLIO_METRICS],
        ["metric_time__month"],
    ),
    "class": (["active_customers"], ["metric_time__month", "customer_month__classification"]),
    "penetration": (
        list(PENETRATION_METRICS),
        ["metric_time__month", "offering_month__offering_id"],
    ),
    "churn_quadrant": (
        ["churn_event_mrr_lost", "churn_event_count"],
        ["metric_time__month", "churn_event__churn_quadrant"],
    ),
    "quarterly": (["mrr", "starting_mrr", "new_mrr", "churned_mrr"], ["metric_time__quarter"]),
    "profitability": (list(PROFITABILITY_METRICS), ["metric_time__month"]),
    "profitability_class": (
        list(PROFITABILITY_METRICS),
        ["metric_time__month", "customer_month__classification"],
    ),
    "agreement_type": (
        list(AGREEMENT_TYPE_METRICS),
        ["metric_time__month", "agreement_month__agreement_type"],
    ),
    "gross_profit": (list(GROSS_PROFIT_METRICS), ["metric_time__month"]),
    "committed": (list(COMMITTED_METRICS), ["metric_time__month"]),
    "cohort": (list(COHORT_METRICS), COHORT_DIMENSIONS),
    "cohort_whole": (
        ["cohort_logo_retention", "cohort_net_revenue_retention"],
        ["metric_time__month", "cohort_cell__months_since_start"],
    ),
    "quarterly_new": (list(QUARTERLY_NEW_METRICS), ["metric_time__quarter"]),
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


#: The session's warehouse each query reads: the export ending 2012-03 (``served_old``) has
#: every MRR movement, reactivation included; the demo (``served_demo``) has recorded churn
#: events in several churn quadrants, which the old export (no churn_events file) lacks.
QUERY_WAREHOUSE = {
    "monthly": "old",
    "class": "old",
    "penetration": "demo",
    "churn_quadrant": "demo",
    "quarterly": "old",
    # Labour hours need time entries, which the old export lacks.
    "profitability": "demo",
    "profitability_class": "demo",
    "agreement_type": "demo",
    "gross_profit": "demo",
    "committed": "demo",
    "cohort": "demo",
    "cohort_whole": "demo",
    "quarterly_new": "demo",
}


@pytest.fixture(scope="module")
def warehouses(served_demo: ServedDemo, served_old: ServedOld) -> dict[str, Path]:
    """The session's two served files (read only), by the names of :data:`QUERY_WAREHOUSE`."""
    assert served_old.returncode == 0, served_old.stdout
    return {"demo": served_demo.warehouse, "old": served_old.warehouse}


@pytest.fixture(scope="module")
def mf_project(tmp_path_factory: pytest.TempPathFactory, warehouses: dict[str, Path]) -> Path:
    """A project folder for ``mf``, which reads ``<project>/target/semantic_manifest.json``:
    the project's dbt files and a ``target/`` of ``dbt parse --target served``, as
    ``make metrics`` parses (the relations are in database ``portfolio``, the name under which
    the ``served`` target attaches the file)."""
    folder = tmp_path_factory.mktemp("mf-project")
    for name in PROJECT_ENTRIES:
        if (PROJECT_DIR / name).exists():
            (folder / name).symlink_to(PROJECT_DIR / name)
    parsed = subprocess.run(
        [str(BIN_DIR / "dbt"), "parse", "--quiet", "--target", "served"]
        + ["--target-path", str(folder / "target"), "--log-path", str(folder / "logs")],
        cwd=folder,
        env=mf_environment(folder, warehouses["demo"]),
        capture_output=True,
        text=True,
    )
    assert parsed.returncode == 0, f"dbt parse failed:\n{parsed.stdout}\n{parsed.stderr}"
    manifest = json.loads((folder / "target" / "semantic_manifest.json").read_text())
    relations = [model["node_relation"]["relation_name"] for model in manifest["semantic_models"]]
    assert relations and all(name.startswith('"portfolio".') for name in relations), relations
    return folder


def mf_environment(project: Path, warehouse: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DBT_PROJECT_DIR": str(project),
        "DBT_PROFILES_DIR": str(PROJECT_DIR / "profiles"),
        "PORTFOLIO_WAREHOUSE": str(warehouse),
        "PORTFOLIO_DBT_TARGET": "served",
        "DO_NOT_TRACK": "1",
        "HTTPS_PROXY": OFFLINE_PROXY,
        "HTTP_PROXY": OFFLINE_PROXY,
        "NO_PROXY": "",
    }


def mf_query(
    project: Path, warehouse: Path, name: str, metrics: list[str], group_by: list[str]
) -> list[dict[str, str]]:
    """Rows of ``mf query`` as dicts of strings (empty for null), read from its CSV file."""
    output = project / f"{name}.csv"
    command = [str(BIN_DIR / "mf"), "query", "--quiet", "--csv", str(output)]
    command += ["--metrics", ",".join(metrics), "--group-by", ",".join(group_by)]
    result = subprocess.run(
        command, cwd=project, env=mf_environment(project, warehouse), capture_output=True, text=True
    )
    assert result.returncode == 0 and output.exists(), f"mf query failed:\n{result.stdout}"
    with output.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def mf_results(mf_project: Path, warehouses: dict[str, Path]) -> dict[str, object]:
    """Every query of :data:`QUERIES` on its warehouse, and the warehouses' sha256 before and
    after them."""
    before = {name: sha256(path) for name, path in warehouses.items()}
    # Two at a time: each call spends most of its time starting dbt and MetricFlow.
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            name: pool.submit(
                mf_query, mf_project, warehouses[QUERY_WAREHOUSE[name]], name, metrics, group_by
            )
            for name, (metrics, group_by) in QUERIES.items()
        }
        results: dict[str, object] = {name: future.result() for name, future in futures.items()}
    results["sha256"] = (before, {name: sha256(path) for name, path in warehouses.items()})
    return results


def mf_value(text: str) -> Decimal | None:
    return None if text == "" else Decimal(text)


def month_of(text: str) -> date:
    return date.fromisoformat(text[:10])


def by_key(rows: list[tuple], width: int) -> dict[tuple, tuple]:
    return {tuple(row[:width]): row[width:] for row in rows}


def assert_figures_equal(
    mf_rows: dict[tuple, dict[str, str]],
    expected: dict[tuple, tuple],
    figures: dict[str, str],
) -> None:
    """Every key of either side: mf's figure equals the mart's (a key mf has no row for must
    have only zeros and nulls in the marts)."""
    assert mf_rows, "mf returned no row"
    mismatches = []
    for key in sorted(set(mf_rows) | set(expected), key=str):
        row = mf_rows.get(key, {})
        wanted = expected.get(key, (None,) * len(figures))
        for (name, kind), want in zip(figures.items(), wanted, strict=True):
            got = mf_value(row.get(name, ""))
            if want is None or got is None:
                ok = (want or 0) == (got or 0) if kind == EXACT else want is got is None
            elif kind == EXACT:
                ok = got == Decimal(str(want))
            else:
                ok = math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=1e-9)
            if not ok:
                mismatches.append(f"{key} {name}: mf {got}, marts {want}")
    assert not mismatches, "\n".join(mismatches[:20])


def test_mf_query_leaves_the_warehouse_file_unchanged(mf_results: dict[str, object]) -> None:
    before, after = mf_results["sha256"]
    assert after == before


@pytest.mark.parametrize("built", ["demo", "old"])
def test_time_spine_holds_the_months_of_the_data(
    built: str, served_demo: ServedDemo, served_old: ServedOld
) -> None:
    warehouse, last = {
        "demo": (served_demo.warehouse, date(2026, 10, 1)),
        # Built on a clock of December 2026: the spine still ends with the data.
        "old": (served_old.warehouse, date(2012, 3, 1)),
    }[built]
    spine = query(warehouse, "select month_start from utilities.metricflow_time_spine order by 1")
    months = query(warehouse, "select as_of_month from marts.retention_summary order by 1")
    # Every month of the MRR history, one after the other, to the data's last month (not
    # today's, nor the build's clock's).
    assert spine == months
    assert spine[-1] == (last,)
    index = [month.year * 12 + month.month for (month,) in spine]
    assert index == list(range(index[0], index[0] + len(index)))


def test_mrr_bridge_and_retention_by_month(
    warehouses: dict[str, Path], mf_results: dict[str, object]
) -> None:
    warehouse = warehouses[QUERY_WAREHOUSE["monthly"]]
    mf_rows = {(month_of(row["metric_time__month"]),): row for row in mf_results["monthly"]}
    expected = by_key(query(warehouse, MONTHLY_MRR_SQL), 1)
    # The data exercises every movement and both retention windows.
    totals = query(
        warehouse,
        "select sum(expansion_mrr), sum(contraction_mrr), sum(churned_mrr), "
        "sum(reactivation_mrr), count(nrr_12m) from marts.retention_summary",
    )[0]
    assert all(totals), totals
    assert_figures_equal(mf_rows, expected, MONTHLY_MRR_METRICS)


def test_concentration_classification_and_cross_sell_by_month(
    warehouses: dict[str, Path], mf_results: dict[str, object]
) -> None:
    warehouse = warehouses[QUERY_WAREHOUSE["monthly"]]
    mf_rows = {(month_of(row["metric_time__month"]),): row for row in mf_results["monthly"]}
    expected = by_key(query(warehouse, MONTHLY_PORTFOLIO_SQL), 1)
    assert_figures_equal(mf_rows, expected, MONTHLY_PORTFOLIO_METRICS)


def test_customers_per_class_by_month(
    warehouses: dict[str, Path], mf_results: dict[str, object]
) -> None:
    warehouse = warehouses[QUERY_WAREHOUSE["class"]]
    mf_rows = {
        (month_of(row["metric_time__month"]), row["customer_month__classification"]): row
        for row in mf_results["class"]
    }
    expected = by_key(query(warehouse, CLASS_SQL), 2)
    assert {key[1] for key in expected} == {"A", "B", "C", "D"}
    assert_figures_equal(mf_rows, expected, {"active_customers": EXACT})


def test_penetration_per_offering_by_month(
    warehouses: dict[str, Path], mf_results: dict[str, object]
) -> None:
    warehouse = warehouses[QUERY_WAREHOUSE["penetration"]]
    mf_rows = {
        (month_of(row["metric_time__month"]), row["offering_month__offering_id"]): row
        for row in mf_results["penetration"]
    }
    expected = by_key(query(warehouse, PENETRATION_SQL), 2)
    assert_figures_equal(mf_rows, expected, PENETRATION_METRICS)


def test_churned_mrr_per_churn_quadrant_by_month(
    warehouses: dict[str, Path], mf_results: dict[str, object]
) -> None:
    warehouse = warehouses[QUERY_WAREHOUSE["churn_quadrant"]]
    mf_rows = {
        (month_of(row["metric_time__month"]), row["churn_event__churn_quadrant"]): row
        for row in mf_results["churn_quadrant"]
    }
    expected = by_key(query(warehouse, CHURN_QUADRANT_SQL), 2)
    assert len({key[1] for key in expected}) >= 3
    assert_figures_equal(
        mf_rows, expected, {"churn_event_mrr_lost": EXACT, "churn_event_count": EXACT}
    )


def test_mrr_is_semi_additive_by_quarter(
    warehouses: dict[str, Path], mf_results: dict[str, object]
) -> None:
    warehouse = warehouses[QUERY_WAREHOUSE["quarterly"]]
    mf_rows = {(month_of(row["metric_time__quarter"]),): row for row in mf_results["quarterly"]}
    expected = by_key(query(warehouse, QUARTERLY_MRR_SQL), 1)
    assert_figures_equal(
        mf_rows,
        expected,
        {"mrr": EXACT, "starting_mrr": EXACT, "new_mrr": EXACT, "churned_mrr": EXACT},
    )


def test_service_economics_by_month_and_class(
    warehouses: dict[str, Path], mf_results: dict[str, object]
) -> None:
    warehouse = warehouses[QUERY_WAREHOUSE["profitability"]]
    by_month = {(month_of(row["metric_time__month"]),): row for row in mf_results["profitability"]}
    expected = by_key(query(warehouse, PROFITABILITY_SQL.format(class_column="")), 1)
    # The demo has labour hours, product resale and a service margin in every month.
    assert expected and all(figures[0] and figures[5] for figures in expected.values())
    assert_figures_equal(by_month, expected, PROFITABILITY_METRICS)
    by_class = {
        (month_of(row["metric_time__month"]), row["customer_month__classification"]): row
        for row in mf_results["profitability_class"]
    }
    expected = by_key(
        query(warehouse, PROFITABILITY_SQL.format(class_column="classification.classification,")),
        2,
    )
    assert {key[1] for key in expected} == {"A", "B", "C", "D"}
    assert_figures_equal(by_class, expected, PROFITABILITY_METRICS)


def test_the_effective_hourly_rate_is_not_an_average_of_the_customers_rates(
    warehouses: dict[str, Path], mf_results: dict[str, object]
) -> None:
    warehouse = warehouses[QUERY_WAREHOUSE["profitability"]]
    averages = dict(
        query(
            warehouse,
            "select as_of_month, avg(effective_hourly_rate) "
            "from marts.customer_profitability group by all",
        )
    )
    shown = {
        month_of(row["metric_time__month"]): float(row["effective_hourly_rate"])
        for row in mf_results["profitability"]
        if row["effective_hourly_rate"]
    }
    assert shown and any(
        not math.isclose(rate, averages[month], rel_tol=1e-6) for month, rate in shown.items()
    )


def test_agreement_economics_by_agreement_type(
    warehouses: dict[str, Path], mf_results: dict[str, object]
) -> None:
    warehouse = warehouses[QUERY_WAREHOUSE["agreement_type"]]
    mf_rows = {
        (month_of(row["metric_time__month"]), row["agreement_month__agreement_type"]): row
        for row in mf_results["agreement_type"]
    }
    expected = by_key(query(warehouse, AGREEMENT_TYPE_SQL), 2)
    assert len({key[1] for key in expected}) >= 3
    assert_figures_equal(mf_rows, expected, AGREEMENT_TYPE_METRICS)


def test_gross_profit_bridge_and_retention_by_month(
    warehouses: dict[str, Path], mf_results: dict[str, object]
) -> None:
    warehouse = warehouses[QUERY_WAREHOUSE["gross_profit"]]
    mf_rows = {(month_of(row["metric_time__month"]),): row for row in mf_results["gross_profit"]}
    expected = by_key(query(warehouse, GROSS_PROFIT_SQL), 1)
    assert any(figures[-2] is not None for figures in expected.values())
    assert_figures_equal(mf_rows, expected, GROSS_PROFIT_METRICS)


def test_committed_mrr_next_month_and_in_twelve_months(
    warehouses: dict[str, Path], mf_results: dict[str, object]
) -> None:
    warehouse = warehouses[QUERY_WAREHOUSE["committed"]]
    mf_rows = {(month_of(row["metric_time__month"]),): row for row in mf_results["committed"]}
    expected = by_key(query(warehouse, COMMITTED_SQL), 1)
    assert any(figures[0] for figures in expected.values())
    assert_figures_equal(mf_rows, expected, COMMITTED_METRICS)


def test_cohort_retention_by_cohort_month_and_segment(
    warehouses: dict[str, Path], mf_results: dict[str, object]
) -> None:
    warehouse = warehouses[QUERY_WAREHOUSE["cohort"]]
    mf_rows = {
        (
            month_of(row["metric_time__month"]),
            int(row["cohort_cell__months_since_start"]),
            row["cohort_cell__segment_type"],
            row["cohort_cell__segment"],
        ): row
        for row in mf_results["cohort"]
    }
    rows = query(warehouse, COHORT_SQL)
    expected = by_key(rows, 4)
    assert {key[2] for key in expected} >= {"all"} and len({key[2] for key in expected}) > 1
    assert_figures_equal(mf_rows, expected, COHORT_METRICS)
    # Not grouped by segment, the rates are those of the whole cohort (segment all): every
    # segment type splits the cohort whole.
    whole = {
        (month_of(row["metric_time__month"]), int(row["cohort_cell__months_since_start"])): row
        for row in mf_results["cohort_whole"]
    }
    expected = {key[:2]: figures[2:] for key, figures in expected.items() if key[2] == "all"}
    assert_figures_equal(
        whole,
        expected,
        {"cohort_logo_retention": RATIO, "cohort_net_revenue_retention": RATIO},
    )


def test_the_new_snapshots_are_semi_additive_by_quarter(
    warehouses: dict[str, Path], mf_results: dict[str, object]
) -> None:
    warehouse = warehouses[QUERY_WAREHOUSE["quarterly_new"]]
    mf_rows = {(month_of(row["metric_time__quarter"]),): row for row in mf_results["quarterly_new"]}
    expected = by_key(query(warehouse, QUARTERLY_NEW_SQL), 1)
    assert len(expected) >= 4
    assert_figures_equal(mf_rows, expected, QUARTERLY_NEW_METRICS)
