"""Fuzz suite of malformed exports: one generated case per kind of damage, nothing lost by cascade.

A small demo portfolio is generated, then written twice:

- ``broken``: the demo rows with one case of every mutation kind in :data:`MUTATIONS` (each on
  rows no other case touches), written the way real exports arrive: the customers file in
  Windows-1252 with CRLF line ends, offerings with a UTF-8 byte-order mark, invoice lines with
  their columns reversed and an extra ``memo`` column holding quoted line breaks, agreement
  lines as Parquet, agreements through a symlink, churn events with headers in another case,
  the folder read-only and its path full of spaces, quotes and a semicolon;
- ``clean``: plain UTF-8 CSV of the same rows with exactly the rows that must go removed (the
  broken rows, the valid row a conflicting key takes with it, the children of a rejected
  customer), computed here from the generated rows, not from the build.

Both are built (the broken one with every data test). Every mart must be identical; for each
case, ``audit.rejected_rows`` must hold exactly its rows with its reason and amount, and
nothing else may be rejected. Header damage that stops a load (a column named twice, a
semicolon-delimited file, an empty header, CSV and Parquet both present, a missing column or
file) is one load here, one message naming every file and column; the run that meets it
leaves the served warehouse unchanged (tests/orchestration/test_wap_runs.py), as do killed and
concurrent runs (tests/orchestration/test_killed_runs.py, tests/unit/test_warehouse.py).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import stat
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.demo.generator import generate
from orchestration.landing.contract import LANDING_TABLES, TABLES_BY_NAME
from tests.conftest import (
    MANAGED_SERVICES_OFFERING,
    PROJECT_DIR,
    build_warehouse,
    mart_names,
    query,
    write_table,
)

pytestmark = pytest.mark.slow

Row = dict[str, str]


@dataclass(frozen=True)
class Expected:
    """Rows a case must leave in audit.rejected_rows: their table, reason, keys and amount."""

    table: str
    reason: str
    #: Keys of the rejected rows, one per row (a conflicting key appears once per copy).
    keys: tuple[str, ...]
    #: Σ of the rows' measure (rejected_rows.amount); None when none parses.
    amount: Decimal | None = None


@dataclass
class Fuzz:
    """The generated rows and the two landing folders being written from them."""

    tables: dict[str, list[Row]]
    broken: dict[str, list[Row]] = field(init=False)
    clean: dict[str, list[Row]] = field(init=False)
    #: Raw lines appended to a broken CSV file (records the reader cannot parse).
    raw_lines: dict[str, list[str]] = field(init=False)
    #: Customers a case has claimed: no other case touches their rows.
    claimed: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.broken = {t: [dict(r) for r in rows] for t, rows in self.tables.items()}
        self.clean = {t: [dict(r) for r in rows] for t, rows in self.tables.items()}
        self.raw_lines = {t: [] for t in self.tables}

    def customer(self, *, with_: tuple[str, ...] = ("invoice_lines",)) -> str:
        """An unclaimed customer with rows in every table of ``with_``; claims it."""
        for row in self.tables["customers"]:
            customer = row["customer_id"]
            if customer in self.claimed:
                continue
            if all(self.rows_of(table, customer) for table in with_):
                self.claimed.add(customer)
                return customer
        raise AssertionError(f"no unclaimed customer with rows in {with_}")

    def rows_of(self, table: str, customer: str) -> list[Row]:
        """The generated rows of ``table`` belonging to ``customer``."""
        if table == "agreement_lines":
            agreements = {a["agreement_id"] for a in self.rows_of("agreements", customer)}
            return [r for r in self.tables[table] if r["agreement_id"] in agreements]
        return [r for r in self.tables[table] if r["customer_id"] == customer]

    def invoice(self) -> Row:
        """An invoice line of a newly claimed customer."""
        return self.rows_of("invoice_lines", self.customer())[0]

    def add(self, table: str, row: Row, *, clean: bool = False) -> None:
        """Append ``row`` to the broken file (and the clean one when it is valid)."""
        self.broken[table].append(row)
        if clean:
            self.clean[table].append(dict(row))

    def drop_from_clean(self, table: str, key: str) -> None:
        column = TABLES_BY_NAME[table].key
        self.clean[table] = [r for r in self.clean[table] if r[column] != key]

    def replace(self, table: str, key: str, **changes: str) -> None:
        """Change a row in both folders (a value that is valid either way)."""
        column = TABLES_BY_NAME[table].key
        for rows in (self.broken[table], self.clean[table]):
            for row in rows:
                if row[column] == key:
                    row.update(changes)


def price(row: Row) -> Decimal:
    return Decimal(row["extended_price"])


def labour(row: Row) -> Decimal:
    return Decimal(row["hours_actual"]) * Decimal(row["loaded_hourly_cost"])


def seats(row: Row) -> Decimal:
    return Decimal(row["quantity"]) * Decimal(row["unit_price"])


def bad_invoice(fuzz: Fuzz, suffix: str, **changes: str) -> tuple[Row, Row]:
    """A new invoice line (key FZ-<suffix>) copied from a claimed customer's line."""
    source = fuzz.invoice()
    row = {**source, "invoice_line_id": f"FZ-{suffix}", **changes}
    fuzz.add("invoice_lines", row)
    return source, row


