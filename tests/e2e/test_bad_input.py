"""Bad input, nothing lost: every broken landing row is listed with a reason,
excluded from the marts, and the build still succeeds.

The suite generates a small demo portfolio, then writes two landing folders:

- ``broken``: the demo files plus deliberately bad rows of every kind;
- ``clean``: the same demo files with exactly the rows that must be rejected
  removed (the injected rows, and the valid row whose key an injected row
  conflicts with).

Both are built; every mart must be identical, and ``audit.rejected_rows`` must
list each bad row with the expected reason.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from orchestration.demo.generator import generate
from orchestration.landing.contract import LANDING_TABLES
from tests.conftest import PROJECT_DIR, build_warehouse, query

pytestmark = pytest.mark.slow


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, table: str, rows: list[dict[str, str]], raw_lines: list[str] = ()):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=LANDING_TABLES[table], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue() + "".join(line + "\n" for line in raw_lines))


# (table, reason) → rows expected in audit.rejected_rows.
EXPECTED_REJECTS = {
    ("invoice_lines", "unknown_customer"): 1,  # C99999
    ("invoice_lines", "parent_rejected"): 1,  # a line of the rejected customer C-BADDATE
    ("invoice_lines", "unknown_offering"): 1,
    ("invoice_lines", "invalid_date"): 1,
    ("invoice_lines", "missing_value"): 1,
    ("invoice_lines", "invalid_number"): 1,
    ("invoice_lines", "invalid_value"): 1,
    # An exact copy, a copy with whitespace around its key, one with another case of invoice_id.
    ("invoice_lines", "duplicate_row"): 3,
    ("invoice_lines", "conflicting_key"): 2,
    ("invoice_lines", "malformed_csv_line"): 1,
    ("time_entries", "negative_value"): 2,
    ("time_entries", "malformed_csv_line"): 1,
    ("agreements", "end_before_start"): 1,
    ("agreement_lines", "invalid_value"): 1,
    ("agreement_lines", "parent_rejected"): 1,  # a line of the rejected agreement BAD-AGR
    ("churn_events", "invalid_value"): 1,
    ("customers", "invalid_date"): 1,
    ("offerings", "invalid_boolean"): 1,
}


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad_input")
    demo = root / "demo"
    generate(demo, customers=40, months=15, end_month="2026-10", seed=11, progress=False)
    tables = {t: read_rows(demo / f"{t}.csv") for t in LANDING_TABLES}

    broken = {t: list(rows) for t, rows in tables.items()}
    clean = {t: list(rows) for t, rows in tables.items()}
    raw_lines: dict[str, list[str]] = {t: [] for t in LANDING_TABLES}

    invoice = tables["invoice_lines"][5]
    customer = invoice["customer_id"]

    def bad_invoice(suffix: str, **changes: str) -> dict[str, str]:
        return {**invoice, "invoice_line_id": f"BAD-{suffix}", **changes}

    broken["invoice_lines"] += [
        bad_invoice("CUST", customer_id="C99999"),
        bad_invoice("OFF", offering_id="OFF-NOPE"),
        bad_invoice("DATE", invoice_date="2025-02-30"),
        bad_invoice("NODATE", invoice_date=""),
        bad_invoice("AMOUNT", extended_price="12,50 EUR"),
        bad_invoice("TYPE", revenue_type="consulting"),
        bad_invoice("REJCUST", customer_id="C-BADDATE"),
        dict(tables["invoice_lines"][7]),  # exact duplicate of a valid row
        # Copies but for whitespace around the key and the case of free text: duplicates.
        {
            **tables["invoice_lines"][11],
            "invoice_line_id": f" {tables['invoice_lines'][11]['invoice_line_id']}  ",
        },
        {
            **tables["invoice_lines"][12],
            "invoice_id": tables["invoice_lines"][12]["invoice_id"].swapcase(),
        },
        {**tables["invoice_lines"][9], "extended_price": "999999.00"},  # same key, other values
    ]
    # The conflicting key rejects the original row too.
    clean["invoice_lines"] = [
        r
        for r in clean["invoice_lines"]
        if r["invoice_line_id"] != tables["invoice_lines"][9]["invoice_line_id"]
    ]
    raw_lines["invoice_lines"].append(
        ",".join([*invoice.values(), "an extra field"]).replace(invoice["invoice_line_id"], "BAD-X")
    )

    entry = tables["time_entries"][3]
    broken["time_entries"] += [
        {**entry, "time_entry_id": "BAD-HOURS", "hours_actual": "-2.5"},
        {**entry, "time_entry_id": "BAD-COST", "loaded_hourly_cost": "-60"},
    ]
    # An unterminated quote on the last line: the reader sets the record aside.
    raw_lines["time_entries"].append(f'BAD-QUOTE,2026-01-05,{customer},,"TECH-001,1.0,50.00')

    agreement = tables["agreements"][0]
    broken["agreements"].append(
        {
            **agreement,
            "agreement_id": "BAD-AGR",
            "start_date": "2026-05-01",
            "end_date": "2026-01-01",
        }
    )
    line = tables["agreement_lines"][0]
    broken["agreement_lines"] += [
        {**line, "agreement_line_id": "BAD-CYCLE", "billing_cycle": "weekly"},
        {**line, "agreement_line_id": "BAD-AGRLINE", "agreement_id": "BAD-AGR"},
    ]
    event = tables["churn_events"][0]
    broken["churn_events"].append(
        {**event, "churn_event_id": "BAD-EVENT", "initiated_by": "partner"}
    )
    broken["customers"].append(
        {**tables["customers"][0], "customer_id": "C-BADDATE", "created_date": "yesterday"}
    )
    # A key equal to another but for case: accepted in both builds, reported in the panel.
    twin = {**tables["customers"][2], "customer_id": tables["customers"][2]["customer_id"].lower()}
    broken["customers"].append(twin)
    clean["customers"].append(twin)
    broken["offerings"].append(
        {**tables["offerings"][0], "offering_id": "OFF-BAD", "is_full_package_component": "maybe"}
    )

    warehouses = {}
    for name, data, extra in (("broken", broken, raw_lines), ("clean", clean, None)):
        landing = root / name / "landing"
        landing.mkdir(parents=True)
        for table, rows in data.items():
            write_rows(landing / f"{table}.csv", table, rows, extra[table] if extra else ())
        warehouse = root / name / "portfolio.duckdb"
        # The broken build runs every data test too: bad rows must not fail it.
        build_warehouse(landing, warehouse, data_tests=name == "broken")
        warehouses[name] = warehouse
    return warehouses


def test_every_bad_row_is_listed_with_its_reason(builds: dict[str, Path]) -> None:
    rows = query(builds["broken"], "select source_table, reason from audit.rejected_rows")
    assert Counter(rows) == Counter(EXPECTED_REJECTS)


def test_rejected_rows_keep_the_raw_record(builds: dict[str, Path]) -> None:
    records = dict(
        query(
            builds["broken"],
            "select reason || ':' || coalesce(detail, ''), record from audit.rejected_rows"
            " where reason in ('invalid_number', 'malformed_csv_line')",
        )
    )
    number = next(v for k, v in records.items() if k.startswith("invalid_number"))
    assert "12,50 EUR" in number
    malformed = [v for k, v in records.items() if k.startswith("malformed_csv_line")]
    assert any("an extra field" in v for v in malformed)
    assert any('"TECH-001' in v for v in malformed)


def test_rows_of_a_rejected_parent_name_the_parent_and_its_reason(
    builds: dict[str, Path],
) -> None:
    details = query(
        builds["broken"],
        "select source_table, detail from audit.rejected_rows"
        " where reason = 'parent_rejected' order by 1",
    )
    assert details == [
        (
            "agreement_lines",
            "agreement_id BAD-AGR: its agreements row was rejected (end_before_start)",
        ),
        ("invoice_lines", "customer_id C-BADDATE: its customers row was rejected (invalid_date)"),
    ]
    notes = query(
        builds["broken"],
        "select source_table, note from audit.data_quality_summary"
        " where outcome = 'parent_rejected' order by 1",
    )
    assert notes == [
        ("agreement_lines", "rejected with their parent rows: agreements: end_before_start"),
        ("invoice_lines", "rejected with their parent rows: customers: invalid_date"),
    ]


def test_keys_equal_but_for_case_are_kept_apart_and_reported(builds: dict[str, Path]) -> None:
    landing = builds["broken"].parent / "landing"
    key = read_rows(landing / "customers.csv")[2]["customer_id"]
    assert key != key.lower()
    rows = query(
        builds["broken"],
        "select row_count, note, column_name, is_informational from audit.data_quality_summary"
        " where outcome = 'keys_differ_in_case'",
    )
    assert rows == [
        (
            2,
            f"accepted customer_id values equal but for case, kept apart: {key}, {key.lower()}",
            "customer_id",
            True,
        )
    ]


def test_the_clean_build_rejects_nothing(builds: dict[str, Path]) -> None:
    assert query(builds["clean"], "select count(*) from audit.rejected_rows") == [(0,)]


def rounded(rows: list[tuple]) -> list[tuple]:
    return [tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows]


def test_marts_from_broken_files_equal_marts_from_the_clean_files(
    builds: dict[str, Path],
) -> None:
    marts = [
        name
        for (name,) in query(
            builds["clean"],
            "select table_name from information_schema.tables where table_schema = 'marts'"
            " order by 1",
        )
    ]
    assert "customer_concentration" in marts
    for mart in marts:
        sql = f"select * from marts.{mart} order by all"
        assert rounded(query(builds["broken"], sql)) == rounded(query(builds["clean"], sql)), mart


def test_rows_read_reconcile_with_the_files(builds: dict[str, Path]) -> None:
    summary = dict(
        query(
            builds["broken"],
            "select source_table, max(rows_read) from audit.data_quality_summary group by 1",
        )
    )
    landing = builds["broken"].parent / "landing"
    for table in LANDING_TABLES:
        with (landing / f"{table}.csv").open(newline="") as handle:
            records = sum(1 for _ in handle) - 1  # one physical line per record here
        assert summary[table] == records, table


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
    )


def test_missing_file_and_column_fail_fast_naming_them(
    builds: dict[str, Path], tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(builds["clean"].parent / "landing", landing)
    # offerings is required (an absent optional table is read as empty).
    (landing / "offerings.csv").unlink()
    rows = read_rows(landing / "invoice_lines.csv")
    with (landing / "invoice_lines.csv").open("w", newline="") as handle:
        columns = [c for c in LANDING_TABLES["invoice_lines"] if c != "extended_cost"]
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    warehouse = tmp_path / "portfolio.duckdb"
    result = run_loader(landing, warehouse)
    assert result.returncode == 2
    assert "offerings.csv" in result.stderr
    assert "invoice_lines.csv: missing required column 'extended_cost'" in result.stderr
    # Nothing was loaded, so nothing can be built from half a landing folder.
    assert not warehouse.exists() or query(
        warehouse, "select count(*) from information_schema.tables where table_schema = 'landing'"
    ) == [(0,)]
