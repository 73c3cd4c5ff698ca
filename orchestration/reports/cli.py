"""Command line of the month-end report.

    python -m orchestration.reports [--month YYYY-MM] [--warehouse PATH] [--output-dir DIR]

Writes ``month_end_YYYY-MM.html`` for ``--month`` (default: the latest as_of_month of the
warehouse) from ``--warehouse`` (default ``$PORTFOLIO_WAREHOUSE``, warehouse/portfolio.duckdb)
into ``--output-dir`` (default ``$PORTFOLIO_REPORT_DIR``, reports/). Exits 2 with a message
when the warehouse file does not exist, is not a built warehouse, or lacks the month.
"""

from __future__ import annotations

import argparse
import sys

from orchestration import settings
from orchestration.reports.queries import ReportError
from orchestration.reports.render import write_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.reports",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--month", help="as_of_month YYYY-MM (default: the latest)")
    parser.add_argument("--warehouse", help="DuckDB warehouse file (default $PORTFOLIO_WAREHOUSE)")
    parser.add_argument(
        "--output-dir", help="folder of the report (default $PORTFOLIO_REPORT_DIR, reports/)"
    )
    args = parser.parse_args(argv)
    try:
        month = settings.parse_month(args.month, "--month") if args.month else None
        warehouse = (
            settings.project_path(args.warehouse) if args.warehouse else settings.served_warehouse()
        )
        output_dir = (
            settings.project_path(args.output_dir) if args.output_dir else settings.report_dir()
        )
        if output_dir is None:
            raise ReportError("PORTFOLIO_REPORT_DIR is off: name a folder with --output-dir")
        report = write_report(
            warehouse, output_dir, month, progress=lambda line: print(line, flush=True)
        )
    except (ReportError, settings.SettingError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(
        f"wrote {report.path} ({report.size / 1e6:.1f} MB, {len(report.sections)} sections) "
        f"in {report.seconds:.1f} s"
    )
    return 0
