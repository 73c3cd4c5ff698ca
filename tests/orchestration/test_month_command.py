"""``make month`` from a terminal, the clock past the data: the latest month, said in a line.

The run selects the landing assets only (the publish step is always added): what is tested
here is which month the command picks, what it prints and that it publishes, not dbt, which
test_run_command.py builds in full. Fixtures ``old_export`` (14 months ending 2012-03) and
``run_command`` are in conftest.py.
"""

from pathlib import Path

import duckdb
import pytest

from tests.orchestration.conftest import run_command

pytestmark = pytest.mark.slow


def test_make_month_on_1_january_builds_the_latest_month_of_the_data(
    tmp_path: Path, old_export: Path
) -> None:
    month = run_command(tmp_path, old_export, "2027-01-01T00:00:00", "--select", "group:landing")
    assert month.returncode == 0, month.stdout + month.stderr
    assert "1 month(s) 2012-03" in month.stdout
    assert (
        "note:      exports do not reach the month just closed 2026-12: the exports end at "
        "2012-03 (last invoice month); building 2012-03"
    ) in month.stdout
    served = tmp_path / "warehouse" / "portfolio.duckdb"
    with duckdb.connect(str(served), read_only=True) as con:
        logged = con.execute(
            "select cast(first_month as varchar), cast(last_month as varchar), full_refresh "
            "from audit.publish_log"
        ).fetchall()
    assert logged == [("2012-03-01", "2012-03-01", False)]


def test_a_month_the_exports_do_not_reach_is_refused_in_one_line(
    tmp_path: Path, old_export: Path
) -> None:
    refused = run_command(tmp_path, old_export, "2012-05-02T00:00:00", "--month", "2012-04")
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "error: 2012-04 is not a month of the exports: invoice months 2011-02..2012-03"
    ]
    assert "run " not in refused.stdout  # no run was created
    assert not (tmp_path / "warehouse" / "portfolio.duckdb").exists()
