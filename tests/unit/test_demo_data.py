"""Tests for the demo landing-data generator (orchestration.demo)."""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.demo import generator as demo_data
from orchestration.demo import writers
from orchestration.demo.catalogue import KNOWN_REASON_CODES, TARGET_INDUSTRIES
from orchestration.landing.contract import LANDING_TABLES, LIFECYCLES, REVENUE_TYPES, TABLES

CUSTOMERS = 120
MONTHS = 24
END_MONTH = "2026-10"
WINDOW_START = date(2024, 11, 1)
WINDOW_END = date(2026, 10, 31)

# The landing contract: tables, columns in file order and their types.
CONTRACT: dict[str, list[str]] = {table: list(columns) for table, columns in LANDING_TABLES.items()}
SQL_TYPES = {
    "text": "VARCHAR",
    "date": "DATE",
    "integer": "BIGINT",
    "boolean": "BOOLEAN",
    "money": "DECIMAL(18,2)",
    "decimal": "DECIMAL(18,2)",
}


def _of_kind(table: str, kind: str) -> list[str]:
    """Columns of ``table`` of a contract type, or for numbers of the demo's ``money`` or
    ``decimal``."""
    return [name for name, k in writers.COLUMN_KINDS[table] if k == kind]


def _generate(folder: Path, file_format: str = "csv", **kwargs) -> dict[str, int]:
    args = {"customers": CUSTOMERS, "months": MONTHS, "end_month": END_MONTH, "seed": 42}
    args.update(kwargs)
    return demo_data.generate(folder, file_format=file_format, progress=False, **args)


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("landing")
    return folder, _generate(folder)


@pytest.fixture(scope="module")
def con(landing: tuple[Path, dict[str, int]]) -> duckdb.DuckDBPyConnection:
    """The CSV files as typed DuckDB views (types from the contract, not sniffed), and a view
    ``months`` of the window's months (their first days)."""
    folder, _ = landing
    connection = duckdb.connect()
    for table, kinds in writers.COLUMN_KINDS.items():
        types = {column: SQL_TYPES[kind] for column, kind in kinds}
        spec = ", ".join(f"'{c}': '{t}'" for c, t in types.items())
        connection.execute(
            f"create view {table} as select * from read_csv("
            f"'{folder / (table + '.csv')}', header = true, columns = {{{spec}}})"
        )
    connection.execute(
        "create view months as select unnest(generate_series("
        f"date '{WINDOW_START}', date '{WINDOW_END.replace(day=1)}', interval 1 month))::date "
        "as month"
    )
    return connection


def _one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# ---- files ----------------------------------------------------------------------------------


def test_same_arguments_give_byte_identical_files(tmp_path: Path, landing) -> None:
    folder, _ = landing
    _generate(tmp_path)
    for table in CONTRACT:
        assert (tmp_path / f"{table}.csv").read_bytes() == (folder / f"{table}.csv").read_bytes()


def test_output_does_not_depend_on_chunk_size(tmp_path: Path, landing, monkeypatch) -> None:
    folder, _ = landing
    monkeypatch.setattr(demo_data, "CHUNK_SIZE", 7)
    _generate(tmp_path)
    for table in CONTRACT:
        assert (tmp_path / f"{table}.csv").read_bytes() == (folder / f"{table}.csv").read_bytes()


def test_another_seed_gives_other_data(tmp_path: Path, landing) -> None:
    folder, _ = landing
    _generate(tmp_path, seed=43)
    assert (tmp_path / "invoice_lines.csv").read_bytes() != (
        folder / "invoice_lines.csv"
    ).read_bytes()


def test_headers_are_exactly_the_contract(landing) -> None:
    folder, _ = landing
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{t}.csv" for t in CONTRACT)
    for table, columns in CONTRACT.items():
        with (folder / f"{table}.csv").open(newline="", encoding="utf-8") as f:
            assert next(csv.reader(f)) == columns, table


def test_returned_counts_match_the_files(landing) -> None:
    folder, counts = landing
    assert set(counts) == set(CONTRACT)
    for table in CONTRACT:
        assert counts[table] == len(_read_csv(folder / f"{table}.csv")), table
    assert counts["customers"] == CUSTOMERS
    assert min(counts.values()) > 0


