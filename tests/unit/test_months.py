"""The months of a build come from the data; the month just closed from an injected clock.

Every expected month below is worked out by hand from the dates in the test.
"""

import argparse
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance

from orchestration.commands.run import plan_months
from orchestration.defs.month_end import plan_month_end
from orchestration.defs.partitions import PARTITIONS_NAME, sync_month_partitions
from orchestration.landing.loader import LandingError, landing_data_months
from orchestration.months import (
    DataMonths,
    data_months,
    month_add,
    month_just_closed,
    month_range,
    plausible_event_window,
)


def d(text: str) -> date:
    return date.fromisoformat(text + "-01") if len(text) == 7 else date.fromisoformat(text)


@pytest.mark.parametrize(
    ("now", "timezone", "closed"),
    [
        (datetime(2026, 12, 1, 0, 0, tzinfo=UTC), "UTC", "2026-11"),  # a month's first day
        (datetime(2026, 11, 30, 23, 59, tzinfo=UTC), "UTC", "2026-10"),  # its last minute
        (datetime(2026, 11, 15, 12, 0, tzinfo=UTC), "UTC", "2026-10"),  # mid-month
        (datetime(2027, 1, 1, 0, 0, tzinfo=UTC), "UTC", "2026-12"),  # 1 January
        (datetime(2026, 11, 30, 23, 30, tzinfo=UTC), "Europe/Berlin", "2026-11"),  # 00:30 there
        (datetime(2026, 12, 1, 3, 0, tzinfo=UTC), "America/New_York", "2026-10"),  # 22:00 there
        (datetime(2011, 3, 10), "UTC", "2011-02"),  # naive: UTC
    ],
)
def test_month_just_closed(now: datetime, timezone: str, closed: str) -> None:
    assert month_just_closed(now, timezone) == d(closed)


def test_month_arithmetic_crosses_years() -> None:
    assert month_add(d("2026-11"), 2) == d("2027-01")
    assert month_add(d("2011-01"), -1) == d("2010-12")
    assert month_range(d("2010-11"), d("2011-02")) == [
        d("2010-11"),
        d("2010-12"),
        d("2011-01"),
        d("2011-02"),
    ]
    assert month_range(d("2011-02"), d("2011-01")) == []


def test_data_months_read_the_invoice_dates_as_staging_types_them() -> None:
    with duckdb.connect() as con:
        con.execute(
            "create table lines as select * from (values "
            "('2010-12-01'), (' 2011-12-09 '), ('2011-05-31'), (''), (null), ('not a date'), "
            "('infinity'), ('2011-13-01')) t(invoice_date)"
        )
        months = data_months(con, "lines")
        assert (months.first, months.last, months.invoice_lines, months.last_invoice_date) == (
            d("2010-12"),
            d("2011-12"),
            3,
            date(2011, 12, 9),
        )
        cut = data_months(con, "lines", d("2011-06"))
        assert (cut.last, cut.last_in_data, cut.lines_after_cut_off) == (
            d("2011-06"),
            d("2011-12"),
            1,
        )
        assert len(cut.keys()) == 7 and cut.keys()[0] == "2010-12-01"
        con.execute("delete from lines where invoice_date is not null and invoice_date <> ''")
        assert data_months(con, "lines") is None


def test_landing_data_months_reads_the_export_file(tmp_path: Path) -> None:
    (tmp_path / "invoice_lines.csv").write_text(
        'Invoice_Date,invoice_line_id\n2019-02-28,a\n"2018-07-04",b\n2019-02-01,c,extra\n'
    )
    months = landing_data_months(tmp_path)
    # The malformed third line is set aside, as the loader does.
    assert (months.first, months.last) == (d("2018-07"), d("2019-02"))
    (tmp_path / "invoice_lines.csv").unlink()
    with pytest.raises(LandingError, match="invoice_lines"):
        landing_data_months(tmp_path)


DEMO = DataMonths(first=d("2023-11"), last_in_data=d("2026-10"))