def invoice_case(suffix: str, reason: str, *, amount: bool = True, **changes: str):
    """A case: one new invoice line with ``changes``, rejected with ``reason``."""

    def case(fuzz: Fuzz) -> list[Expected]:
        _, row = bad_invoice(fuzz, suffix, **changes)
        return [
            Expected(
                "invoice_lines", reason, (row["invoice_line_id"],), price(row) if amount else None
            )
        ]

    return case


def copy_of_invoice(change: Callable[[Row], Row]):
    """A case: a copy of a valid invoice line equal but for whitespace or case."""

    def case(fuzz: Fuzz) -> list[Expected]:
        source = fuzz.invoice()
        fuzz.add("invoice_lines", change(dict(source)))
        return [
            Expected("invoice_lines", "duplicate_row", (source["invoice_line_id"],), price(source))
        ]

    return case


def conflicting_invoice(fuzz: Fuzz) -> list[Expected]:
    # Same key, other amount: both copies go, the valid one included.
    source = fuzz.invoice()
    fuzz.add("invoice_lines", {**source, "extended_price": "999999.00"})
    fuzz.drop_from_clean("invoice_lines", source["invoice_line_id"])
    key = source["invoice_line_id"]
    return [
        Expected(
            "invoice_lines", "conflicting_key", (key, key), price(source) + Decimal("999999.00")
        )
    ]


def negative_time_entry(column: str, value: str):
    def case(fuzz: Fuzz) -> list[Expected]:
        source = fuzz.rows_of("time_entries", fuzz.customer(with_=("time_entries",)))[0]
        row = {**source, "time_entry_id": f"FZ-NEG-{column}", column: value}
        fuzz.add("time_entries", row)
        return [Expected("time_entries", "negative_value", (row["time_entry_id"],), labour(row))]

    return case


def agreement_line_case(suffix: str, reason: str, **changes: str):
    """A case: a new line on a claimed customer's agreement, rejected with ``reason``."""

    def case(fuzz: Fuzz) -> list[Expected]:
        customer = fuzz.customer(with_=("agreement_lines",))
        source = fuzz.rows_of("agreement_lines", customer)[0]
        row = {**source, "agreement_line_id": f"FZ-{suffix}", **changes}
        fuzz.add("agreement_lines", row)
        return [Expected("agreement_lines", reason, (row["agreement_line_id"],), seats(row))]

    return case


def agreement_ending_before_it_starts(fuzz: Fuzz) -> list[Expected]:
    customer = fuzz.customer(with_=("agreement_lines",))
    agreement = fuzz.rows_of("agreements", customer)[0]
    fuzz.add(
        "agreements",
        {
            **agreement,
            "agreement_id": "FZ-AGR",
            "start_date": "2026-05-01",
            "end_date": "2026-01-01",
        },
    )
    line = {
        **fuzz.rows_of("agreement_lines", customer)[0],
        "agreement_line_id": "FZ-AGRLINE",
        "agreement_id": "FZ-AGR",
    }
    fuzz.add("agreement_lines", line)
    return [
        Expected("agreements", "end_before_start", ("FZ-AGR",)),
        Expected("agreement_lines", "parent_rejected", ("FZ-AGRLINE",), seats(line)),
    ]