def test_value_formats(landing) -> None:
    folder, _ = landing
    money = re.compile(r"-?\d+\.\d{2}")
    decimal = re.compile(r"-?\d+(\.\d{1,2})?")
    iso_date = re.compile(r"\d{4}-\d{2}-\d{2}")
    for table in CONTRACT:
        rows = _read_csv(folder / f"{table}.csv")
        for row in rows:
            for c in _of_kind(table, "money"):
                assert row[c] == "" or money.fullmatch(row[c]), (table, c, row[c])
            for c in _of_kind(table, "decimal"):
                assert decimal.fullmatch(row[c]), (table, c, row[c])
            for c in _of_kind(table, "boolean"):
                assert row[c] in ("true", "false", ""), (table, c, row[c])
            for c in _of_kind(table, "date"):
                assert row[c] == "" or iso_date.fullmatch(row[c]), (table, c, row[c])


def test_generate_replaces_only_its_own_files(tmp_path: Path, capsys) -> None:
    (tmp_path / "customers.csv").write_text("stale\n")
    (tmp_path / "README.txt").write_text("keep me\n")
    counts = demo_data.generate(tmp_path / "new", customers=3, months=6, progress=True)
    assert "customers 3/3" in capsys.readouterr().err
    demo_data.generate(tmp_path, customers=3, months=6, file_format="parquet", progress=False)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(["README.txt", "new"] + [f"{t}.parquet" for t in CONTRACT])
    assert counts["customers"] == 3


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        demo_data.generate(tmp_path, end_month="2026-13", progress=False)
    with pytest.raises(ValueError, match="file_format"):
        demo_data.generate(tmp_path, file_format="xlsx", progress=False)


def test_command_line_writes_the_folder_and_prints_the_counts(tmp_path: Path, capsys) -> None:
    args = ["--customers", "3", "--months", "6", "--output", str(tmp_path), "--quiet"]
    assert demo_data.main([*args, "--format", "parquet"]) == 0
    out = capsys.readouterr()
    assert out.err == ""
    assert out.out.splitlines()[0] == "customers: 3"
    assert [line.split(":")[0] for line in out.out.splitlines()] == list(CONTRACT)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{t}.parquet" for t in CONTRACT)
    with pytest.raises(SystemExit):
        demo_data.main([*args, "--end-month", "2026-13"])
    assert "YYYY-MM" in capsys.readouterr().err


def test_parquet_has_the_same_rows_as_csv(tmp_path: Path, landing, con) -> None:
    _, counts = landing
    parquet_counts = _generate(tmp_path, file_format="parquet")
    assert parquet_counts == counts
    for table, columns in CONTRACT.items():
        path = tmp_path / f"{table}.parquet"
        relation = duckdb.sql(f"select * from read_parquet('{path}')")
        assert relation.columns == columns
        assert relation.count("*").fetchone()[0] == counts[table]
        differing = _one(
            con, f"select count(*) from (from read_parquet('{path}') except all from {table})"
        )
        assert differing == 0, table
    money_type = duckdb.sql(
        f"select typeof(extended_price) from read_parquet('{tmp_path / 'invoice_lines.parquet'}')"
    ).fetchone()[0]
    assert money_type == "DECIMAL(18,2)"


# ---- keys, references, enumerations -----------------------------------------------------------


def test_keys_are_unique_and_well_formed(con) -> None:
    keys = {
        "customers": ("customer_id", r"C\d{5}"),
        "offerings": ("offering_id", r"OFF-[A-Z0-9-]+"),
        "agreements": ("agreement_id", r"AGR-\d{5}-\d{2}"),
        "agreement_lines": ("agreement_line_id", r"AGL-\d{5}-\d{3}"),
        "invoice_lines": ("invoice_line_id", r"INV-\d{6}-\d{5}-\d{3}"),
        "time_entries": ("time_entry_id", r"TE-\d{5}-\d{6}"),
        "churn_events": ("churn_event_id", r"CHE-\d{5}-\d{2}"),
    }
    for table, (key, pattern) in keys.items():
        total, distinct, bad = con.execute(
            f"select count(*), count(distinct {key}), "
            f"count(*) filter (where not regexp_full_match({key}, '{pattern}')) from {table}"
        ).fetchone()
        assert total == distinct and bad == 0, table
    assert _one(con, "select max(customer_id) from customers") == f"C{CUSTOMERS:05d}"


