"""Models a run can keep: those whose inputs have not changed since the build the warehouse holds.

A run rebuilds the months it was asked for in the monthly snapshot marts (incremental). Every
other model is rebuilt whole, and most of them read only the landing data: the base models that
type and check every landing row (at 100,000 customers `base_landing__time_entries` checks
31.8 million rows), the views over them, the intermediate tables aggregating them and the audit
tables. On the same landing files such a model computes exactly the same rows again. A table or
view model's result depends only on

- the landing tables it reads, each identified by the loader's ``file_state`` of its latest load
  in ``landing.load_log`` (path, size, modification and change times, inode, encoding and
  contract: a table kept unchanged by the loader keeps its state);
- the export date (the latest load's ``loaded_at`` as a date), which sets the plausible-date
  window and appears in rejection details; it is what a model reads of ``landing.load_log``
  (``landing.reader_rejects``, the lines the reader could not parse, is identified by the
  states of every landing file);
- the models and seeds it references (their own inputs, recursively);
- its code: the model's SQL and configuration, every macro it calls (recursively), the landing
  contract (the sources' columns and meta), ``dbt_project.yml``, and the run's dbt vars other
  than its months (:data:`RUN_MONTH_VARS`).

A model that reads the run's months (:func:`reads_run_months`), an incremental model, and every
model downstream of one of those has no fingerprint: it is always rebuilt.
:func:`model_fingerprints` hashes the inputs of the others. After a successful dbt build the run
records them in ``audit.model_inputs`` (:func:`record_build`); the next run excludes from its
``dbt build`` every model whose fingerprint equals the recorded one and whose relation exists
(:func:`reusable_models`), and with them the data tests that read only kept models, which passed
on the same rows. A full refresh keeps nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import duckdb

from orchestration.warehouse.comments import TableDescription, comment_on
from orchestration.warehouse.connection import table_exists

#: Schema and table of the recorded fingerprints, inside the warehouse.
STATE_SCHEMA = "audit"
STATE_TABLE = "model_inputs"
STATE_DESCRIPTION = TableDescription(
    table=(
        "One row per dbt model the served file holds with known inputs: the fingerprint of "
        "what it was built from (landing files, code, vars). A month-end run keeps the models "
        "whose fingerprint has not changed instead of rebuilding them."
    ),
    columns={
        "unique_id": "The dbt node's unique_id (model.customer_portfolio.<name>).",
        "inputs_fingerprint": "Hash of the model's inputs when it was last built.",
        "recorded_at": "When the build that recorded it finished (UTC).",
    },
)
#: The dbt vars that choose a run's months and which months its tests read: they do not change
#: what a model rebuilt whole computes.
RUN_MONTH_VARS = frozenset({"as_of_month", "start_month", "end_month", "test_run_months_only"})
#: Macros that read the run's months: a model calling one is never kept.
RUN_MONTH_MACROS = frozenset({"partition_months", "in_partition"})
#: The landing source read for the export date, not for its rows.
LOAD_LOG = "load_log"
#: The landing source of the lines the reader could not parse, written from every file.
READER_REJECTS = "reader_rejects"
#: The state of an optional landing file that was not there (its table is empty).
ABSENT = "absent"


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _macros_called(manifest: Mapping[str, Any], node: Mapping[str, Any]) -> list[str]:
    """Every macro ``node`` calls, directly or through other macros, sorted."""
    seen: set[str] = set()
    pending = list(node.get("depends_on", {}).get("macros", []))
    while pending:
        macro_id = pending.pop()
        if macro_id in seen:
            continue
        seen.add(macro_id)
        macro = manifest["macros"].get(macro_id, {})
        pending.extend(macro.get("depends_on", {}).get("macros", []))
    return sorted(seen)


def reads_run_months(manifest: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    """Whether a model's result may depend on the run's months (a month var or macro)."""
    if any(f"'{name}'" in node.get("raw_code", "") for name in RUN_MONTH_VARS):
        return True
    return any(
        macro_id.rsplit(".", 1)[-1] in RUN_MONTH_MACROS
        for macro_id in _macros_called(manifest, node)
    )


def is_rebuilt_whole(node: Mapping[str, Any]) -> bool:
    """A model materialized as a table or view: each build computes all of it."""
    return node.get("resource_type") == "model" and (node.get("config") or {}).get(
        "materialized"
    ) in ("table", "view")


def code_fingerprint(manifest: Mapping[str, Any], node: Mapping[str, Any]) -> str:
    """Hash of what a model's SQL is made of: its code, configuration and macros."""
    return _digest(
        {
            "raw_code": node.get("raw_code"),
            "config": node.get("config"),
            "macros": {
                macro_id: manifest["macros"].get(macro_id, {}).get("macro_sql")
                for macro_id in _macros_called(manifest, node)
            },
        }
    )


