"""The dbt exposures list exactly the tables their readers query.

``models/_exposures.yml`` declares what reads the marts outside dbt. A reader that starts to
query another table, or stops, must change its exposure too, or the docs' lineage and
``dbt ls --select +exposure:<name>`` would be wrong: the tables each exposure depends on must
equal the ``marts.<table>`` and ``scoring.<table>`` names in the reader's own files.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
EXPOSURES = PROJECT_DIR / "models" / "_exposures.yml"

#: Each exposure and the files (globs under the project) holding the SQL its reader runs.
READERS = {
    "month_end_report": ("orchestration/reports/queries.py",),
    "superset_portfolio_dashboard": ("superset/dashboard/**/*.yaml",),
}

TABLE_NAME = re.compile(r"\b(marts|scoring)\.([a-z_]+)\b")
DEPENDENCY = re.compile(r"^(?:ref\('([a-z_]+)'\)|source\('scoring', '([a-z_]+)'\))$")


def exposures() -> dict[str, dict]:
    return {e["name"]: e for e in yaml.safe_load(EXPOSURES.read_text())["exposures"]}


def declared_tables(exposure: dict) -> set[str]:
    """``marts.<model>`` for each ref, ``scoring.<table>`` for each scoring source."""
    tables = set()
    for dependency in exposure["depends_on"]:
        match = DEPENDENCY.match(dependency)
        assert match, f"{exposure['name']}: unexpected dependency {dependency}"
        model, score = match.groups()
        tables.add(f"marts.{model}" if model else f"scoring.{score}")
    return tables


def queried_tables(patterns: tuple[str, ...]) -> set[str]:
    files = [path for pattern in patterns for path in PROJECT_DIR.glob(pattern)]
    assert files, f"no file matches {patterns}"
    return {
        f"{schema}.{table}"
        for path in files
        for schema, table in TABLE_NAME.findall(path.read_text())
    }


def test_every_exposure_has_a_reader() -> None:
    assert set(exposures()) == set(READERS)


@pytest.mark.parametrize("name", sorted(READERS))
def test_an_exposure_depends_on_exactly_the_tables_its_reader_queries(name: str) -> None:
    assert declared_tables(exposures()[name]) == queried_tables(READERS[name])


def test_the_reference_pattern_reads_both_kinds() -> None:
    assert declared_tables(
        {"name": "x", "depends_on": ["ref('customers')", "source('scoring', 'churn_risk_scores')"]}
    ) == {"marts.customers", "scoring.churn_risk_scores"}