def churn_event_of_unknown_initiator(fuzz: Fuzz) -> list[Expected]:
    source = fuzz.rows_of("churn_events", fuzz.customer(with_=("churn_events",)))[0]
    fuzz.add("churn_events", {**source, "churn_event_id": "FZ-EVENT", "initiated_by": "partner"})
    return [Expected("churn_events", "invalid_value", ("FZ-EVENT",))]


def customer_created_yesterday(fuzz: Fuzz) -> list[Expected]:
    # A new customer whose created date does not parse, with one invoice line.
    source = fuzz.invoice()
    fuzz.add(
        "customers",
        {**fuzz.tables["customers"][0], "customer_id": "FZ-CUST", "created_date": "yesterday"},
    )
    line = {**source, "invoice_line_id": "FZ-CUSTLINE", "customer_id": "FZ-CUST"}
    fuzz.add("invoice_lines", line)
    return [
        Expected("customers", "invalid_date", ("FZ-CUST",)),
        Expected("invoice_lines", "parent_rejected", ("FZ-CUSTLINE",), price(line)),
    ]


def offering_maybe_in_the_package(fuzz: Fuzz) -> list[Expected]:
    fuzz.add(
        "offerings",
        {
            **fuzz.tables["offerings"][0],
            "offering_id": "FZ-OFF",
            "is_full_package_component": "maybe",
        },
    )
    return [Expected("offerings", "invalid_boolean", ("FZ-OFF",))]


def conflicting_customer(fuzz: Fuzz) -> list[Expected]:
    """A customer exported twice with different names: both copies go, and every row of the
    customer with them, each naming the customer's rejection as its root cause."""
    customer = fuzz.customer(
        with_=("invoice_lines", "time_entries", "agreement_lines", "churn_events")
    )
    row = next(r for r in fuzz.tables["customers"] if r["customer_id"] == customer)
    fuzz.add("customers", {**row, "customer_name": row["customer_name"] + " (old name)"})
    fuzz.drop_from_clean("customers", customer)
    expected = [Expected("customers", "conflicting_key", (customer, customer))]
    measures = {"invoice_lines": price, "time_entries": labour, "agreement_lines": seats}
    for table in ("invoice_lines", "time_entries", "agreements", "agreement_lines", "churn_events"):
        children = fuzz.rows_of(table, customer)
        key = TABLES_BY_NAME[table].key
        for child in children:
            fuzz.drop_from_clean(table, child[key])
        measure = measures.get(table)
        expected.append(
            Expected(
                table,
                "parent_rejected",
                tuple(c[key] for c in children),
                sum(map(measure, children), Decimal(0)) if measure else None,
            )
        )
    return expected


def customer_copy(change: Callable[[Row], Row]):
    """A case: a copy of a customer equal but for whitespace or case: one duplicate, no loss.

    The copy staged is the first in text order of the exported values (DECISIONLOG), here
    the one whose name sorts first: the clean folder holds that one.
    """

    def case(fuzz: Fuzz) -> list[Expected]:
        customer = fuzz.customer()
        row = next(r for r in fuzz.tables["customers"] if r["customer_id"] == customer)
        copy = change(dict(row))
        fuzz.add("customers", copy)
        kept = next(r for r in fuzz.clean["customers"] if r["customer_id"] == customer)
        kept["customer_name"] = min(row["customer_name"], copy["customer_name"])
        return [Expected("customers", "duplicate_row", (customer,))]

    return case


def malformed_invoice_line(fuzz: Fuzz) -> list[Expected]:
    # One field too many: the reader sets the record aside (written in the file's column
    # order by write_broken, which knows it).
    source = fuzz.invoice()
    fuzz.raw_lines["invoice_lines"].append({**source, "invoice_line_id": "FZ-EXTRA"})
    return [Expected("invoice_lines", "malformed_csv_line", ("FZ-EXTRA",))]


