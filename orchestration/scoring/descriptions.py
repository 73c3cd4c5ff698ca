"""Descriptions of the scoring tables, from the dbt sources that declare them.

``models/scoring/_scoring__sources.yml`` declares the ``scoring`` tables as dbt sources, so the
docs site shows them with their columns and lineage. The writers set the same descriptions as
DuckDB comments on the tables they write (:func:`orchestration.scoring.pipeline.write_snapshot`),
so one file defines every scoring column for dbt, BI tools and SQL clients.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from orchestration.settings import PROJECT_DIR
from orchestration.warehouse.comments import TableDescription

#: The dbt sources file of the scoring schema.
SOURCES_FILE = PROJECT_DIR / "models" / "scoring" / "_scoring__sources.yml"


def _text(value: object, where: str) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise ValueError(f"{where} has no description")
    if "{{" in text or "{%" in text:
        raise ValueError(f"{where}: the scoring sources are read without Jinja; write plain text")
    return text


@cache
def scoring_descriptions(path: Path = SOURCES_FILE) -> dict[str, TableDescription]:
    """Each scoring table's description and its columns', keyed by table name.

    Raises:
        ValueError: the file declares no ``scoring`` source, or a table or column has no
            description, or a description holds Jinja.
    """
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    sources = [source for source in document.get("sources", []) if source["name"] == "scoring"]
    if len(sources) != 1:
        raise ValueError(f"{path} must declare one source named scoring")
    return {
        table["name"]: TableDescription(
            table=_text(table.get("description"), f"scoring.{table['name']}"),
            columns={
                column["name"]: _text(
                    column.get("description"), f"scoring.{table['name']}.{column['name']}"
                )
                for column in table.get("columns", [])
            },
        )
        for table in sources[0].get("tables", [])
    }
