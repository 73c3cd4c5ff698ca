"""Which staging models a run may keep (orchestration/warehouse/kept_models.py).

The manifest here is a hand-made miniature of the real one: two landing sources and the load
log, a base model per source (the invoice lines' one references the customers'), a view over
each base model, a staging model that reads the run's months, an intermediate model, and tests.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from orchestration.warehouse import kept_models
from orchestration.warehouse.connection import connect_warehouse

CUSTOMERS = "source.customer_portfolio.landing.customers"
INVOICE_LINES = "source.customer_portfolio.landing.invoice_lines"
LOAD_LOG = "source.customer_portfolio.landing.load_log"
BASE_CUSTOMERS = "model.customer_portfolio.base_landing__customers"
BASE_INVOICES = "model.customer_portfolio.base_landing__invoice_lines"
STG_CUSTOMERS = "model.customer_portfolio.stg_landing__customers"
STG_INVOICES = "model.customer_portfolio.stg_landing__invoice_lines"
STG_MONTHLY = "model.customer_portfolio.stg_landing__invoices_of_the_run"
INT_MONTHS = "model.customer_portfolio.int_customer_months_aggregated"
MART = "model.customer_portfolio.customer_concentration"
FEATURES = "model.customer_portfolio.churn_risk_features"
VALIDATE = "macro.customer_portfolio.validate_landing_rows"
CONTRACT = "macro.customer_portfolio.landing_contract_columns"
PARTITION = "macro.customer_portfolio.partition_months"


def model(
    name: str, layer: str, parents: list[str], macros: tuple[str, ...] = (), **config: Any
) -> dict[str, Any]:
    return {
        "resource_type": "model",
        "name": name,
        "schema": layer,
        "fqn": ["customer_portfolio", layer, "landing", name],
        "raw_code": f"select * from {name}_inputs",
        "config": {"materialized": "table", **config},
        "depends_on": {"nodes": parents, "macros": list(macros)},
    }


def data_test(name: str, parents: list[str]) -> dict[str, Any]:
    return {
        "resource_type": "test",
        "name": name,
        "fqn": ["customer_portfolio", name],
        "depends_on": {"nodes": parents, "macros": []},
    }


def source(name: str) -> dict[str, Any]:
    return {"name": name, "columns": {"id": {"meta": {"type": "text"}}}, "meta": {}}


@pytest.fixture
def manifest() -> dict[str, Any]:
    return {
        "sources": {s: source(s.rsplit(".", 1)[-1]) for s in (CUSTOMERS, INVOICE_LINES, LOAD_LOG)},
        "macros": {
            VALIDATE: {"macro_sql": "validate v1", "depends_on": {"macros": [CONTRACT]}},
            CONTRACT: {"macro_sql": "contract v1", "depends_on": {"macros": []}},
            PARTITION: {"macro_sql": "months", "depends_on": {"macros": []}},
        },
        "nodes": {
            BASE_CUSTOMERS: model(
                "base_landing__customers", "staging", [CUSTOMERS, LOAD_LOG], [VALIDATE]
            ),
            BASE_INVOICES: model(
                "base_landing__invoice_lines",
                "staging",
                [INVOICE_LINES, LOAD_LOG, BASE_CUSTOMERS],
                [VALIDATE],
            ),
            STG_CUSTOMERS: model(
                "stg_landing__customers", "staging", [BASE_CUSTOMERS], materialized="view"
            ),
            STG_INVOICES: model(
                "stg_landing__invoice_lines", "staging", [BASE_INVOICES], materialized="view"
            ),
            STG_MONTHLY: model(
                "stg_landing__invoices_of_the_run", "staging", [BASE_INVOICES], [PARTITION]
            ),
            INT_MONTHS: model("int_customer_months_aggregated", "intermediate", [STG_INVOICES]),
            MART: model(
                "customer_concentration", "marts", [INT_MONTHS], materialized="incremental"
            ),
            FEATURES: model("churn_risk_features", "marts", [MART, STG_CUSTOMERS]),
            "test.unique_stg_customers": data_test("unique_stg_customers", [STG_CUSTOMERS]),
            "test.relationships_invoices_customers": data_test(
                "relationships_invoices_customers", [STG_INVOICES, STG_CUSTOMERS]
            ),
            "test.relationships_int_customers": data_test(
                "relationships_int_customers", [INT_MONTHS, STG_CUSTOMERS]
            ),
            "test.assert_landing_rows_reconcile": data_test(
                "assert_landing_rows_reconcile", [CUSTOMERS, BASE_CUSTOMERS]
            ),
            "test.assert_invoices_reconcile": data_test(
                "assert_invoices_reconcile", [INVOICE_LINES, BASE_CUSTOMERS]
            ),
        },
    }


STATES = {"customers": "customers.csv 100 bytes", "invoice_lines": "invoice_lines.csv 900 bytes"}


def fingerprints(manifest: dict[str, Any], **changes: Any) -> dict[str, str]:
    arguments: dict[str, Any] = {
        "landing_states": STATES,
        "export_date": "2026-11-30",
        "dbt_vars": {"as_of_month": "2026-10", "cut_off_month": "2026-10"},
        "project_config": "name: customer_portfolio",
    }
    arguments.update(changes)
    return kept_models.model_fingerprints(manifest, **arguments)


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    assert before.keys() == after.keys()
    return {unique_id for unique_id in before if before[unique_id] != after[unique_id]}


def test_models_reading_run_months_incremental_models_and_their_descendants_have_none(manifest):
    assert set(fingerprints(manifest)) == {
        BASE_CUSTOMERS,
        BASE_INVOICES,
        STG_CUSTOMERS,
        STG_INVOICES,
        INT_MONTHS,
    }


def test_a_changed_landing_file_changes_its_models_and_those_that_reference_them(manifest):
    before = fingerprints(manifest)
    customers_changed = fingerprints(
        manifest, landing_states={**STATES, "customers": "customers.csv 101 bytes"}
    )
    assert changed(before, customers_changed) == set(before)  # invoice lines reference it
    invoices_changed = fingerprints(
        manifest, landing_states={**STATES, "invoice_lines": "invoice_lines.csv 901 bytes"}
    )
    assert changed(before, invoices_changed) == {BASE_INVOICES, STG_INVOICES, INT_MONTHS}


def test_a_landing_file_of_unknown_state_leaves_its_models_without_a_fingerprint(manifest):
    kept = fingerprints(manifest, landing_states={**STATES, "invoice_lines": None})
    assert set(kept) == {BASE_CUSTOMERS, STG_CUSTOMERS}  # and not the intermediate table


def test_an_optional_file_that_appears_changes_its_models(manifest):
    absent = fingerprints(manifest, landing_states={**STATES, "invoice_lines": kept_models.ABSENT})
    assert changed(absent, fingerprints(manifest)) == {BASE_INVOICES, STG_INVOICES, INT_MONTHS}


def test_the_run_months_do_not_matter_but_other_vars_the_export_date_and_code_do(manifest):
    before = fingerprints(manifest)
    assert (
        fingerprints(manifest, dbt_vars={"as_of_month": "2026-11", "cut_off_month": "2026-10"})
        == before
    )
    assert (
        fingerprints(
            manifest,
            dbt_vars={"start_month": "2024-01", "end_month": "2026-10", "cut_off_month": "2026-10"},
        )
        == before
    )
    for change in (
        {"dbt_vars": {"as_of_month": "2026-10", "cut_off_month": "2026-09"}},
        {"export_date": "2026-12-01"},
        {"project_config": "name: customer_portfolio\nvars: {}"},
    ):
        assert changed(before, fingerprints(manifest, **change)) == set(before), change

    edited = copy.deepcopy(manifest)
    edited["macros"][CONTRACT]["macro_sql"] = "contract v2"  # called through validate
    assert changed(before, fingerprints(edited)) == set(before)

    edited = copy.deepcopy(manifest)
    edited["nodes"][STG_CUSTOMERS]["raw_code"] += " where true"
    assert changed(before, fingerprints(edited)) == {STG_CUSTOMERS}


def test_a_staging_model_reading_a_month_var_in_its_code_is_never_kept(manifest):
    manifest["nodes"][STG_CUSTOMERS]["raw_code"] += " where month = '{{ var('as_of_month') }}'"
    assert STG_CUSTOMERS not in fingerprints(manifest)


def test_kept_nodes_leave_out_tests_that_read_only_kept_models(manifest):
    assert kept_models.kept_nodes(
        manifest, ["stg_landing__customers", "stg_landing__invoice_lines"]
    ) == [
        "stg_landing__customers",
        "stg_landing__invoice_lines",
        "relationships_invoices_customers",
        "unique_stg_customers",
    ]
    # A test of a kept model against the landing table it reads is left out too; one against
    # a landing table no kept model reads runs.
    assert kept_models.kept_nodes(manifest, ["base_landing__customers"]) == [
        "base_landing__customers",
        "assert_landing_rows_reconcile",
    ]
    # The intermediate model is rebuilt, so its relationship test runs.
    assert "relationships_int_customers" not in kept_models.kept_nodes(
        manifest, ["stg_landing__customers"]
    )


def test_a_model_is_reusable_when_recorded_with_the_same_fingerprint_and_present(
    manifest, tmp_path: Path
):
    current = fingerprints(manifest)
    with connect_warehouse(tmp_path / "portfolio.duckdb") as con:
        assert kept_models.reusable_models(con, manifest, current) == []  # nothing recorded
        con.execute("create schema staging")
        for name in ("base_landing__customers", "base_landing__invoice_lines"):
            con.execute(f"create table staging.{name} as select 1 as id")
        con.execute("create view staging.stg_landing__customers as select 1 as id")
        con.execute("create schema intermediate")
        con.execute("create table intermediate.int_customer_months_aggregated as select 1 as id")
        stale = {**current, STG_CUSTOMERS: "an older fingerprint"}
        kept_models.record_fingerprints(con, stale, datetime(2026, 11, 30, tzinfo=UTC))
        # stg_landing__invoice_lines is recorded but absent, so the intermediate table over it
        # is rebuilt too; stg_landing__customers is stale.
        assert kept_models.reusable_models(con, manifest, current) == [
            "base_landing__customers",
            "base_landing__invoice_lines",
        ]
        # Parents first, whatever the names: a renamed parent still comes first.
        manifest["nodes"][BASE_CUSTOMERS]["name"] = "base_landing__zz_customers"
        con.execute(
            "alter table staging.base_landing__customers rename to base_landing__zz_customers"
        )
        assert kept_models.reusable_models(con, manifest, current) == [
            "base_landing__zz_customers",
            "base_landing__invoice_lines",
        ]


def test_a_partial_build_forgets_the_models_it_built(manifest, tmp_path: Path):
    current = fingerprints(manifest)
    with connect_warehouse(tmp_path / "portfolio.duckdb") as con:
        kept_models.record_build(con, current, [], complete=True)
        assert kept_models.recorded_fingerprints(con) == current
        kept_models.record_build(con, {}, [BASE_INVOICES, INT_MONTHS], complete=False)
        assert set(kept_models.recorded_fingerprints(con)) == set(current) - {
            BASE_INVOICES,
            INT_MONTHS,
        }


def test_landing_states_are_those_of_the_latest_load(tmp_path: Path):
    with connect_warehouse(tmp_path / "portfolio.duckdb") as con:
        assert kept_models.landing_states(con) == ({}, None)
        con.execute("create schema landing")
        con.execute(
            "create table landing.load_log (table_name varchar, is_present boolean, "
            "file_state varchar, loaded_at timestamp)"
        )
        con.execute(
            """
            insert into landing.load_log values
                ('customers', true, 'old state', '2026-10-31 08:00'),
                ('customers', true, 'new state', '2026-11-30 08:00'),
                ('churn_events', false, null, '2026-11-30 08:00'),
                ('time_entries', true, null, '2026-11-30 08:00')
            """
        )
        assert kept_models.landing_states(con) == (
            {"customers": "new state", "churn_events": "absent", "time_entries": None},
            "2026-11-30",
        )
