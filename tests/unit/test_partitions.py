"""Partition keys to dbt vars, settings from the environment, landing file fingerprints."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from dagster import PartitionKeyRange

from orchestration import settings
from orchestration.defs.partitions import (
    dbt_month_vars,
    month_count,
    partition_month,
    partition_months,
)
from orchestration.landing.loader import LandingFileState, fingerprint, landing_file_states


def test_partition_keys_are_first_of_month_dates() -> None:
    assert partition_month("2026-10-01") == date(2026, 10, 1)
    for bad in (
        "2026-10",
        "2026-10-02",
        "2026-13-01",
        "2026-00-01",
        "26-10-01",
        "2026-10-01'; drop table x; --",
        " 2026-10-01",
        "",
        None,
    ):
        with pytest.raises(ValueError, match="YYYY-MM-01"):
            partition_month(bad)


def test_a_partition_range_is_validated() -> None:
    assert partition_months(PartitionKeyRange("2026-01-01", "2026-03-01")) == (
        date(2026, 1, 1),
        date(2026, 3, 1),
    )
    with pytest.raises(ValueError, match="starts after it ends"):
        partition_months(PartitionKeyRange("2026-03-01", "2026-01-01"))
    with pytest.raises(ValueError):
        partition_months(PartitionKeyRange("2026-01-01", "2026-3-01"))


def test_dbt_vars_name_one_month_or_a_range() -> None:
    assert dbt_month_vars(date(2026, 10, 1), date(2026, 10, 1)) == {"as_of_month": "2026-10"}
    assert dbt_month_vars(date(2025, 11, 1), date(2026, 2, 1)) == {
        "start_month": "2025-11",
        "end_month": "2026-02",
    }
    with pytest.raises(ValueError):
        dbt_month_vars(date(2026, 2, 1), date(2025, 11, 1))


def test_month_count_is_inclusive() -> None:
    assert month_count(date(2023, 11, 1), date(2026, 10, 1)) == 36
    assert month_count(date(2026, 10, 1), date(2026, 10, 1)) == 1


def test_cut_off_and_clock_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORTFOLIO_CUT_OFF_MONTH", raising=False)
    assert settings.cut_off_month() is None
    monkeypatch.setenv("PORTFOLIO_CUT_OFF_MONTH", "2011-09")
    assert settings.cut_off_month() == date(2011, 9, 1)
    monkeypatch.setenv("PORTFOLIO_CUT_OFF_MONTH", "2011-09-15")
    with pytest.raises(settings.SettingError, match="PORTFOLIO_CUT_OFF_MONTH"):
        settings.cut_off_month()
    monkeypatch.setenv("PORTFOLIO_CLOCK", "2027-01-01")
    assert settings.now() == datetime(2027, 1, 1, tzinfo=UTC)
    monkeypatch.setenv("PORTFOLIO_CLOCK", "2026-12-01T00:30:00+01:00")
    assert settings.now().utcoffset() == timedelta(hours=1)
    monkeypatch.setenv("PORTFOLIO_CLOCK", "tomorrow")
    with pytest.raises(settings.SettingError, match="PORTFOLIO_CLOCK"):
        settings.now()
    monkeypatch.delenv("PORTFOLIO_CLOCK")
    assert abs((settings.now() - datetime.now(UTC)).total_seconds()) < 60
    monkeypatch.setenv("PORTFOLIO_TIMEZONE", "Mars/Olympus")
    with pytest.raises(settings.SettingError, match="PORTFOLIO_TIMEZONE"):
        settings.timezone()


def test_dbt_vars_carry_the_cut_off_month() -> None:
    assert dbt_month_vars(date(2011, 9, 1), date(2011, 9, 1), date(2011, 9, 1)) == {
        "as_of_month": "2011-09",
        "cut_off_month": "2011-09",
    }


def test_integer_and_status_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("X_DAY", raising=False)
    assert settings.int_setting("X_DAY", 3, 1, 28) == 3
    monkeypatch.setenv("X_DAY", "28")
    assert settings.int_setting("X_DAY", 3, 1, 28) == 28
    for bad in ("29", "0", "three"):
        monkeypatch.setenv("X_DAY", bad)
        with pytest.raises(settings.SettingError, match="X_DAY"):
            settings.int_setting("X_DAY", 3, 1, 28)
    monkeypatch.setenv("X_STATUS", "Stopped")
    assert settings.is_running("X_STATUS") is False
    monkeypatch.setenv("X_STATUS", "off")
    with pytest.raises(settings.SettingError):
        settings.is_running("X_STATUS")


def test_relative_paths_are_taken_from_the_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTFOLIO_WAREHOUSE", "build/w.duckdb")
    assert settings.served_warehouse() == settings.PROJECT_DIR / "build" / "w.duckdb"
    monkeypatch.setenv("PORTFOLIO_WAREHOUSE", "/srv/w.duckdb")
    assert settings.served_warehouse() == Path("/srv/w.duckdb")


def test_landing_fingerprint_follows_names_sizes_and_times(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text("a\n")
    (tmp_path / "notes.txt").write_text("ignored")
    states = landing_file_states(tmp_path)
    assert [s.name for s in states] == ["customers.csv"]
    assert fingerprint(states) == fingerprint(landing_file_states(tmp_path))
    changed = [LandingFileState(states[0].name, states[0].size + 1, states[0].mtime_ns)]
    assert fingerprint(changed) != fingerprint(states)
    touched = [LandingFileState(states[0].name, states[0].size, states[0].mtime_ns + 1)]
    assert fingerprint(touched) != fingerprint(states)
