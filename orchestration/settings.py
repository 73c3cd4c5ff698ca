"""Configuration of the Dagster code location, read from environment variables.

Every setting has a default that works from a fresh clone; ``orchestration/README.md`` lists
them. Paths that are relative resolve against the project root (where dbt runs), so the Python
code and the dbt profile agree on which file is meant.

- ``PORTFOLIO_WAREHOUSE``: the served DuckDB file (warehouse/portfolio.duckdb)
- ``PORTFOLIO_LANDING_DIR``: the landing folder (data/landing)
- ``PORTFOLIO_DAGSTER_TARGET_DIR``: dbt manifest and per-run dbt targets (target/dagster)
- ``PORTFOLIO_FIRST_MONTH``: first monthly partition, YYYY-MM (2023-11)
- ``PORTFOLIO_TIMEZONE``: time zone of the partitions and the schedule (UTC)
- ``PORTFOLIO_SCHEDULE_DAY`` / ``_HOUR`` / ``_MINUTE``: month-end run time (3, 6, 0)
- ``PORTFOLIO_SCHEDULE_STATUS``: month-end schedule ``running`` or ``stopped`` (running)
- ``PORTFOLIO_SENSOR_STATUS``: landing sensor ``running`` or ``stopped`` (running)
- ``PORTFOLIO_SENSOR_INTERVAL``: seconds between two looks at the landing folder (60)
- ``PORTFOLIO_SENSOR_SETTLE``: seconds the files must be unchanged before a run (60)
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

#: The repository root: the dbt project directory.
PROJECT_DIR = Path(__file__).resolve().parents[1]

DEFAULT_WAREHOUSE = "warehouse/portfolio.duckdb"
DEFAULT_LANDING_DIR = "data/landing"
DEFAULT_DAGSTER_TARGET_DIR = "target/dagster"
#: First month of the demo data (`make run`: 36 months ending 2026-10).
DEFAULT_FIRST_MONTH = "2023-11"

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])(-01)?")


class SettingError(ValueError):
    """An environment variable holds a value this code location cannot use."""


def project_path(value: str | os.PathLike[str]) -> Path:
    """``value`` as an absolute path; a relative one is taken from the project root."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else PROJECT_DIR / path


def served_warehouse() -> Path:
    """The served warehouse file that BI tools read (``PORTFOLIO_WAREHOUSE``)."""
    return project_path(os.environ.get("PORTFOLIO_WAREHOUSE") or DEFAULT_WAREHOUSE)


def landing_dir() -> Path:
    """The landing folder of the seven export files (``PORTFOLIO_LANDING_DIR``)."""
    return project_path(os.environ.get("PORTFOLIO_LANDING_DIR") or DEFAULT_LANDING_DIR)


def dagster_target_dir() -> Path:
    """Where the manifest Dagster loads and each run's dbt target folders live."""
    return project_path(
        os.environ.get("PORTFOLIO_DAGSTER_TARGET_DIR") or DEFAULT_DAGSTER_TARGET_DIR
    )


def parse_month(text: str, name: str = "month") -> date:
    """A month written ``YYYY-MM`` or ``YYYY-MM-01`` as the date of its first day.

    Raises:
        SettingError: anything else, naming ``name``.
    """
    match = _MONTH.fullmatch(text.strip())
    if not match:
        raise SettingError(f"{name} must be a month as YYYY-MM or YYYY-MM-01, got {text!r}")
    return date(int(match.group(1)), int(match.group(2)), 1)


def first_month() -> date:
    """First monthly partition (``PORTFOLIO_FIRST_MONTH``, default 2023-11)."""
    raw = os.environ.get("PORTFOLIO_FIRST_MONTH") or DEFAULT_FIRST_MONTH
    return parse_month(raw, "PORTFOLIO_FIRST_MONTH")


def timezone() -> str:
    """Time zone of the partition boundaries and of the schedule (``PORTFOLIO_TIMEZONE``)."""
    return os.environ.get("PORTFOLIO_TIMEZONE") or "UTC"


def int_setting(name: str, default: int, low: int, high: int) -> int:
    """An integer environment variable within ``low``..``high`` inclusive."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingError(f"{name} must be between {low} and {high}, got {value}")
    return value


def is_running(name: str, default: bool = True) -> bool:
    """Whether a schedule or sensor starts switched on: ``running`` or ``stopped``."""
    raw = (os.environ.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw not in ("running", "stopped"):
        raise SettingError(f"{name} must be 'running' or 'stopped', got {raw!r}")
    return raw == "running"
