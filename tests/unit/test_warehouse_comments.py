"""Comments on the tables Python writes (orchestration/warehouse/comments.py)."""

from datetime import UTC, date, datetime

import duckdb
import pytest

from orchestration.warehouse import publish as wap
from orchestration.warehouse.comments import TableDescription, comment_on
from orchestration.warehouse.kept_models import STATE_SCHEMA, STATE_TABLE, record_fingerprints


def comments(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str | None]:
    (table_comment,) = con.execute(
        "select comment from duckdb_tables() where schema_name = ? and table_name = ?",
        [schema, table],
    ).fetchall()[0]
    columns = con.execute(
        """
        select column_name, comment from duckdb_columns()
        where schema_name = ? and table_name = ? order by column_index
        """,
        [schema, table],
    ).fetchall()
    return {"": table_comment, **dict(columns)}


def test_comments_are_set_with_quotes_kept() -> None:
    con = duckdb.connect()
    con.execute("create schema s")
    con.execute('create table s.t (a integer, "b c" varchar)')
    comment_on(con, "s.t", TableDescription("The customer's table.", {"a": "A's", "b c": "B"}))
    assert comments(con, "s", "t") == {"": "The customer's table.", "a": "A's", "b c": "B"}


def test_a_described_column_the_table_lacks_is_an_error_and_comments_nothing() -> None:
    con = duckdb.connect()
    con.execute("create schema s")
    con.execute("create table s.t (a integer)")
    with pytest.raises(ValueError, match="s.t has no column gone to describe"):
        comment_on(con, "s.t", TableDescription("T", {"a": "A", "gone": "G"}))
    assert comments(con, "s", "t") == {"": None, "a": None}


def test_the_publish_log_and_model_inputs_describe_every_column() -> None:
    con = duckdb.connect()
    wap.write_publish_log(
        con,
        wap.PublishRecord(
            run_id="r1",
            job_name="portfolio_job",
            first_month=date(2026, 1, 1),
            last_month=date(2026, 1, 1),
            full_refresh=False,
            row_counts={"marts.x": 1},
            published_at=datetime(2026, 2, 3, 8, 0, tzinfo=UTC),
            landing_fingerprint="f",
        ),
    )
    record_fingerprints(con, {"model.customer_portfolio.m": "h"})
    for schema, table in (("audit", "publish_log"), (STATE_SCHEMA, STATE_TABLE)):
        described = comments(con, schema, table)
        assert len(described) > 3
        assert [name for name, text in described.items() if not text] == []