@pytest.mark.parametrize(
    ("data", "expected", "strict", "month", "message"),
    [
        # The exports reach the month just closed: build it.
        (DEMO, "2026-10", True, "2026-10", None),
        (DEMO, "2026-10", False, "2026-10", None),
        # They end a month early: the schedule skips, the sensor builds October and says so.
        (
            DEMO,
            "2026-11",
            True,
            None,
            "month-end 2026-11 not built: the exports end at 2026-10 (last invoice month); "
            "nothing was published",
        ),
        (
            DEMO,
            "2026-11",
            False,
            "2026-10",
            "exports do not reach the month just closed 2026-11: the exports end at 2026-10 "
            "(last invoice month); building 2026-10",
        ),
        # They run past it (a partial current month): the month just closed is built.
        (DEMO, "2025-06", False, "2025-06", None),
        (DEMO, "2025-06", True, "2025-06", None),
        # The month just closed is before the data starts.
        (
            DEMO,
            "2023-09",
            True,
            None,
            "month-end 2023-09 not built: the exports start at 2023-11; nothing was published",
        ),
        (
            DEMO,
            "2023-09",
            False,
            None,
            "no closed month to build: the exports start at 2023-11, after the month just "
            "closed 2023-09",
        ),
        # A cut-off before the month just closed is named.
        (
            DataMonths(d("2023-11"), d("2026-11"), cut_off=d("2026-09")),
            "2026-11",
            True,
            None,
            "month-end 2026-11 not built: the cut-off month is 2026-09 (PORTFOLIO_CUT_OFF_MONTH; "
            "the exports reach 2026-11); nothing was published",
        ),
        (
            DataMonths(d("2023-11"), d("2026-11"), cut_off=d("2022-01")),
            "2026-11",
            False,
            None,
            "the cut-off month 2022-01 is before the first invoice month 2023-11: no month to "
            "build",
        ),
        (None, "2026-11", True, None, "no invoice line in the exports has a usable invoice_date"),
    ],
)
def test_month_end_plan(
    data: DataMonths | None, expected: str, strict: bool, month: str | None, message: str | None
) -> None:
    plan = plan_month_end(data, d(expected), strict=strict)
    assert plan.month == (d(month) if month else None)
    assert plan.message == message


def args(**values: object) -> argparse.Namespace:
    defaults = {"all_months": False, "month": None, "start": None, "end": None}
    return argparse.Namespace(**{**defaults, **values})


def test_the_command_line_builds_months_of_the_data_only() -> None:
    old = DataMonths(d("2010-12"), d("2011-12"))
    # make build on a history that ended years ago, on any day.
    assert plan_months(args(all_months=True), old, d("2026-11")) == (
        d("2010-12"),
        d("2011-12"),
        None,
    )
    # make month without MONTH: the latest month of the data, saying it is not last month.
    first, last, note = plan_months(args(), old, d("2026-11"))
    assert (first, last) == (d("2011-12"), d("2011-12"))
    assert note.startswith("exports do not reach the month just closed 2026-11")
    assert plan_months(args(month="2011-02"), old, d("2026-11"))[:2] == (d("2011-02"),) * 2
    with pytest.raises(SystemExit, match="2012-01 is not a month of the exports"):
        plan_months(args(month="2012-01"), old, d("2026-11"))
    with pytest.raises(SystemExit, match="give --from and --to together"):
        plan_months(args(start="2011-01"), old, d("2026-11"))
    # A full build whose last month is still open says how to leave it out.
    current = DataMonths(d("2025-01"), d("2026-12"))
    note = plan_months(args(all_months=True), current, d("2026-11"))[2]
    assert note == (
        "2026-12 has not ended yet: its figures are partial (set "
        "PORTFOLIO_CUT_OFF_MONTH=2026-11 to leave it out)"
    )
    cut = DataMonths(d("2025-01"), d("2026-12"), cut_off=d("2026-11"))
    assert plan_months(args(all_months=True), cut, d("2026-11")) == (
        d("2025-01"),
        d("2026-11"),
        None,
    )
    with pytest.raises(SystemExit, match="2026-12 is not a month of the exports"):
        plan_months(args(month="2026-12"), cut, d("2026-11"))


def test_partitions_are_exactly_the_data_months_in_order() -> None:
    instance = DagsterInstance.ephemeral()

    def registered() -> list[str]:
        return list(instance.get_dynamic_partitions(PARTITIONS_NAME))

    assert sync_month_partitions(instance, ["2026-09-01", "2026-10-01"])
    assert not sync_month_partitions(instance, ["2026-10-01", "2026-09-01"])  # no change
    assert sync_month_partitions(instance, ["2026-09-01", "2026-10-01", "2026-11-01"])
    assert registered() == ["2026-09-01", "2026-10-01", "2026-11-01"]
    # An older export: registered anew, oldest first, the later months gone.
    assert sync_month_partitions(instance, ["2011-12-01", "2010-12-01", "2011-01-01"])
    assert registered() == ["2010-12-01", "2011-01-01", "2011-12-01"]
    with pytest.raises(ValueError, match="YYYY-MM-01"):
        sync_month_partitions(instance, ["2011-12"])