def test_referential_integrity(con) -> None:
    orphans = {
        "agreements.customer_id": "select customer_id from agreements "
        "except select customer_id from customers",
        "agreement_lines.agreement_id": "select agreement_id from agreement_lines "
        "except select agreement_id from agreements",
        "agreement_lines.offering_id": "select offering_id from agreement_lines "
        "except select offering_id from offerings",
        "invoice_lines.customer_id": "select customer_id from invoice_lines "
        "except select customer_id from customers",
        "invoice_lines.offering_id": "select offering_id from invoice_lines "
        "except select offering_id from offerings",
        "time_entries.customer_id": "select customer_id from time_entries "
        "except select customer_id from customers",
        "time_entries.offering_id": "select offering_id from time_entries "
        "where offering_id is not null except select offering_id from offerings",
        "churn_events.customer_id": "select customer_id from churn_events "
        "except select customer_id from customers",
        "churn_events.offering_id": "select offering_id from churn_events "
        "where offering_id is not null except select offering_id from offerings",
    }
    for name, sql in orphans.items():
        assert con.execute(sql).fetchall() == [], name
    # An invoice belongs to one customer and one date; its lines carry the offering's type.
    assert (
        _one(
            con,
            "select count(*) from (select invoice_id from invoice_lines group by invoice_id "
            "having count(distinct customer_id) > 1 or count(distinct invoice_date) > 1)",
        )
        == 0
    )
    assert (
        _one(
            con,
            "select count(*) from invoice_lines i join offerings o using (offering_id) "
            "where i.revenue_type <> o.revenue_type",
        )
        == 0
    )


def test_number_kinds_cover_exactly_the_contracts_number_columns() -> None:
    numbers = {(t.name, c.name) for t in TABLES for c in t.columns if c.type == "number"}
    assert set(writers.NUMBER_KINDS) == numbers
    assert set(writers.NUMBER_KINDS.values()) == {"money", "decimal"}


def test_enumerations(con) -> None:
    allowed = {
        (table.name, column.name): set(column.values)
        for table in TABLES
        for column in table.columns
        if column.values is not None
    }
    assert len(allowed) == 7
    for (table, column), values in allowed.items():
        found = {r[0] for r in con.execute(f"select distinct {column} from {table}").fetchall()}
        assert found <= values, (table, column, found - values)
    # The catalogue covers every revenue type and lifecycle, with a full package of several.
    catalogue = con.execute(
        "select revenue_type, lifecycle, is_full_package_component from offerings"
    ).fetchall()
    assert {r[0] for r in catalogue} == set(REVENUE_TYPES)
    assert {r[1] for r in catalogue} == set(LIFECYCLES)
    full_package = [r for r in catalogue if r[2]]
    assert len(full_package) >= 4
    assert all(r[0] == "mrr" and r[1] == "current" for r in full_package)
    assert 15 <= len(catalogue) <= 20


def test_numbers_are_in_range(con) -> None:
    assert _one(con, "select count(*) from time_entries where hours_actual <= 0") == 0
    low, high = con.execute(
        "select min(loaded_hourly_cost), max(loaded_hourly_cost) from time_entries"
    ).fetchone()
    assert low >= 45 and high <= 85
    assert _one(con, "select count(*) from invoice_lines where extended_cost < 0") == 0
    assert _one(con, "select count(*) from agreement_lines where quantity <= 0") == 0
    # Hardware resale is sold at 80-90 % cost.
    ratio = _one(
        con,
        "select sum(extended_cost) / sum(extended_price) from invoice_lines "
        "where offering_id like 'OFF-HW-%'",
    )
    assert 0.8 <= ratio <= 0.9


# ---- dates --------------------------------------------------------------------------------------


def test_invoices_time_and_events_fall_inside_the_window(con) -> None:
    checks = [
        ("invoice_lines", "invoice_date"),
        ("time_entries", "work_date"),
        ("churn_events", "notice_date"),
        ("churn_events", "effective_date"),
    ]
    for table, column in checks:
        low, high = con.execute(f"select min({column}), max({column}) from {table}").fetchone()
        assert low >= WINDOW_START and high <= WINDOW_END, (table, column)
    assert _one(con, "select count(*) from churn_events where notice_date > effective_date") == 0
    # Only long-standing customers' agreements start before the window; none after it.
    assert _one(con, "select max(start_date) from agreements") <= WINDOW_END
    assert _one(con, "select count(*) from agreements where start_date < date '2024-11-01'") > 0
    assert _one(con, "select count(*) from time_entries where dayofweek(work_date) in (0, 6)") == 0