def model_fingerprints(
    manifest: Mapping[str, Any],
    landing_states: Mapping[str, str | None],
    export_date: str | None,
    dbt_vars: Mapping[str, Any],
    project_config: str,
) -> dict[str, str]:
    """The inputs fingerprint of every model that can be kept, by unique id.

    ``landing_states`` maps a landing table to the ``file_state`` of its latest load (None:
    no file); ``export_date`` is the latest load's date; ``dbt_vars`` the run's vars;
    ``project_config`` the text of ``dbt_project.yml``. A model that is not rebuilt whole,
    reads the run's months, or depends on a model without a fingerprint or on another
    source has none: it is always rebuilt.
    """
    shared = _digest(
        {
            "vars": {k: v for k, v in dbt_vars.items() if k not in RUN_MONTH_VARS},
            "project": project_config,
            "export_date": export_date,
        }
    )
    nodes = manifest["nodes"]
    sources = manifest["sources"]
    fingerprints: dict[str, str] = {}
    unknown: set[str] = set()

    def fingerprint(unique_id: str) -> str | None:
        if unique_id in fingerprints:
            return fingerprints[unique_id]
        if unique_id in unknown:
            return None
        unknown.add(unique_id)  # also guards a cycle
        node = nodes.get(unique_id)
        if node is None or not is_rebuilt_whole(node) or reads_run_months(manifest, node):
            return None
        parts: dict[str, Any] = {"code": code_fingerprint(manifest, node), "shared": shared}
        for parent_id in node.get("depends_on", {}).get("nodes", []):
            if parent_id in sources:
                source = sources[parent_id]
                if source["name"] == LOAD_LOG:
                    parts[parent_id] = "export date"
                elif source["name"] == READER_REJECTS and all(landing_states.values()):
                    parts[parent_id] = sorted(landing_states.items())
                elif landing_states.get(source["name"]):
                    parts[parent_id] = {
                        "state": landing_states[source["name"]],
                        "columns": source.get("columns"),
                        "meta": source.get("meta"),
                    }
                else:
                    return None
            elif parent_id.startswith("seed."):
                parts[parent_id] = nodes[parent_id].get("checksum")
            else:
                parent = fingerprint(parent_id)
                if parent is None:
                    return None
                parts[parent_id] = parent
        unknown.discard(unique_id)
        fingerprints[unique_id] = _digest(parts)
        return fingerprints[unique_id]

    for unique_id in sorted(nodes):
        fingerprint(unique_id)
    return fingerprints


def landing_states(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, str | None], str | None]:
    """The ``file_state`` per landing table of the latest load (:data:`ABSENT` for an optional
    file that was not there, None when unknown), and that load's date.

    Empty when the warehouse has no load log yet.
    """
    if not table_exists(con, "landing", LOAD_LOG):
        return {}, None
    rows = con.execute(
        f"""
        select
            table_name,
            case when is_present then file_state else '{ABSENT}' end,
            cast(loaded_at as date)
        from landing.{LOAD_LOG}
        where loaded_at = (select max(loaded_at) from landing.{LOAD_LOG})
        """
    ).fetchall()
    export_date = str(rows[0][2]) if rows else None
    return {table: state for table, state, _ in rows}, export_date


def monthly_marts_present(con: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any]) -> bool:
    """Whether every monthly snapshot mart (incremental model) exists in the warehouse.

    Then a run that replaces some months leaves the others as an earlier run built and tested
    them, and may test only its own (dbt var ``test_run_months_only``); on a first build the
    marts are built whole and every month is tested.
    """
    marts = [
        node
        for node in manifest["nodes"].values()
        if node.get("resource_type") == "model"
        and (node.get("config") or {}).get("materialized") == "incremental"
    ]
    return bool(marts) and all(
        table_exists(con, node["schema"], node.get("alias") or node["name"]) for node in marts
    )