def test_the_event_window_ends_with_the_month_after_the_export() -> None:
    # Exported 30 Nov 2026: advance billing dated 1 Dec 2026 is plausible, up to 31 Dec 2026.
    assert plausible_event_window(date(2026, 11, 30), 1990) == (
        date(1990, 1, 1),
        date(2026, 12, 31),
    )
    # Exported in December: the window crosses the year, to 31 Jan 2027.
    assert plausible_event_window(date(2026, 12, 1), 1990) == (date(1990, 1, 1), date(2027, 1, 31))
    # Exported 31 Jan 2024 (leap year): to 29 Feb 2024.
    assert plausible_event_window(date(2024, 1, 31), 2000) == (date(2000, 1, 1), date(2024, 2, 29))


def test_data_months_ignore_implausible_invoice_dates() -> None:
    """The same dates base_landing__invoice_lines rejects with date_out_of_range make no month."""
    with duckdb.connect() as con:
        con.execute(
            "create table lines as select * from (values "
            "('2026-03-15'), ('2026-10-31'), ('2026-12-01'), "  # plausible (Dec: advance billing)
            "('2062-05-01'), ('2027-01-01'), "  # after the end of the month after the export
            "('infinity'), ('-infinity'), ('1989-12-31'), "  # not finite; before 1990
            "('1990-01-01')) t(invoice_date)"  # the window's first day
        )
        months = data_months(con, "lines", export_date=date(2026, 11, 30), earliest_year=1990)
        assert (months.first, months.last, months.invoice_lines) == (d("1990-01"), d("2026-12"), 4)
        assert (months.last_invoice_date, months.lines_out_of_range) == (date(2026, 12, 1), 5)
        assert "5 invoice lines out of range ignored" in months.describe()
        # A later earliest year leaves out 1990 too; the months then start in 2026-03.
        later = data_months(con, "lines", export_date=date(2026, 11, 30), earliest_year=2000)
        assert (later.first, later.last, later.lines_out_of_range) == (
            d("2026-03"),
            d("2026-12"),
            6,
        )


def test_an_old_history_keeps_its_months_whatever_the_export_date() -> None:
    """Only the upper bound uses the export date: a 2010-2011 export loaded in 2026 is whole."""
    with duckdb.connect() as con:
        con.execute(
            "create table lines as select * from (values ('2010-12-01'), ('2011-12-09')) "
            "t(invoice_date)"
        )
        months = data_months(con, "lines", export_date=date(2026, 11, 30), earliest_year=1990)
        assert (months.first, months.last, months.lines_out_of_range) == (
            d("2010-12"),
            d("2011-12"),
            0,
        )


def test_data_months_default_to_the_clock_and_the_earliest_year_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with duckdb.connect() as con:
        con.execute(
            "create table lines as select * from (values ('2011-01-10'), ('2011-03-01'), "
            "('2011-04-01')) t(invoice_date)"
        )
        monkeypatch.setenv("PORTFOLIO_CLOCK", "2011-02-15")
        monkeypatch.delenv("PORTFOLIO_EARLIEST_YEAR", raising=False)
        # Export 15 Feb 2011: up to 31 Mar 2011; the April line is out of range.
        months = data_months(con, "lines")
        assert (months.last, months.lines_out_of_range) == (d("2011-03"), 1)
        monkeypatch.setenv("PORTFOLIO_EARLIEST_YEAR", "2012")
        assert data_months(con, "lines") is None


def test_the_python_and_dbt_earliest_years_agree() -> None:
    """PORTFOLIO_EARLIEST_YEAR's default is the dbt var earliest_plausible_year's."""
    import yaml

    from orchestration import settings
    from tests.conftest import PROJECT_DIR

    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    assert project["vars"]["earliest_plausible_year"] == settings.DEFAULT_EARLIEST_YEAR
    assert project["vars"]["latest_plausible_year"] > settings.DEFAULT_EARLIEST_YEAR


def test_a_run_passes_the_earliest_year_to_dbt(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestration.defs.partitions import dbt_month_vars

    monkeypatch.delenv("PORTFOLIO_EARLIEST_YEAR", raising=False)
    assert dbt_month_vars(d("2026-10"), d("2026-10")) == {"as_of_month": "2026-10"}
    assert dbt_month_vars(d("2026-10"), d("2026-10"), earliest_year=2000) == {
        "as_of_month": "2026-10",
        "earliest_plausible_year": "2000",
    }
    monkeypatch.setenv("PORTFOLIO_EARLIEST_YEAR", "2005")
    assert dbt_month_vars(d("2026-10"), d("2026-10"), d("2026-10")) == {
        "as_of_month": "2026-10",
        "cut_off_month": "2026-10",
        "earliest_plausible_year": "2005",
    }
    monkeypatch.setenv("PORTFOLIO_EARLIEST_YEAR", "90")
    from orchestration import settings

    with pytest.raises(settings.SettingError, match="PORTFOLIO_EARLIEST_YEAR"):
        dbt_month_vars(d("2026-10"), d("2026-10"))