def unterminated_quote(fuzz: Fuzz) -> list[Expected]:
    source = fuzz.rows_of("time_entries", fuzz.customer(with_=("time_entries",)))[0]
    fuzz.raw_lines["time_entries"].append(
        f'FZ-QUOTE,2026-01-05,{source["customer_id"]},,"TECH-001,1.0,50.00'
    )
    return [Expected("time_entries", "malformed_csv_line", ("FZ-QUOTE",))]


# Cases that reject nothing: the value is valid, or kept and reported.


def too_many_decimals(fuzz: Fuzz) -> list[Expected]:
    # Kept as 123.4568 (decimal(18, 4)) and reported as rounded.
    key = fuzz.invoice()["invoice_line_id"]
    for rows, value in ((fuzz.broken, "123.456789"), (fuzz.clean, "123.4568")):
        next(r for r in rows["invoice_lines"] if r["invoice_line_id"] == key)["extended_price"] = (
            value
        )
    return []


SQL_LIKE_ID = 'O\'Brien "Ltd", 1; DROP TABLE landing.customers; --'
ACCENTED_NAME = "Müller & Söhne – Zoë Ærø"


def sql_looking_id(fuzz: Fuzz) -> list[Expected]:
    # A customer id with quotes, a comma and SQL in it, everywhere the customer appears.
    customer = fuzz.customer(with_=("invoice_lines", "agreements"))
    for table in ("customers", "invoice_lines", "time_entries", "agreements", "churn_events"):
        for rows in (fuzz.broken[table], fuzz.clean[table]):
            for row in rows:
                if row["customer_id"] == customer:
                    row["customer_id"] = SQL_LIKE_ID
    return []


def accented_name(fuzz: Fuzz) -> list[Expected]:
    # Written in Windows-1252 to the broken folder (write_broken), UTF-8 to the clean one.
    fuzz.replace("customers", fuzz.customer(), customer_name=ACCENTED_NAME)
    return []


def key_differing_in_case(fuzz: Fuzz) -> list[Expected]:
    # c00010 beside C00010: two customers, kept apart and reported.
    row = next(r for r in fuzz.tables["customers"] if r["customer_id"] not in fuzz.claimed)
    fuzz.claimed.add(row["customer_id"])
    fuzz.add("customers", {**row, "customer_id": row["customer_id"].lower()}, clean=True)
    return []


