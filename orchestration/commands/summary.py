"""Print where the warehouse is and the latest month's headline figures.

Command line::

    python -m orchestration.commands.summary [--warehouse warehouse/portfolio.duckdb]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import duckdb


def latest_summary(con: duckdb.DuckDBPyConnection) -> dict[str, object] | None:
    """Headline figures of the latest as_of_month, or None for an empty warehouse."""
    row = con.execute(
        """
        select
            as_of_month,
            active_customers,
            revenue_ttm,
            hhi,
            top1_share,
            pareto_80_customer_count,
            has_concentration_warning
        from marts.portfolio_concentration
        order by as_of_month desc
        limit 1
        """
    ).fetchone()
    if row is None:
        return None
    keys = (
        "as_of_month",
        "active_customers",
        "revenue_ttm",
        "hhi",
        "top1_share",
        "pareto_80_customer_count",
        "has_concentration_warning",
    )
    summary = dict(zip(keys, row, strict=True))
    (summary["months"],) = con.execute(
        "select count(*) from marts.portfolio_concentration"
    ).fetchone()
    (summary["first_month"],) = con.execute(
        "select min(as_of_month) from marts.portfolio_concentration"
    ).fetchone()
    summary["absent_tables"] = absent_tables(con)
    return summary


def absent_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(table, note) of every optional landing table the last build read as absent."""
    try:
        return con.execute(
            "select source_table, note from audit.data_quality_summary "
            "where outcome = 'file_absent' order by source_table"
        ).fetchall()
    except duckdb.Error:  # a warehouse built before absent tables were reported
        return []


def format_summary(warehouse: Path, summary: dict[str, object] | None) -> str:
    """The summary as the few lines `make run` prints."""
    lines = [f"warehouse: {warehouse.resolve()}"]
    if summary is None:
        lines.append("the warehouse has no months yet")
        return "\n".join(lines)
    hhi = summary["hhi"]
    lines += [
        f"months built:            {summary['months']} "
        f"({summary['first_month']:%Y-%m}..{summary['as_of_month']:%Y-%m})",
        f"latest as_of_month:      {summary['as_of_month']:%Y-%m}",
        f"active customers:        {summary['active_customers']:,}",
        f"TTM revenue:             {summary['revenue_ttm']:,.2f}",
        f"HHI:                     {hhi:,.0f}" if hhi is not None else "HHI:                     -",
        f"customers to reach 80 %: {summary['pareto_80_customer_count']}",
        f"concentration warning:   {'yes' if summary['has_concentration_warning'] else 'no'}",
    ]
    lines += [
        f"absent table:            {table} ({note})" for table, note in summary["absent_tables"]
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.commands.summary", description=__doc__
    )
    parser.add_argument(
        "--warehouse",
        default=os.environ.get("PORTFOLIO_WAREHOUSE", "warehouse/portfolio.duckdb"),
        help="DuckDB warehouse file (env PORTFOLIO_WAREHOUSE)",
    )
    args = parser.parse_args(argv)
    warehouse = Path(args.warehouse)
    if not warehouse.is_file():
        print(f"error: no warehouse at {warehouse}; run `make build` first", file=sys.stderr)
        return 2
    with duckdb.connect(str(warehouse), read_only=True) as con:
        print(format_summary(warehouse, latest_summary(con)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
