"""The scoring tables' descriptions (models/scoring/_scoring__sources.yml) and their comments."""

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.scoring.descriptions import scoring_descriptions
from orchestration.scoring.pipeline import SCHEMA, TABLE_TYPES, write_snapshot


def test_every_scoring_table_and_column_is_described_in_order() -> None:
    described = scoring_descriptions()
    assert set(described) == set(TABLE_TYPES)
    for table, types in TABLE_TYPES.items():
        assert list(described[table].columns) == list(types), table


def test_a_description_with_jinja_or_none_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sources.yml"
    path.write_text(
        "sources:\n  - name: scoring\n    tables:\n      - name: t\n"
        "        description: \"{{ doc('x') }}\"\n"
    )
    with pytest.raises(ValueError, match="without Jinja"):
        scoring_descriptions(path)
    path.write_text("sources:\n  - name: scoring\n    tables:\n      - name: t\n")
    with pytest.raises(ValueError, match="scoring.t has no description"):
        scoring_descriptions(path)


def test_a_written_snapshot_carries_the_descriptions_as_comments() -> None:
    con = duckdb.connect()
    frame = pd.DataFrame(
        {
            "as_of_month": [date(2026, 1, 1)],
            "customer_id": ["c1"],
            "customer_name": ["Acme"],
            "churn_probability_3m": [0.25],
            "risk_band": ["high"],
            "model_version": ["v"],
            "holdout_auc": [0.7],
            "baseline_auc": [0.6],
            "trained_through_month": [date(2025, 10, 1)],
        }
    )
    write_snapshot(con, "churn_risk_scores", frame, date(2026, 1, 1))
    comments = dict(
        con.execute(
            "select column_name, comment from duckdb_columns() "
            "where schema_name = ? and table_name = 'churn_risk_scores'",
            [SCHEMA],
        ).fetchall()
    )
    assert (
        comments["risk_band"]
        == "high (at least 2x the training churn rate), medium (above it) or low."
    )
    assert all(comments.values())
    (table_comment,) = con.execute(
        "select comment from duckdb_tables() where table_name = 'churn_risk_scores'"
    ).fetchall()[0]
    assert table_comment.startswith("One row per as_of_month and customer with MRR then")