#: One case per mutation kind: name → function writing it into the two folders.
MUTATIONS: dict[str, Callable[[Fuzz], list[Expected]]] = {
    # First, so it finds a customer with rows in every table.
    "conflicting_customer": conflicting_customer,
    "unknown_customer": invoice_case("CUST", "unknown_customer", customer_id="C99999"),
    "unknown_offering": invoice_case("OFF", "unknown_offering", offering_id="OFF-NOPE"),
    "impossible_date": invoice_case("DATE", "invalid_date", invoice_date="2025-02-30"),
    "excel_serial_date": invoice_case("SERIAL", "invalid_date", invoice_date="45678"),
    "empty_date": invoice_case("NODATE", "missing_value", invoice_date=""),
    "date_typo_2062": invoice_case("2062", "date_out_of_range", invoice_date="2062-05-01"),
    "date_infinity": invoice_case("INF", "date_out_of_range", invoice_date="infinity"),
    "date_before_1990": invoice_case("1989", "date_out_of_range", invoice_date="1989-12-31"),
    "amount_with_currency": invoice_case(
        "EUR", "invalid_number", amount=False, extended_price="12,50 EUR"
    ),
    "amount_1e20": invoice_case("1E20", "invalid_number", amount=False, extended_price="1e20"),
    "amount_nan": invoice_case("NAN", "invalid_number", amount=False, extended_price="NaN"),
    "unknown_revenue_type": invoice_case("TYPE", "invalid_value", revenue_type="consulting"),
    "exact_copy": copy_of_invoice(lambda row: row),
    "copy_with_spaces_around_key": copy_of_invoice(
        lambda row: {**row, "invoice_line_id": f" {row['invoice_line_id']}  "}
    ),
    "copy_with_text_in_other_case": copy_of_invoice(
        lambda row: {**row, "invoice_id": row["invoice_id"].swapcase()}
    ),
    "conflicting_key": conflicting_invoice,
    "negative_hours": negative_time_entry("hours_actual", "-2.5"),
    "negative_hourly_cost": negative_time_entry("loaded_hourly_cost", "-60"),
    "negative_seats": agreement_line_case("SEATS", "negative_value", quantity="-651"),
    "negative_unit_price": agreement_line_case("PRICE", "negative_value", unit_price="-5"),
    "unknown_billing_cycle": agreement_line_case("CYCLE", "invalid_value", billing_cycle="weekly"),
    "contract_date_9999": agreement_line_case(
        "9999", "date_out_of_range", effective_date="9999-01-01"
    ),
    "end_before_start": agreement_ending_before_it_starts,
    "unknown_initiator": churn_event_of_unknown_initiator,
    "unparseable_created_date": customer_created_yesterday,
    "invalid_boolean": offering_maybe_in_the_package,
    "customer_copy_with_spaces": customer_copy(
        lambda row: {**row, "customer_id": row["customer_id"] + " "}
    ),
    "customer_copy_in_other_case": customer_copy(
        lambda row: {**row, "customer_name": row["customer_name"].upper()}
    ),
    "extra_field": malformed_invoice_line,
    "unterminated_quote": unterminated_quote,
    "too_many_decimals": too_many_decimals,
    "sql_looking_id": sql_looking_id,
    "accented_name_in_windows_1252": accented_name,
    "key_differing_in_case": key_differing_in_case,
}

#: Where the broken folder lives: spaces, both quotes and a semicolon in the path.
AWKWARD_FOLDER = "landing folder 'quoted' \"twice\"; really"


def read_rows(path: Path) -> list[Row]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def csv_text(columns: list[str], rows: list[Row], *, line_end: str = "\n") -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator=line_end)
    writer.writeheader()
    writer.writerows({c: row.get(c, "") for c in columns} for row in rows)
    return buffer.getvalue()


def write_clean(landing: Path, tables: dict[str, list[Row]]) -> None:
    landing.mkdir(parents=True)
    for table, rows in tables.items():
        (landing / f"{table}.csv").write_text(csv_text(list(LANDING_TABLES[table]), rows))


def write_broken(landing: Path, fuzz: Fuzz) -> None:
    """The broken rows, written the way messy exports arrive (see the module docstring)."""
    landing.mkdir(parents=True)
    tables, raw = fuzz.broken, fuzz.raw_lines
    columns = {t: list(LANDING_TABLES[t]) for t in LANDING_TABLES}
    (landing / "customers.csv").write_bytes(
        csv_text(columns["customers"], tables["customers"], line_end="\r\n").encode("cp1252")
    )
    (landing / "offerings.csv").write_text(
        csv_text(columns["offerings"], tables["offerings"]), encoding="utf-8-sig"
    )
    # Columns reversed, and a memo column the contract does not know, with line breaks,
    # quotes and commas inside quoted values.
    invoice_columns = [*reversed(columns["invoice_lines"]), "memo"]
    memo = 'first line\nsecond line, "quoted"'
    invoices = [
        {**row, "memo": memo if n % 7 == 0 else ""} for n, row in enumerate(tables["invoice_lines"])
    ]
    extra = "".join(
        ",".join([*(row[c] for c in invoice_columns[:-1]), "", "an extra field"]) + "\n"
        for row in raw["invoice_lines"]
    )
    (landing / "invoice_lines.csv").write_text(csv_text(invoice_columns, invoices) + extra)
    (landing / "time_entries.csv").write_text(
        csv_text(columns["time_entries"], tables["time_entries"])
        + "".join(line + "\n" for line in raw["time_entries"])
    )
    # Headers in another case.
    churn = csv_text(columns["churn_events"], tables["churn_events"]).split("\n", 1)
    (landing / "churn_events.csv").write_text(churn[0].title() + "\n" + churn[1])
    # Through a symlink to a file elsewhere.
    exports = landing.parent / "exports"
    exports.mkdir()
    (exports / "agreements.csv").write_text(csv_text(columns["agreements"], tables["agreements"]))
    (landing / "agreements.csv").symlink_to(exports / "agreements.csv")
    # Parquet, every column text.
    lines = tables["agreement_lines"]
    with duckdb.connect() as con:
        con.execute(
            "create table agreement_lines ("
            + ", ".join(f'"{c}" varchar' for c in columns["agreement_lines"])
            + ")"
        )
        con.executemany(
            "insert into agreement_lines values ("
            + ", ".join("?" for _ in columns["agreement_lines"])
            + ")",
            [[row[c] for c in columns["agreement_lines"]] for row in lines],
        )
        target = str(landing / "agreement_lines.parquet").replace("'", "''")
        con.execute(f"copy agreement_lines to '{target}' (format parquet)")