def test_agreement_dates_are_consistent(con) -> None:
    assert (
        _one(
            con,
            "select count(*) from agreements where end_date <= start_date "
            "or cancelled_date <= start_date",
        )
        == 0
    )
    assert (
        _one(
            con,
            "select count(*) from agreement_lines l join agreements a using (agreement_id) "
            "where l.effective_date < a.start_date or l.effective_date >= a.end_date "
            "or l.cancelled_date <= l.effective_date",
        )
        == 0
    )
    kinds = con.execute(
        "select count(*) filter (where end_date is null), count(*) filter (where end_date is "
        "not null), count(*) filter (where cancelled_date is not null), count(*) filter (where "
        "cancelled_date = last_day(cancelled_date)) from agreements "
        "where agreement_type = 'managed_services'"
    ).fetchone()
    open_ended, fixed_term, cancelled, on_last_day = kinds
    assert open_ended > 0 and fixed_term > 0 and cancelled > 0 and on_last_day > 0


# ---- the portfolio's shape -----------------------------------------------------------------------


def test_revenue_is_pareto_shaped(con) -> None:
    revenues = [
        r[0]
        for r in con.execute(
            "select sum(extended_price) as revenue from invoice_lines group by customer_id "
            "having revenue > 0 order by revenue desc"
        ).fetchall()
    ]
    total = sum(revenues)
    top = revenues[: -(-len(revenues) // 5)]  # top 20 %, rounded up
    assert sum(top) / total > 0.6
    assert revenues[0] / total > 0.05


def test_default_portfolio_has_a_dominant_customer(tmp_path: Path) -> None:
    demo_data.generate(tmp_path, progress=False)  # the default demo: 300 customers, 36 months
    with duckdb.connect() as c:
        shares = c.execute(
            "with ttm as (select customer_id, sum(extended_price::decimal(18, 2)) as revenue "
            f"from read_csv('{tmp_path / 'invoice_lines.csv'}', header = true, all_varchar = true)"
            " where invoice_date >= '2025-11-01' group by customer_id having revenue > 0) "
            "select max(revenue) / sum(revenue) from ttm"
        ).fetchone()
    assert shares[0] > 0.10


def test_recurring_invoices_follow_the_agreement_lines(con) -> None:
    """Every recurring line is invoiced in advance once per billing cycle, at quantity x unit
    price, on the 1st of each month it is in force (agreement cancellation ends its lines)."""
    mismatches = _one(
        con,
        """
        with due as (
            select a.customer_id, m.month, l.offering_id,
                   sum(l.quantity * l.unit_price) as amount
            from agreement_lines as l
            join agreements as a using (agreement_id)
            join months as m
              on m.month >= l.effective_date
             and m.month >= a.start_date
             and (l.cancelled_date is null or m.month < l.cancelled_date)
             and (a.end_date is null or m.month < a.end_date)
             and (a.cancelled_date is null or m.month < a.cancelled_date)
             and date_diff('month', l.effective_date, m.month)
                 % case l.billing_cycle when 'monthly' then 1 when 'quarterly' then 3
                   else 12 end = 0
            group by all
        ),
        invoiced as (
            select customer_id, invoice_date as month, offering_id,
                   sum(extended_price) as amount
            from invoice_lines
            where revenue_type in ('mrr', 'block_time') and extended_price > 0
            group by all
        )
        select count(*) from due full join invoiced using (customer_id, month, offering_id)
        where due.amount is distinct from invoiced.amount
        """,
    )
    assert mismatches == 0


def test_quarterly_and_annual_billing(con) -> None:
    cycles = dict(
        con.execute("select billing_cycle, count(*) from agreement_lines group by 1").fetchall()
    )
    assert cycles["quarterly"] > 0 and cycles["annual"] > 0
    assert cycles["monthly"] > cycles["quarterly"] + cycles["annual"]
    # unit_price is per billing cycle: an annual line is priced at 12 months.
    ratio = _one(
        con,
        "select min(l.unit_price / o.list_price) from agreement_lines l "
        "join offerings o using (offering_id) where billing_cycle = 'annual'",
    )
    assert ratio > 6


def test_expansions_contractions_and_legacy(con) -> None:
    # A quantity change is a line cancelled and a new one effective the same day.
    same_day = _one(
        con,
        "select count(*) from agreement_lines old join agreement_lines new "
        "on new.agreement_id = old.agreement_id and new.offering_id = old.offering_id "
        "and new.effective_date = old.cancelled_date and new.quantity <> old.quantity",
    )
    assert same_day > 0
    legacy = _one(
        con,
        "select count(distinct a.customer_id) from agreement_lines l join agreements a "
        "using (agreement_id) join offerings o using (offering_id) where o.lifecycle = 'legacy'",
    )
    assert legacy > 0


def test_credits_and_a_customer_with_non_positive_trailing_revenue(con) -> None:
    assert _one(con, "select count(*) from invoice_lines where extended_price < 0") > 0
    non_positive = _one(
        con,
        """
        with ttm as (
            select i.customer_id, m.month, sum(i.extended_price) as revenue
            from months as m
            join invoice_lines as i
              on i.invoice_date between m.month - interval 11 month and m.month
            group by all
        )
        select count(distinct customer_id) from ttm
        where revenue <= 0
          and customer_id in (select customer_id from invoice_lines where extended_price < 0)
        """,
    )
    assert non_positive >= 1


def test_churn_events(con) -> None:
    events = con.execute("select event_type, reason_code, offering_id from churn_events").fetchall()
    full = [e for e in events if e[0] == "full_churn"]
    assert full and all(e[2] is None for e in full)
    assert any(e[1] not in KNOWN_REASON_CODES for e in full)  # an unknown code, e.g. 'other'
    assert any(e[1] in KNOWN_REASON_CODES for e in full)
    assert any(e[0] == "offering_cancel" and e[2] is not None for e in events)
    assert any(e[0] == "downgrade" for e in events)
    flags = {r[0] for r in con.execute("select was_flagged_at_risk from churn_events").fetchall()}
    assert flags == {True, False, None}


def test_some_churn_is_unrecorded_and_some_customers_come_back(con) -> None:
    # Customers whose recurring agreements all ended inside the window, without a churn event.
    unrecorded = _one(
        con,
        """
        with ended as (
            select customer_id,
                   max(least(coalesce(end_date, date '9999-12-31'),
                             coalesce(cancelled_date, date '9999-12-31'))) as last_end
            from agreements
            where agreement_type in ('managed_services', 'block_time')
            group by customer_id
            having last_end <= date '2026-10-31'
        )
        select count(*) from ended
        where customer_id not in (
            select customer_id from churn_events where event_type = 'full_churn'
        )
        """,
    )
    assert unrecorded >= 1
    reactivated = _one(
        con,
        """
        select count(distinct a.customer_id) from agreements a join agreements b
          on a.customer_id = b.customer_id
         and b.start_date > a.cancelled_date + interval 1 month
        where a.agreement_type = 'managed_services' and b.agreement_type = 'managed_services'
        """,
    )
    assert reactivated >= 1


def test_labour_heavy_customers_exist(con) -> None:
    margins = con.execute(
        """
        with revenue as (
            select customer_id, sum(extended_price) - sum(extended_cost) as margin,
                   sum(extended_price) as revenue
            from invoice_lines group by 1
        ),
        labour as (
            select customer_id, sum(hours_actual * loaded_hourly_cost) as cost,
                   sum(hours_actual) as hours
            from time_entries group by 1
        )
        select (margin - coalesce(cost, 0)) / revenue from revenue left join labour
        using (customer_id) where revenue > 0
        """
    ).fetchall()
    values = sorted(float(m[0]) for m in margins)
    median = values[len(values) // 2]
    assert 0.25 < median < 0.65
    assert values[0] < 0.1  # some customers cost more labour than their fees justify


def test_customers_look_real(con) -> None:
    row = con.execute(
        "select count(distinct industry), count(*) filter (where employee_count is null), "
        "count(*) filter (where tcp_override is not null), count(distinct region), "
        "count(distinct account_manager), "
        "count(*) filter (where list_contains(?, industry)) from customers",
        [list(TARGET_INDUSTRIES)],
    ).fetchone()
    industries, no_employees, overrides, regions, managers, in_profile = row
    assert industries >= 8 and no_employees > 0 and 0 < overrides < CUSTOMERS * 0.2
    assert regions >= 4 and managers >= 4 and 0.3 * CUSTOMERS < in_profile < 0.8 * CUSTOMERS
    technicians = _one(con, "select count(distinct technician_id) from time_entries")
    assert 10 <= technicians <= 40
    assert _one(con, "select count(*) from time_entries where offering_id is null") > 0
