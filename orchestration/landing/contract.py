"""The landing contract: the one definition of the seven exports the warehouse reads.

Every table, its key, its columns in file order, each column's type, whether a value is
required, its enumeration and whether the file may lack it, and whether the whole file may be
absent. The loader (:mod:`orchestration.landing.loader`), the demo generator
(:mod:`orchestration.demo`) and the tests read it from here; the dbt side declares the same
contract in ``models/staging/landing/_landing__sources.yml`` (column ``meta``), which the base
models validate rows against, and ``tests/unit/test_landing_contract.py`` proves the two agree.

Column types are the staging types: ``text``, ``date``, ``number`` (decimal(18, 4)), ``integer``
and ``boolean``. A ``required`` column must hold a value in every row (else the row is rejected
with ``missing_value``); an ``optional_in_file`` column may be missing from the file and then
reads as empty; ``non_negative`` rejects values below zero; ``values`` is the enumeration a
value must belong to (else ``invalid_value``).

Every ``date`` column has a ``date_window``, the plausible dates outside which a row is rejected
with ``date_out_of_range`` (as are the non-finite dates ``infinity`` and ``-infinity``):

- ``event``: something that has happened by the time of the export (an invoice, work done, a
  notice given): from 1 January of the earliest plausible year (dbt var
  ``earliest_plausible_year``, ``PORTFOLIO_EARLIEST_YEAR``, default 1990) to the last day of the
  month after the export date's month (advance billing dated the 1st of next month is valid).
  The export date is the latest ``loaded_at`` of ``landing.load_log``;
  :func:`orchestration.months.plausible_event_window` is the Python side of the same rule.
- ``contract``: a date a contract may set in the future (an agreement's start, end or
  cancellation, a line's effective or cancelled date, a churn's effective date, a customer's
  created date): from the same earliest year to 31 December of the dbt var
  ``latest_plausible_year`` (default 2199), which still rejects years such as 9999.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Revenue types of offerings and invoice lines, in reporting order. Every type but
#: ``product_resale`` is service revenue.
REVENUE_TYPES: tuple[str, ...] = ("mrr", "project_labor", "t_and_m", "block_time", "product_resale")
#: The revenue types that are service revenue (``revenue_service_ttm``): all but product resale.
SERVICE_REVENUE_TYPES: tuple[str, ...] = tuple(t for t in REVENUE_TYPES if t != "product_resale")
AGREEMENT_TYPES: tuple[str, ...] = ("managed_services", "block_time", "t_and_m", "project")
BILLING_CYCLES: tuple[str, ...] = ("monthly", "quarterly", "annual")
LIFECYCLES: tuple[str, ...] = ("current", "legacy")
CHURN_EVENT_TYPES: tuple[str, ...] = ("full_churn", "offering_cancel", "downgrade")
CHURN_INITIATORS: tuple[str, ...] = ("customer", "provider")

COLUMN_TYPES: tuple[str, ...] = ("text", "date", "number", "integer", "boolean")
#: Plausible-date windows of date columns (see the module docstring).
DATE_WINDOWS: tuple[str, ...] = ("event", "contract")


@dataclass(frozen=True)
class Column:
    """One column of a landing table."""

    name: str
    type: str = "text"
    required: bool = False
    optional_in_file: bool = False
    non_negative: bool = False
    values: tuple[str, ...] | None = None
    #: For a date column: ``event`` or ``contract`` (:data:`DATE_WINDOWS`); None otherwise.
    date_window: str | None = None

    def __post_init__(self) -> None:
        if self.type not in COLUMN_TYPES:
            raise ValueError(f"{self.name}: type {self.type!r} is not one of {COLUMN_TYPES}")
        if (self.type == "date") != (self.date_window is not None) or (
            self.date_window is not None and self.date_window not in DATE_WINDOWS
        ):
            raise ValueError(
                f"{self.name}: a date column needs a date_window, one of {DATE_WINDOWS}, "
                "and only a date column has one"
            )


@dataclass(frozen=True)
class Table:
    """One landing table: one file ``<name>.csv`` or ``<name>.parquet``."""

    name: str
    key: str
    columns: tuple[Column, ...]
    #: What the table's absence leaves empty; ``None`` for a table every build needs.
    absent_means: str | None = None

    @property
    def is_optional(self) -> bool:
        return self.absent_means is not None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")


def _table(name: str, *columns: Column, absent_means: str | None = None) -> Table:
    # The key is the first column: text, never optional.
    return Table(name, columns[0].name, columns, absent_means)


_MRR_TABLE_ABSENT = (
    "leaves empty: marts.mrr_movements, marts.retention_summary, marts.gross_profit_bridge, "
    "marts.customer_cohort_retention, marts.committed_mrr, marts.renewal_calendar, "
    "marts.agreement_profitability (agreement_type_profitability: all unattributed), the MRR "
    "churn rows of marts.churn_events and the MRR-based scoring tables"
)

TABLES: tuple[Table, ...] = (
    _table(
        "customers",
        Column("customer_id"),
        # Every customer column but the key may be missing from the file.
        Column("customer_name", optional_in_file=True),
        Column("industry", optional_in_file=True),
        Column("employee_count", "integer", optional_in_file=True, non_negative=True),
        Column("region", optional_in_file=True),
        Column("account_manager", optional_in_file=True),
        Column("created_date", "date", optional_in_file=True, date_window="contract"),
        Column("tcp_override", "boolean", optional_in_file=True),
    ),
    _table(
        "offerings",
        Column("offering_id"),
        Column("offering_name", optional_in_file=True),
        Column("offering_family", optional_in_file=True),
        Column("revenue_type", required=True, values=REVENUE_TYPES),
        Column("lifecycle", required=True, values=LIFECYCLES),
        Column("is_full_package_component", "boolean", required=True),
        Column("list_price", "number", optional_in_file=True, non_negative=True),
    ),
    _table(
        "agreements",
        Column("agreement_id"),
        Column("customer_id", required=True),
        Column("agreement_type", required=True, values=AGREEMENT_TYPES),
        Column("start_date", "date", required=True, date_window="contract"),
        Column("end_date", "date", optional_in_file=True, date_window="contract"),
        Column("cancelled_date", "date", optional_in_file=True, date_window="contract"),
        absent_means=_MRR_TABLE_ABSENT,
    ),
    _table(
        "agreement_lines",
        Column("agreement_line_id"),
        Column("agreement_id", required=True),
        Column("offering_id", required=True),
        # A negative seat count or price is not a credit here: it would cut MRR.
        Column("quantity", "number", required=True, non_negative=True),
        Column("unit_price", "number", required=True, non_negative=True),
        Column("billing_cycle", required=True, values=BILLING_CYCLES),
        Column("effective_date", "date", required=True, date_window="contract"),
        Column("cancelled_date", "date", optional_in_file=True, date_window="contract"),
        absent_means=_MRR_TABLE_ABSENT,
    ),
    _table(
        "invoice_lines",
        Column("invoice_line_id"),
        Column("invoice_id", optional_in_file=True),
        Column("invoice_date", "date", required=True, date_window="event"),
        Column("customer_id", required=True),
        Column("offering_id", required=True),
        Column("revenue_type", required=True, values=REVENUE_TYPES),
        Column("quantity", "number", optional_in_file=True),
        Column("extended_price", "number", required=True),
        Column("extended_cost", "number", required=True, non_negative=True),
    ),
    _table(
        "time_entries",
        Column("time_entry_id"),
        Column("work_date", "date", required=True, date_window="event"),
        Column("customer_id", required=True),
        Column("offering_id", optional_in_file=True),
        Column("technician_id", optional_in_file=True),
        Column("hours_actual", "number", required=True, non_negative=True),
        Column("loaded_hourly_cost", "number", required=True, non_negative=True),
        absent_means=(
            "no labour cost or hours: cost_ttm and gross margins hold invoice costs only, "
            "and every effective hourly rate is null"
        ),
    ),
    _table(
        "churn_events",
        Column("churn_event_id"),
        Column("customer_id", required=True),
        Column("offering_id", optional_in_file=True),
        Column("event_type", required=True, values=CHURN_EVENT_TYPES),
        Column("notice_date", "date", required=True, date_window="event"),
        Column("effective_date", "date", required=True, date_window="contract"),
        Column("reason_code", optional_in_file=True),
        Column("initiated_by", required=True, values=CHURN_INITIATORS),
        Column("was_flagged_at_risk", "boolean", optional_in_file=True),
        absent_means="marts.churn_events holds only unrecorded MRR churn (reason unknown)",
    ),
)

TABLES_BY_NAME: dict[str, Table] = {table.name: table for table in TABLES}

#: Columns of each landing table, in contract (file) order.
LANDING_TABLES: dict[str, tuple[str, ...]] = {table.name: table.column_names for table in TABLES}

#: Tables a build can run without, with what their absence leaves empty or treats as none.
#: An absent file reads as an empty table.
OPTIONAL_TABLES: dict[str, str] = {
    table.name: table.absent_means for table in TABLES if table.absent_means is not None
}

#: Columns a file may lack; they read as empty. No figure needs them, or an empty value is
#: allowed and has a documented meaning.
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    table.name: tuple(column.name for column in table.columns if column.optional_in_file)
    for table in TABLES
}

#: Schema of the warehouse the landing tables are copied into, as text.
LANDING_SCHEMA = "landing"
#: File formats of a landing file: ``<table>.csv`` (with a header) or ``<table>.parquet``.
FILE_FORMATS: tuple[str, ...] = ("csv", "parquet")


def required_columns(table: str) -> tuple[str, ...]:
    """The columns of ``table`` its file must have."""
    return tuple(
        column.name for column in TABLES_BY_NAME[table].columns if not column.optional_in_file
    )