def records_in(landing: Path, table: str) -> int:
    """Records in a landing file, counted by an independent reader."""
    parquet = landing / f"{table}.parquet"
    if parquet.exists():
        with duckdb.connect() as con:
            target = str(parquet).replace("'", "''")
            return con.execute(f"select count(*) from read_parquet('{target}')").fetchone()[0]
    encoding = "cp1252" if table == "customers" else "utf-8-sig"
    with (landing / f"{table}.csv").open(newline="", encoding=encoding) as handle:
        records = list(csv.reader(handle))
    return len(records) - 1


def read_only(path: Path) -> None:
    for item in [*path.iterdir(), path]:
        item.chmod(stat.S_IRUSR | stat.S_IRGRP | (stat.S_IXUSR if item.is_dir() else 0))


@dataclass
class Builds:
    broken: Path
    clean: Path
    landing: Path
    expected: dict[str, list[Expected]]
    fuzz: Fuzz


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    root = tmp_path_factory.mktemp("fuzz")
    demo = root / "demo"
    generate(demo, customers=60, months=15, end_month="2026-10", seed=11, progress=False)
    fuzz = Fuzz({t: read_rows(demo / f"{t}.csv") for t in LANDING_TABLES})
    expected = {name: mutate(fuzz) for name, mutate in MUTATIONS.items()}

    broken_landing = root / "broken" / AWKWARD_FOLDER
    write_broken(broken_landing, fuzz)
    clean_landing = root / "clean" / "landing"
    write_clean(clean_landing, fuzz.clean)
    read_only(broken_landing)
    try:
        warehouses = {}
        for name, landing in (("broken", broken_landing), ("clean", clean_landing)):
            warehouse = landing.parent / "portfolio.duckdb"
            # The broken build runs every data test too: bad rows must not fail it.
            build_warehouse(landing, warehouse, data_tests=name == "broken")
            warehouses[name] = warehouse
        yield Builds(warehouses["broken"], warehouses["clean"], broken_landing, expected, fuzz)
    finally:
        for item in [broken_landing, *broken_landing.iterdir()]:
            item.chmod(stat.S_IRWXU)


def rejected(builds: Builds, table: str) -> list[tuple[str, str, Decimal | None]]:
    """(trimmed key, reason, amount) of every rejected row of ``table``.

    The key is read from the raw record; a malformed CSV line's record is its text, whose
    key is the field the case wrote first (its id).
    """
    key = TABLES_BY_NAME[table].key
    return query(
        builds.broken,
        f"""
        select
            case when reason = 'malformed_csv_line'
                then regexp_extract(record, 'FZ-[A-Z]+')
                else trim(record ->> '{key}')
            end,
            reason,
            amount
        from audit.rejected_rows where source_table = '{table}'
        """,
    )


@pytest.mark.parametrize("kind", list(MUTATIONS))
def test_each_case_is_rejected_by_row_with_its_reason_and_amount(builds: Builds, kind: str) -> None:
    for expected in builds.expected[kind]:
        keys = Counter(expected.keys)
        rows = [
            (k, amount)
            for k, reason, amount in rejected(builds, expected.table)
            if reason == expected.reason and k in keys
        ]
        assert Counter(k for k, _ in rows) == keys, (kind, expected)
        amounts = [a for _, a in rows if a is not None]
        total = sum(amounts, Decimal(0)) if amounts else None
        assert total == expected.amount, (kind, expected)