def recorded_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The fingerprints recorded by the build the warehouse holds, by unique id."""
    if not table_exists(con, STATE_SCHEMA, STATE_TABLE):
        return {}
    rows = con.execute(
        f"select unique_id, inputs_fingerprint from {STATE_SCHEMA}.{STATE_TABLE}"
    ).fetchall()
    return dict(rows)


def reusable_models(
    con: duckdb.DuckDBPyConnection,
    manifest: Mapping[str, Any],
    fingerprints: Mapping[str, str],
) -> list[str]:
    """Models whose recorded fingerprint equals ``fingerprints`` and whose relation
    exists in the warehouse: their names, parents before children (then by name)."""
    recorded = recorded_fingerprints(con)
    nodes = manifest["nodes"]
    kept: list[str] = []
    # Parents first, so that a model is kept only when every model it reads is kept too.
    for unique_id in topological(manifest, fingerprints):
        node = nodes[unique_id]
        parents = [
            parent
            for parent in node.get("depends_on", {}).get("nodes", [])
            if nodes.get(parent, {}).get("resource_type") == "model"
        ]
        if (
            recorded.get(unique_id) == fingerprints[unique_id]
            and all(parent in kept for parent in parents)
            and table_exists(con, node["schema"], node.get("alias") or node["name"])
        ):
            kept.append(unique_id)
    return [nodes[unique_id]["name"] for unique_id in kept]


def topological(manifest: Mapping[str, Any], unique_ids: Iterable[str]) -> list[str]:
    """``unique_ids`` ordered parents first: by the length of their longest chain of model
    parents, then by id."""
    nodes = manifest["nodes"]
    depths: dict[str, int] = {}

    def depth(unique_id: str) -> int:
        if unique_id not in depths:
            parents = [
                parent
                for parent in nodes[unique_id].get("depends_on", {}).get("nodes", [])
                if parent in nodes and nodes[parent].get("resource_type") == "model"
            ]
            depths[unique_id] = 1 + max((depth(parent) for parent in parents), default=0)
        return depths[unique_id]

    return sorted(unique_ids, key=lambda unique_id: (depth(unique_id), unique_id))


def record_build(
    con: duckdb.DuckDBPyConnection,
    fingerprints: Mapping[str, str],
    built: Iterable[str],
    *,
    complete: bool,
    now: datetime | None = None,
) -> None:
    """Record what a successful dbt build left in the warehouse.

    After a ``complete`` build (every model and test selected, some models kept) each model's
    relation matches its current ``fingerprints``. A partial build may have rebuilt
    a model from a parent it did not rebuild, so the models it ``built`` lose their record (the
    next build rebuilds them) and the others keep theirs.
    """
    if complete:
        recorded = dict(fingerprints)
    else:
        built_ids = set(built)
        recorded = {
            unique_id: fingerprint
            for unique_id, fingerprint in recorded_fingerprints(con).items()
            if unique_id not in built_ids
        }
    record_fingerprints(con, recorded, now)


def record_fingerprints(
    con: duckdb.DuckDBPyConnection, fingerprints: Mapping[str, str], now: datetime | None = None
) -> None:
    """Replace the recorded fingerprints with ``fingerprints``."""
    recorded_at = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    con.execute(f"create schema if not exists {STATE_SCHEMA}")
    con.execute(
        f"""
        create or replace table {STATE_SCHEMA}.{STATE_TABLE} (
            unique_id varchar not null primary key,
            inputs_fingerprint varchar not null,
            recorded_at timestamp not null
        )
        """
    )
    comment_on(con, f"{STATE_SCHEMA}.{STATE_TABLE}", STATE_DESCRIPTION)
    rows: Iterable[tuple[str, str, datetime]] = (
        (unique_id, fingerprint, recorded_at)
        for unique_id, fingerprint in sorted(fingerprints.items())
    )
    con.executemany(f"insert into {STATE_SCHEMA}.{STATE_TABLE} values (?, ?, ?)", list(rows))


def kept_nodes(manifest: Mapping[str, Any], kept_models: Iterable[str]) -> list[str]:
    """The dbt nodes a run leaves out when it keeps ``kept_models``: those models and every
    data test that reads only them and the landing sources they read (names, sorted).

    A kept model's fingerprint holds the state of every landing source it reads, so such a
    source is unchanged too. A test that also reads a model the run rebuilds (a mart's
    relationship to a staging model, a reconciliation of a mart against staging) runs.
    """
    kept = set(kept_models)
    nodes = manifest["nodes"]
    kept_ids = {
        unique_id
        for unique_id, node in nodes.items()
        if node.get("resource_type") == "model" and node["name"] in kept
    }
    unchanged = kept_ids | {
        parent
        for unique_id in kept_ids
        for parent in nodes[unique_id].get("depends_on", {}).get("nodes", [])
        if parent in manifest["sources"]
    }
    tests = [
        node["name"]
        for node in nodes.values()
        if node.get("resource_type") == "test"
        and node.get("depends_on", {}).get("nodes")
        and set(node["depends_on"]["nodes"]) <= unchanged
    ]
    return sorted(kept) + sorted(tests)
