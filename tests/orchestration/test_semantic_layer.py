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
    "nrr_12m": RATIO,
    "grr_12m": RATIO,
}

#: retention_summary's own columns; quick ratio (DOMAIN: (new + expansion + reactivation) /
#: (contraction + churned)) is not a column of the mart.
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
        (new_mrr + expansion_mrr + reactivation_mrr)::double
            / nullif((contraction_mrr + churned_mrr)::double, 0) as quick_ratio,
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
