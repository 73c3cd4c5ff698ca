"""Configuration of the Dagster code location, read from environment variables.

Every setting has a default that works from a fresh clone; ``orchestration/README.md`` lists
them. Paths that are relative resolve against the project root (where dbt runs), so the Python
code and the dbt profile agree on which file is meant.

- ``PORTFOLIO_WAREHOUSE``: the served DuckDB file (warehouse/portfolio.duckdb)
- ``PORTFOLIO_LANDING_DIR``: the landing folder (data/landing)
- ``PORTFOLIO_DAGSTER_TARGET_DIR``: dbt manifest and per-run dbt targets (target/dagster)
- ``PORTFOLIO_CUT_OFF_MONTH``: last month to build, YYYY-MM (unset: the last invoice month)
- ``PORTFOLIO_EARLIEST_YEAR``: first plausible year of a landing date (1990): earlier dates are
  rejected (``date_out_of_range``) and create no month; passed to dbt as the var
  ``earliest_plausible_year`` when set
- ``PORTFOLIO_TIMEZONE``: time zone of the month-end schedule and of "the month just closed" (UTC)
- ``PORTFOLIO_CLOCK``: an ISO date-time to use as "now" instead of the real clock (unset), for
  tests and for trying the month-end logic as of another day
- ``PORTFOLIO_SCHEDULE_DAY`` / ``_HOUR`` / ``_MINUTE``: month-end run time (3, 6, 0)
- ``PORTFOLIO_SCHEDULE_STATUS``: month-end schedule ``running`` or ``stopped`` (running)
- ``PORTFOLIO_SENSOR_STATUS``: landing sensor ``running`` or ``stopped`` (running)
- ``PORTFOLIO_SENSOR_INTERVAL``: seconds between two looks at the landing folder (60)
- ``PORTFOLIO_SENSOR_SETTLE``: seconds the files must be unchanged before a run (60)
- ``PORTFOLIO_DUCKDB_MEMORY_LIMIT``: DuckDB memory limit of every warehouse connection and of
  the dbt profile (3GB); larger work spills to a temporary folder next to the file
- ``PORTFOLIO_EXPORT_DIR``: where each publish writes the Parquet files of the marts and
  scores (``exports/`` next to the served warehouse); ``off`` writes none
- ``PORTFOLIO_DBT_TARGET``: the dbt target the runs build, ``dev`` (DuckDB, the default) or
  ``spark`` (Apache Spark, README section "Apache Spark")
- ``PORTFOLIO_SPARK_DIR``: the local Spark warehouse, its Parquet tables and metastore
  (warehouse/spark); ``PORTFOLIO_SPARK_MASTER`` (local[2]), ``PORTFOLIO_SPARK_DRIVER_MEMORY``
  (4g) and ``PORTFOLIO_SPARK_SHUFFLE_PARTITIONS`` (4) size the local session
- ``PORTFOLIO_REPORT_DIR``: where the month-end report is written (reports); ``off``: the
  report asset of a run writes none (``python -m orchestration.reports`` still needs a folder)
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: The repository root: the dbt project directory.
PROJECT_DIR = Path(__file__).resolve().parents[1]

DEFAULT_WAREHOUSE = "warehouse/portfolio.duckdb"
DEFAULT_LANDING_DIR = "data/landing"
DEFAULT_DAGSTER_TARGET_DIR = "target/dagster"
#: DuckDB's memory limit: a 100,000-customer build stays under 4 GB of memory (make bench);
#: the same default is in profiles/profiles.yml.
DEFAULT_DUCKDB_MEMORY_LIMIT = "3GB"

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


def export_dir() -> Path | None:
    """The folder of the Parquet exports (``PORTFOLIO_EXPORT_DIR``), or None when ``off``."""
    value = (os.environ.get("PORTFOLIO_EXPORT_DIR") or "").strip()
    if value.lower() == "off":
        return None
    return project_path(value) if value else served_warehouse().parent / "exports"


DEFAULT_REPORT_DIR = "reports"


def report_dir() -> Path | None:
    """The folder of the month-end reports (``PORTFOLIO_REPORT_DIR``), or None when ``off``."""
    value = (os.environ.get("PORTFOLIO_REPORT_DIR") or "").strip()
    if value.lower() == "off":
        return None
    return project_path(value or DEFAULT_REPORT_DIR)


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


def cut_off_month() -> date | None:
    """The last month a build covers, if finance set one (``PORTFOLIO_CUT_OFF_MONTH``).

    Unset or empty: every month up to the last invoice month.
    """
    raw = (os.environ.get("PORTFOLIO_CUT_OFF_MONTH") or "").strip()
    return parse_month(raw, "PORTFOLIO_CUT_OFF_MONTH") if raw else None


#: Default of ``PORTFOLIO_EARLIEST_YEAR``, equal to the dbt var ``earliest_plausible_year``.
DEFAULT_EARLIEST_YEAR = 1990


def earliest_plausible_year() -> int:
    """The first year a landing date may lie in (``PORTFOLIO_EARLIEST_YEAR``, default 1990)."""
    return int_setting("PORTFOLIO_EARLIEST_YEAR", DEFAULT_EARLIEST_YEAR, 1000, 9999)


def earliest_plausible_year_is_set() -> bool:
    """Whether ``PORTFOLIO_EARLIEST_YEAR`` is set (then a run passes it to dbt as a var)."""
    return bool((os.environ.get("PORTFOLIO_EARLIEST_YEAR") or "").strip())


def timezone() -> str:
    """Time zone of the schedule and of "the month just closed" (``PORTFOLIO_TIMEZONE``)."""
    name = os.environ.get("PORTFOLIO_TIMEZONE") or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingError(f"PORTFOLIO_TIMEZONE must be an IANA time zone, got {name!r}") from None
    return name


def now() -> datetime:
    """The current time, timezone-aware: ``PORTFOLIO_CLOCK`` when set, else the real clock.

    ``PORTFOLIO_CLOCK`` takes an ISO date or date-time (``2026-12-05`` or
    ``2026-12-05T10:00:00+01:00``); without an offset it is UTC.
    """
    raw = (os.environ.get("PORTFOLIO_CLOCK") or "").strip()
    if not raw:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise SettingError(
            f"PORTFOLIO_CLOCK must be an ISO date or date-time, got {raw!r}"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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


#: Values of ``PORTFOLIO_LANDING_ENCODING`` and their aliases, each to its canonical name.
LANDING_ENCODINGS = {
    **dict.fromkeys(("auto",), "auto"),
    **dict.fromkeys(("utf-8", "utf8", "utf-8-sig"), "utf-8"),
    **dict.fromkeys(("cp1252", "windows-1252", "win-1252", "1252"), "cp1252"),
    **dict.fromkeys(("latin-1", "latin1", "iso-8859-1", "iso8859-1"), "latin-1"),
}


def landing_encoding(value: str | None = None, name: str = "PORTFOLIO_LANDING_ENCODING") -> str:
    """Text encoding of the landing folder's CSV files (``PORTFOLIO_LANDING_ENCODING``).

    ``auto`` (unset or empty: UTF-8 when the whole file is UTF-8, else Windows-1252),
    ``utf-8``, ``cp1252`` or ``latin-1``; see :mod:`orchestration.landing.encodings`.
    ``value``, when given, is checked instead of the environment variable.

    Raises:
        SettingError: any other value, naming ``name``.
    """
    raw = os.environ.get(name) if value is None else value
    key = (raw or "auto").strip().lower().replace("_", "-")
    if key not in LANDING_ENCODINGS:
        raise SettingError(f"{name} must be one of auto, utf-8, cp1252, latin-1, got {raw!r}")
    return LANDING_ENCODINGS[key]


def duckdb_memory_limit() -> str:
    """DuckDB's memory limit (``PORTFOLIO_DUCKDB_MEMORY_LIMIT``), e.g. ``3GB``."""
    return os.environ.get("PORTFOLIO_DUCKDB_MEMORY_LIMIT") or DEFAULT_DUCKDB_MEMORY_LIMIT


DEFAULT_SPARK_DIR = "warehouse/spark"


def dbt_target() -> str:
    """The dbt target of the runs (``PORTFOLIO_DBT_TARGET``): ``dev`` (DuckDB) or ``spark``."""
    value = (os.environ.get("PORTFOLIO_DBT_TARGET") or "dev").strip()
    if value not in ("dev", "spark"):
        raise SettingError(f"PORTFOLIO_DBT_TARGET must be dev or spark, got {value!r}")
    return value


def spark_dir() -> Path:
    """The local Spark warehouse folder (``PORTFOLIO_SPARK_DIR``)."""
    return project_path(os.environ.get("PORTFOLIO_SPARK_DIR") or DEFAULT_SPARK_DIR)
