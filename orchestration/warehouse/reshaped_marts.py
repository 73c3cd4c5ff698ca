"""Monthly marts whose columns changed since the warehouse was built: rebuilt whole by the run.

The monthly snapshot marts are incremental: a run replaces its months and keeps the others, and
dbt stops on a schema change (``on_schema_change: fail``). A version of the project that adds,
removes, renames, reorders or retypes a mart's columns would make the first month-end run on a
warehouse built by the version before fail. Appending the new column instead
(``append_new_columns``) would leave it empty in every month the run does not rebuild: a gap in
the marts that nothing reports.

So before ``dbt build`` a run compares each incremental model's relation in its candidate with
the model's contract (column names, order and types, as DuckDB spells them) and drops every
mart that differs. dbt then builds it as on a first build: every month of the data (the month
filter of ``in_rebuilt_months`` applies to incremental runs only), and every month of it is
tested. The served file is untouched until the run publishes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from orchestration.warehouse.connection import relation_columns


@dataclass(frozen=True)
class ReshapedMart:
    """An incremental model whose relation's columns differ from its contract."""

    name: str
    relation: str
    #: (name, type) of the relation's columns, in order.
    built: tuple[tuple[str, str], ...]
    #: (name, type) of the contract's columns, in order.
    contracted: tuple[tuple[str, str], ...]

    def describe(self) -> str:
        built = {name for name, _ in self.built}
        contracted = {name for name, _ in self.contracted}
        parts = []
        if contracted - built:
            parts.append(f"added {', '.join(sorted(contracted - built))}")
        if built - contracted:
            parts.append(f"removed {', '.join(sorted(built - contracted))}")
        if not parts:
            parts.append("columns reordered or retyped")
        return f"{self.relation} ({'; '.join(parts)})"


def canonical_type(con: duckdb.DuckDBPyConnection, sql_type: str) -> str:
    """``sql_type`` as DuckDB names it (``decimal(38, 4)`` is ``DECIMAL(38,4)``, ``text`` is
    ``VARCHAR``)."""
    return con.execute(f"select typeof(cast(null as {sql_type}))").fetchone()[0]


def reshaped_marts(
    con: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any]
) -> list[ReshapedMart]:
    """The incremental models of ``manifest`` with an enforced contract whose relation exists in
    ``con``'s warehouse with other columns than the contract's, sorted by name."""
    found = []
    for node in manifest["nodes"].values():
        config = node.get("config") or {}
        if node.get("resource_type") != "model" or config.get("materialized") != "incremental":
            continue
        if not (config.get("contract") or {}).get("enforced"):
            continue
        table = node.get("alias") or node["name"]
        built = tuple(relation_columns(con, node["schema"], table))
        if not built:
            continue
        contracted = tuple(
            (name, canonical_type(con, column["data_type"]))
            for name, column in node["columns"].items()
        )
        if built != contracted:
            found.append(ReshapedMart(node["name"], f"{node['schema']}.{table}", built, contracted))
    return sorted(found, key=lambda mart: mart.name)


def drop_reshaped_marts(
    con: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any]
) -> list[ReshapedMart]:
    """Drop the :func:`reshaped_marts` of ``con``'s warehouse (a run's candidate, never the
    served file); returns them."""
    reshaped = reshaped_marts(con, manifest)
    for mart in reshaped:
        con.execute(f"drop table {mart.relation}")
    return reshaped
