"""The dbt side of the landing contract equals the Python contract.

``orchestration/landing/contract.py`` is the contract the loader and the demo generator read;
``models/staging/landing/_landing__sources.yml`` declares it again for dbt, in each column's
``config: meta:``, and the base models validate every landing row against that declaration
(macro ``validate_landing_rows``); the macro ``revenue_types`` lists the revenue types for the
models that generate a column per type. These tests read the YAML, the base models' SQL and the
macros as text, without dbt, and fail when either side changes alone.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from orchestration.landing.contract import (
    COLUMN_TYPES,
    DATE_WINDOWS,
    REVENUE_TYPES,
    SERVICE_REVENUE_TYPES,
    TABLES,
    TABLES_BY_NAME,
    Column,
    Table,
)
from tests.conftest import PROJECT_DIR

SOURCES_YML = PROJECT_DIR / "models" / "staging" / "landing" / "_landing__sources.yml"
BASE_MODELS_DIR = PROJECT_DIR / "models" / "staging" / "landing" / "base"
CONTRACT_COLUMNS_MACRO = PROJECT_DIR / "macros" / "landing_contract_columns.sql"
REVENUE_TYPES_MACRO = PROJECT_DIR / "macros" / "revenue_types.sql"

#: Source tables the landing loader writes itself; no export, so not in the contract.
LOADER_TABLES = {"reader_rejects", "load_log"}
#: The column attributes a source column's meta may declare (landing_contract_columns).
META_ATTRIBUTES = {
    "type",
    "required",
    "values",
    "non_negative",
    "optional_in_file",
    "date_window",
}

#: ``{{ validate_landing_rows(source_table='<table>', key='<key>'`` at the start of a base model.
MACRO_CALL = re.compile(
    r"\A\{\{\s*validate_landing_rows\(\s*source_table='(?P<table>\w+)',\s*key='(?P<key>\w+)',"
)


def declared_tables() -> dict[str, list[dict[str, Any]]]:
    """The tables of the source ``landing`` with their YAML column entries, in file order."""
    sources = yaml.safe_load(SOURCES_YML.read_text())["sources"]
    (landing,) = (source for source in sources if source["name"] == "landing")
    return {table["name"]: table.get("columns", []) for table in landing["tables"]}


def from_python(column: Column) -> dict[str, Any]:
    return {
        "name": column.name,
        "type": column.type,
        "required": column.required,
        "values": column.values,
        "non_negative": column.non_negative,
        "optional_in_file": column.optional_in_file,
        "date_window": column.date_window,
    }


def from_yaml(column: dict[str, Any]) -> dict[str, Any]:
    """A column as landing_contract_columns reads it: a left-out attribute is false / none."""
    meta = (column.get("config") or {}).get("meta") or {}
    assert set(meta) <= META_ATTRIBUTES, f"{column['name']}: unknown meta {set(meta)}"
    values = meta.get("values")
    return {
        "name": column["name"],
        "type": meta.get("type"),
        "required": meta.get("required", False),
        "values": tuple(values) if values is not None else None,
        "non_negative": meta.get("non_negative", False),
        "optional_in_file": meta.get("optional_in_file", False),
        "date_window": meta.get("date_window"),
    }


def test_the_sources_declare_exactly_the_contract_tables() -> None:
    assert set(declared_tables()) == set(TABLES_BY_NAME) | LOADER_TABLES


@pytest.mark.parametrize("table", TABLES, ids=lambda table: table.name)
def test_every_column_is_declared_as_in_the_contract(table: Table) -> None:
    declared = [from_yaml(column) for column in declared_tables()[table.name]]
    assert declared == [from_python(column) for column in table.columns]


def test_loader_tables_declare_no_contract_attributes() -> None:
    tables = declared_tables()
    for name in LOADER_TABLES:
        assert all(not (column.get("config") or {}).get("meta") for column in tables[name]), name


def test_a_base_model_validates_each_contract_table_and_nothing_else() -> None:
    base_models = {path.stem for path in BASE_MODELS_DIR.glob("*.sql")}
    assert base_models == {f"base_landing__{table.name}" for table in TABLES}


@pytest.mark.parametrize("table", TABLES, ids=lambda table: table.name)
def test_the_base_model_calls_the_macro_for_its_table_and_key(table: Table) -> None:
    sql = (BASE_MODELS_DIR / f"base_landing__{table.name}.sql").read_text()
    call = MACRO_CALL.match(sql)
    assert call, f"base_landing__{table.name} does not start with a validate_landing_rows call"
    assert (call["table"], call["key"]) == (table.name, table.key)
    # The columns come from the sources' meta, never a list of the model's own.
    assert "columns=" not in sql


def test_the_macro_casts_every_contract_type() -> None:
    macro = CONTRACT_COLUMNS_MACRO.read_text()
    sql_types = re.search(r"set sql_types = \{(.*?)\}", macro, re.DOTALL)
    assert sql_types, "landing_contract_columns defines no sql_types"
    assert tuple(re.findall(r"'(\w+)':", sql_types[1])) == COLUMN_TYPES


def test_the_macro_reads_every_contract_attribute() -> None:
    """landing_contract_columns accepts exactly the attributes the tests compare."""
    macro = CONTRACT_COLUMNS_MACRO.read_text()
    attributes = re.search(r"set attributes = \[(.*?)\]", macro, re.DOTALL)
    assert attributes, "landing_contract_columns defines no attributes"
    assert set(re.findall(r"'(\w+)'", attributes[1])) == META_ATTRIBUTES


def test_every_date_column_has_a_window_and_only_date_columns() -> None:
    for table in TABLES:
        for column in table.columns:
            if column.type == "date":
                assert column.date_window in DATE_WINDOWS, (table.name, column.name)
            else:
                assert column.date_window is None, (table.name, column.name)
    with pytest.raises(ValueError, match="date_window"):
        Column("when", "date")
    with pytest.raises(ValueError, match="date_window"):
        Column("price", "number", date_window="event")


def test_event_dates_are_the_dates_of_what_has_happened_by_the_export() -> None:
    """Invoices, work and notices cannot lie after the export; contract dates may."""
    event = {
        (table.name, column.name)
        for table in TABLES
        for column in table.columns
        if column.date_window == "event"
    }
    assert event == {
        ("invoice_lines", "invoice_date"),
        ("time_entries", "work_date"),
        ("churn_events", "notice_date"),
    }


def test_agreement_line_quantity_and_price_may_not_be_negative() -> None:
    """A negative seat count or price would cut MRR; invoice lines may be credits."""
    lines = TABLES_BY_NAME["agreement_lines"]
    assert lines.column("quantity").non_negative and lines.column("unit_price").non_negative
    invoices = TABLES_BY_NAME["invoice_lines"]
    assert not invoices.column("quantity").non_negative
    assert not invoices.column("extended_price").non_negative


def test_the_revenue_types_macro_lists_the_contract_revenue_types() -> None:
    """The list the finance and penetration models generate their columns from."""
    macro = REVENUE_TYPES_MACRO.read_text()
    listed = re.search(r"return\(\[(.*?)\]\)", macro, re.DOTALL)
    assert listed, "revenue_types returns no list"
    assert tuple(re.findall(r"'(\w+)'", listed[1])) == REVENUE_TYPES


def test_the_service_revenue_types_macro_matches_the_contract() -> None:
    """revenue_service_ttm adds up the types service_revenue_types() keeps."""
    macro = (PROJECT_DIR / "macros" / "service_revenue_types.sql").read_text()
    assert "revenue_types()" in macro
    rejected = set(re.findall(r"reject\('equalto', '(\w+)'\)", macro))
    assert rejected, "service_revenue_types rejects no revenue type"
    kept = tuple(t for t in REVENUE_TYPES if t not in rejected)
    assert kept == SERVICE_REVENUE_TYPES