def test_nothing_else_is_rejected(builds: Builds) -> None:
    expected = Counter()
    for cases in builds.expected.values():
        for case in cases:
            expected[(case.table, case.reason)] += len(case.keys)
    actual = Counter(query(builds.broken, "select source_table, reason from audit.rejected_rows"))
    assert actual == expected


def test_the_clean_build_rejects_nothing(builds: Builds) -> None:
    assert query(builds.clean, "select count(*) from audit.rejected_rows") == [(0,)]


def rounded(rows: list[tuple]) -> list[tuple]:
    return [tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows]


def test_every_mart_equals_the_clean_build(builds: Builds) -> None:
    marts = mart_names(builds.clean)
    assert {"customer_concentration", "mrr_movements", "churn_events"} <= set(marts)
    for mart in marts:
        sql = f"select * from marts.{mart} order by all"
        assert rounded(query(builds.broken, sql)) == rounded(query(builds.clean, sql)), mart


def test_the_panel_shows_what_each_root_cause_removed(builds: Builds) -> None:
    expected: dict[tuple[str, str], tuple[int, Decimal | None]] = {}
    roots = {
        "conflicting_customer": "customers: conflicting_key",
        "end_before_start": "agreements: end_before_start",
        "unparseable_created_date": "customers: invalid_date",
    }
    for kind, root in roots.items():
        for case in builds.expected[kind]:
            if case.reason == "parent_rejected" and case.keys:
                expected[(case.table, root)] = (len(case.keys), case.amount)
    panel = query(
        builds.broken,
        "select source_table, root_cause, row_count, amount, note"
        " from audit.data_quality_summary where outcome = 'parent_rejected'",
    )
    assert {(t, r): (n, a) for t, r, n, a, _ in panel} == expected
    assert all(note == f"rejected with their parent: {r}" for _, r, _, _, note in panel)


def test_a_child_of_a_rejected_parent_names_its_parent(builds: Builds) -> None:
    details = dict(
        query(
            builds.broken,
            "select record ->> 'agreement_line_id', detail from audit.rejected_rows"
            " where reason = 'parent_rejected' and source_table = 'agreement_lines'",
        )
    )
    assert details["FZ-AGRLINE"] == (
        "agreement_id FZ-AGR: its agreements row was rejected (end_before_start)"
    )


def test_rejected_rows_keep_the_raw_record(builds: Builds) -> None:
    records = [r for (r,) in query(builds.broken, "select record from audit.rejected_rows")]
    assert any("12,50 EUR" in r for r in records)
    assert any("an extra field" in r for r in records)
    assert any('"TECH-001' in r for r in records)


def test_values_kept_as_exported(builds: Builds) -> None:
    quoted = SQL_LIKE_ID.replace("'", "''")
    # The SQL-looking id is one customer with its revenue, as exported.
    assert query(
        builds.broken,
        "select count(distinct customer_id), sum(revenue_ttm) > 0"
        f" from marts.customer_concentration where customer_id = '{quoted}'",
    ) == [(1, True)]
    assert query(
        builds.broken,
        "select count(*) from staging.stg_landing__customers"
        f" where customer_name = '{ACCENTED_NAME}'",
    ) == [(1,)]
    # 123.456789 kept as 123.4568: reported, |difference| 0.000011.
    assert query(
        builds.broken,
        "select row_count, column_name, rounding_difference from audit.data_quality_summary"
        " where source_table = 'invoice_lines' and outcome = 'rounded'",
    ) == [(1, "extended_price", Decimal("0.000011"))]


def test_keys_equal_but_for_case_are_kept_apart_and_reported(builds: Builds) -> None:
    twin = builds.fuzz.broken["customers"][-1]["customer_id"]
    key = twin.upper()
    assert twin != key
    rows = query(
        builds.broken,
        "select row_count, note, is_informational from audit.data_quality_summary"
        " where outcome = 'keys_differ_in_case'",
    )
    assert rows == [
        (2, f"accepted customer_id values equal but for case, kept apart: {key}, {twin}", True)
    ]


