"""Tests for orchestration.warehouse.reshaped_marts: incremental marts whose columns differ from
their contract are found and dropped; the others, and models of other materialisations, stay."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.warehouse.reshaped_marts import canonical_type, drop_reshaped_marts


def model(name: str, columns: dict[str, str], *, materialized: str = "incremental") -> dict:
    """A manifest node of a model in schema ``marts`` with an enforced contract."""
    return {
        "resource_type": "model",
        "name": name,
        "alias": name,
        "schema": "marts",
        "config": {"materialized": materialized, "contract": {"enforced": True}},
        "columns": {column: {"name": column, "data_type": t} for column, t in columns.items()},
    }


CONTRACT = {"as_of_month": "date", "customer_id": "varchar", "mrr": "decimal(38, 6)"}


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("create schema marts")
    yield connection
    connection.close()


def tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    }


def test_types_are_compared_as_duckdb_spells_them(con):
    assert canonical_type(con, "decimal(38, 6)") == "DECIMAL(38,6)"
    assert canonical_type(con, "text") == "VARCHAR"
    assert canonical_type(con, "int") == "INTEGER"


def test_only_incremental_marts_whose_columns_differ_are_dropped(con):
    con.execute("create table marts.same (as_of_month date, customer_id text, mrr decimal(38,6))")
    # An older version: no customer_name yet.
    con.execute(
        "create table marts.older (as_of_month date, customer_id varchar, mrr decimal(38,6))"
    )
    con.execute("create table marts.retyped (as_of_month date, customer_id varchar, mrr double)")
    con.execute("create table marts.reordered (customer_id varchar, as_of_month date, mrr double)")
    con.execute("create table marts.whole_table (as_of_month date)")
    named = {**CONTRACT, "customer_name": "varchar"}
    manifest = {
        "nodes": {
            "model.p.same": model("same", CONTRACT),
            "model.p.older": model("older", named),
            "model.p.retyped": model("retyped", CONTRACT),
            "model.p.reordered": model(
                "reordered", {"as_of_month": "date", "customer_id": "varchar", "mrr": "double"}
            ),
            # Rebuilt whole by every run anyway.
            "model.p.whole_table": model("whole_table", named, materialized="table"),
            # Not built yet: nothing to drop.
            "model.p.missing": model("missing", CONTRACT),
        }
    }
    dropped = drop_reshaped_marts(con, manifest)
    assert [mart.name for mart in dropped] == ["older", "reordered", "retyped"]
    assert tables(con) == {"same", "whole_table"}
    assert dropped[0].describe() == "marts.older (added customer_name)"
    assert dropped[1].describe() == "marts.reordered (columns reordered or retyped)"
    # A second run finds nothing more.
    assert drop_reshaped_marts(con, manifest) == []
