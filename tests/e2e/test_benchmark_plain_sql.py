"""The benchmark's plain SQL script computes the same figures as the dbt marts.

``orchestration/benchmark/plain_core_marts.sql`` is the yardstick of ``make bench``: a
hand-written DuckDB script over the landing files. Its figures are only a fair comparison if
they are the marts' figures, so it runs here over the landing folder of the shared generated
portfolio (``demo_build``) and every compared column must agree with the dbt build, row by row
(both ways: no row missing, none extra).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.benchmark.plain import run_plain

pytestmark = pytest.mark.slow

#: (mart, key columns, columns compared exactly, double columns compared to 1e-9).
COMPARED = (
    (
        "customer_concentration",
        ("as_of_month", "customer_id"),
        (
            "customer_name",
            "revenue_ttm",
            "revenue_service_ttm",
            "revenue_mrr_ttm",
            "revenue_project_labor_ttm",
            "revenue_t_and_m_ttm",
            "revenue_block_time_ttm",
            "revenue_product_resale_ttm",
            "revenue_rank",
            "cumulative_revenue_ttm",
            "is_in_pareto_80_head",
        ),
        ("revenue_share", "cumulative_revenue_share", "cumulative_customer_share"),
    ),
    (
        "portfolio_concentration",
        ("as_of_month",),
        ("active_customers", "revenue_ttm", "pareto_80_customer_count"),
        ("hhi", "gini", "top1_share", "top5_share", "top10_share", "pareto_80_customer_share"),
    ),
    (
        "customer_classification",
        ("as_of_month", "customer_id"),
        (
            "revenue_ttm",
            "product_cost_ttm",
            "labor_cost_ttm",
            "cost_ttm",
            "gross_margin_ttm",
            "revenue_rank",
            "is_large",
            "is_high_margin",
            "classification",
        ),
        ("gross_margin_pct", "portfolio_gross_margin_pct"),
    ),
    (
        "customer_offering_matrix",
        ("as_of_month", "customer_id", "offering_id"),
        ("revenue_ttm", "owns_offering", "is_full_package_component"),
        (),
    ),
    (
        "mrr_movements",
        ("as_of_month", "customer_id"),
        ("customer_name", "mrr", "previous_mrr", "mrr_change", "movement", "first_mrr_month"),
        (),
    ),
)


@pytest.fixture(scope="module")
def both(demo_build: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory):
    """One connection with the dbt warehouse as ``dbt`` and the plain script's file as
    ``plain``; and the plain script's row counts."""
    landing, warehouse = demo_build
    plain_file = tmp_path_factory.mktemp("plain_sql") / "plain.duckdb"
    counts = run_plain(landing, plain_file)
    con = duckdb.connect()
    con.execute(f"attach '{warehouse}' as dbt (read_only)")
    con.execute(f"attach '{plain_file}' as plain (read_only)")
    yield con, counts
    con.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


@pytest.mark.parametrize(
    ("mart", "keys", "exact", "approximate"), COMPARED, ids=[compared[0] for compared in COMPARED]
)
def test_plain_sql_matches_the_mart(both, mart, keys, exact, approximate):
    con, counts = both
    columns = ", ".join(
        [*keys, *exact, *(f"round({column}, 9) as {column}" for column in approximate)]
    )
    dbt_rows = _rows(con, f"select count(*) from dbt.marts.{mart}")[0][0]
    # 18 months of 120 customers: a mart with fewer rows than months would prove nothing.
    assert dbt_rows >= 18, f"dbt.marts.{mart} is (almost) empty: the comparison proves nothing"
    assert counts[mart] == dbt_rows
    differences = _rows(
        con,
        f"""
        with dbt_side as (select {columns} from dbt.marts.{mart}),
        plain_side as (select {columns} from plain.marts.{mart})
        select 'only in dbt' as side, * from (from dbt_side except all from plain_side)
        union all
        select 'only in plain', * from (from plain_side except all from dbt_side)
        order by all
        limit 10
        """,
    )
    assert differences == []


def test_totals_per_month_agree(both):
    """Total MRR, TTM revenue and classes per month: the headline figures, side by side."""
    con, _ = both
    sql = """
        select m.as_of_month, m.mrr, c.revenue_ttm, c.a_customers, c.d_customers
        from (
            select as_of_month, sum(mrr) as mrr from {db}.marts.mrr_movements group by 1
        ) as m
        full join (
            select
                as_of_month,
                sum(revenue_ttm) as revenue_ttm,
                count(*) filter (where classification = 'A') as a_customers,
                count(*) filter (where classification = 'D') as d_customers
            from {db}.marts.customer_classification
            group by 1
        ) as c using (as_of_month)
        order by 1
    """
    dbt_totals = _rows(con, sql.format(db="dbt"))
    assert len(dbt_totals) >= 18
    assert any(row[1] for row in dbt_totals) and any(row[3] for row in dbt_totals)
    assert _rows(con, sql.format(db="plain")) == dbt_totals
