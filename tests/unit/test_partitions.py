"""Partition keys to dbt vars, settings from the environment, landing file fingerprints."""

from datetime import date
from pathlib import Path

import pytest
from dagster import PartitionKeyRange

from orchestration import settings
from orchestration.partitions import (
    dbt_month_vars,
    month_count,
    partition_month,
    partition_months,
)
from orchestration.sensors import LandingFileState, fingerprint, landing_file_states


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


def test_first_month_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORTFOLIO_FIRST_MONTH", raising=False)
    assert settings.first_month() == date(2023, 11, 1)  # the demo data's first month
    monkeypatch.setenv("PORTFOLIO_FIRST_MONTH", "2024-02")
    assert settings.first_month() == date(2024, 2, 1)
    monkeypatch.setenv("PORTFOLIO_FIRST_MONTH", "2024-02-15")
    with pytest.raises(settings.SettingError, match="PORTFOLIO_FIRST_MONTH"):
        settings.first_month()


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