def test_rows_read_reconcile_with_the_files(builds: Builds) -> None:
    summary = dict(
        query(
            builds.broken,
            "select source_table, max(rows_read) from audit.data_quality_summary group by 1",
        )
    )
    for table in LANDING_TABLES:
        assert summary[table] == records_in(builds.landing, table), table


def run_loader(landing: Path, warehouse: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestration.landing",
            "load",
            "--landing-dir",
            str(landing),
            "--warehouse",
            str(warehouse),
        ],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, "PORTFOLIO_LANDING_ENCODING": "auto"},
    )


def break_headers(landing: Path) -> dict[str, str]:
    """Header damage in several files at once; returns what the message must say of each."""
    # offerings is required (an absent optional table is read as empty).
    (landing / "offerings.csv").unlink()
    text = (landing / "invoice_lines.csv").read_text().split("\n", 1)
    (landing / "invoice_lines.csv").write_text(text[0] + ",Extended_Price\n" + text[1])
    text = (landing / "time_entries.csv").read_text()
    (landing / "time_entries.csv").write_text(text.replace(",", ";"))
    (landing / "churn_events.csv").write_text("\n" + (landing / "churn_events.csv").read_text())
    with duckdb.connect() as con:
        target = str(landing / "agreements.parquet").replace("'", "''")
        con.execute(f"copy (select 1 as agreement_id) to '{target}' (format parquet)")
    rows = read_rows(landing / "agreement_lines.csv")
    columns = [c for c in LANDING_TABLES["agreement_lines"] if c != "unit_price"]
    (landing / "agreement_lines.csv").write_text(csv_text(columns, rows))
    return {
        "offerings": "offerings.csv",
        "invoice_lines": "invoice_lines.csv: column 'extended_price' appears 2 times",
        "time_entries": "time_entries.csv: the header has no comma but",
        "churn_events": "churn_events.csv: the header line is empty",
        "agreements": "agreements.parquet both exist; keep one",
        "agreement_lines": "agreement_lines.csv: missing required column 'unit_price'",
    }


def test_header_damage_stops_the_load_naming_every_file_and_column(
    builds: Builds, tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(builds.clean.parent / "landing", landing)
    messages = break_headers(landing)
    warehouse = tmp_path / "portfolio.duckdb"
    result = run_loader(landing, warehouse)
    assert result.returncode == 2, result.stderr
    for table, message in messages.items():
        assert message in result.stderr, (table, result.stderr)
    # Nothing was loaded, so nothing can be built from half a landing folder.
    assert not warehouse.exists() or query(
        warehouse, "select count(*) from information_schema.tables where table_schema = 'landing'"
    ) == [(0,)]


def test_a_build_whose_every_customer_is_rejected_stops(tmp_path: Path) -> None:
    # Every customer exported twice with different names: all conflicting_key, so all of
    # their invoice lines are parent_rejected and the marts would be empty.
    landing = tmp_path / "landing"
    landing.mkdir()
    customers = [{"customer_id": c, "customer_name": n} for c in "AB" for n in ("x", "y")]
    write_table(landing, "customers", customers)
    write_table(landing, "offerings", [MANAGED_SERVICES_OFFERING])
    invoice = {
        "invoice_date": "2025-01-15",
        "offering_id": "MS",
        "revenue_type": "mrr",
        "extended_price": "100",
        "extended_cost": "0",
    }
    write_table(
        landing,
        "invoice_lines",
        [{**invoice, "invoice_line_id": f"L{c}", "customer_id": c} for c in "AB"],
    )
    with pytest.raises(AssertionError) as failure:
        build_warehouse(
            landing,
            tmp_path / "portfolio.duckdb",
            select="+data_quality_summary assert_required_tables_keep_some_rows",
            data_tests=True,
        )
    # Two tables wholly rejected: customers, and invoice_lines with them.
    assert "FAIL 2 assert_required_tables_keep_some_rows" in str(failure.value)
