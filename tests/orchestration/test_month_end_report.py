"""The month-end report on warehouses built by the real job, checked against the marts and in a
browser.

Two warehouses built once per test session (conftest's ``served_demo`` and ``served_old``) with
scoring: the demo, by ``portfolio_job`` (14 months ending 2026-10), and an export that ended
years ago without the optional ``time_entries`` and ``churn_events`` files (14 months ending
2012-03), by the run command. The job's report asset writes the report of each run's last
month; the command line writes one of an earlier month.
Every figure checked here is computed by this module's own SQL against the marts, not read from
the code under test. Headless Chromium (Debian's ``chromium`` and ``chromium-driver``, ``make
browser``), driven by Selenium, renders each report: every chart must draw, no script error may
be logged, and a screenshot per section is written (also into
``$PORTFOLIO_REPORT_SCREENSHOTS`` when set, to look at).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from html import unescape
from pathlib import Path

import duckdb
import pytest
from plotly.offline import get_plotlyjs
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from orchestration.months import month_add
from orchestration.reports.render import write_report
from tests.orchestration.conftest import (
    PROJECT_DIR,
    ServedDemo,
    ServedOld,
)

#: The earlier month rendered from the demo warehouse (no scores: the run scored 2026-10 only).
EARLIER_MONTH = date(2026, 1, 1)

SECTIONS = (
    "headline",
    "concentration",
    "quadrant",
    "service-economics",
    "transitions",
    "penetration",
    "whitespace",
    "mrr-bridge",
    "gross-profit-bridge",
    "retention-trend",
    "cohort-retention",
    "committed-mrr",
    "churn-quadrants",
    "churn-reasons",
    "retention-curves",
    "churn-risk",
    "cross-sell",
    "account-plan",
)
SCORING_SECTIONS = ("retention-curves", "churn-risk", "cross-sell")
#: Sections that show a table and no figure.
TABLE_SECTIONS = ("account-plan",)
CHART_SECTIONS = tuple(
    section for section in SECTIONS if section != "headline" and section not in TABLE_SECTIONS
)
PLOTLY_JS = get_plotlyjs()

#: Headless Chromium as root on a machine without a network: no sandbox, no GPU, and nothing
#: that calls out (background networking, component updates, sync, QUIC).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1280,1400",
)


@dataclass(frozen=True)
class Built:
    warehouse: Path
    report_dir: Path
    #: The files in report_dir right after the run (before any test wrote more).
    written_by_run: tuple[str, ...]


@pytest.fixture(scope="module")
def demo(served_demo: ServedDemo) -> Built:
    """The session's served demo warehouse and the report its run wrote (read only)."""
    return Built(
        served_demo.warehouse,
        served_demo.report_dir,
        tuple(sorted(p.name for p in served_demo.report_dir.iterdir())),
    )


@pytest.fixture(scope="module")
def old(served_old: ServedOld) -> Built:
    """The session's ``make build`` of the export ending 2012-03 and the report it wrote."""
    assert served_old.returncode == 0, served_old.stdout
    return Built(
        served_old.warehouse,
        served_old.report_dir,
        tuple(sorted(p.name for p in served_old.report_dir.iterdir())),
    )


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.reports", *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )


@dataclass(frozen=True)
class Rendered:
    name: str
    warehouse: Path
    month: date
    path: Path

    @property
    def html(self) -> str:
        return self.path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def reports(
    demo: Built, old: Built, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Rendered]:
    """The three reports: the runs' own (last months) and the command line's earlier month."""
    earlier_dir = tmp_path_factory.mktemp("earlier_report")
    earlier = run_cli(
        "--month",
        f"{EARLIER_MONTH:%Y-%m}",
        "--warehouse",
        str(demo.warehouse),
        "--output-dir",
        str(earlier_dir),
    )
    assert earlier.returncode == 0, earlier.stderr
    return {
        "last": Rendered(
            "last", demo.warehouse, date(2026, 10, 1), demo.report_dir / "month_end_2026-10.html"
        ),
        "earlier": Rendered(
            "earlier", demo.warehouse, EARLIER_MONTH, earlier_dir / "month_end_2026-01.html"
        ),
        "old": Rendered(
            "old", old.warehouse, date(2012, 3, 1), old.report_dir / "month_end_2012-03.html"
        ),
    }


REPORTS = ("last", "earlier", "old")


# --- reading the page ------------------------------------------------------------------------


def section_html(html: str, section: str) -> str:
    start = html.index(f'<section id="{section}"')
    return html[start : html.index("</section>", start)]


def tiles(html: str) -> dict[str, str]:
    return dict(re.findall(r'id="tile-([a-z0-9_]+)" data-value="([^"]*)"', html))


def figure(html: str, section: str) -> tuple[list[dict], dict]:
    """The data and layout of a section's figure, from its ``Plotly.newPlot`` call."""
    part = section_html(html, section)
    decoder = json.JSONDecoder()
    position = part.index("Plotly.newPlot(") + len("Plotly.newPlot(")
    values = []
    for _ in range(3):  # the div id, the data, the layout
        while part[position] in " \n\t,":
            position += 1
        value, position = decoder.raw_decode(part, position)
        values.append(value)
    div_id, data, layout = values
    assert div_id == f"chart-{section}"
    return data, layout


def table_rows(html: str, section: str, key: str) -> list[list[str]]:
    """The cells (text, tags removed) of each body row of the section's ``data-table`` table."""
    part = section_html(html, section)
    start = part.index(f'<table data-table="{key}"')
    body = part[part.index("<tbody>", start) : part.index("</tbody>", start)]
    return [
        [
            unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    ]


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


# --- the run's asset and the command line ----------------------------------------------------


def test_the_run_writes_the_report_of_its_last_month(demo: Built, old: Built) -> None:
    assert demo.written_by_run == ("month_end_2026-10.html",)
    assert old.written_by_run == ("month_end_2012-03.html",)


def test_the_command_line_fails_clearly(demo: Built, tmp_path: Path) -> None:
    out = tmp_path / "out"
    missing = run_cli("--warehouse", str(tmp_path / "nowhere.duckdb"), "--output-dir", str(out))
    assert missing.returncode == 2
    assert "no warehouse at" in missing.stderr and "nowhere.duckdb" in missing.stderr
    absent_month = run_cli(
        "--month", "2019-05", "--warehouse", str(demo.warehouse), "--output-dir", str(out)
    )
    assert absent_month.returncode == 2
    assert "2019-05 is not an as_of_month of the warehouse (2025-09 to 2026-10)" in (
        absent_month.stderr
    )
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    not_built = run_cli("--warehouse", str(empty), "--output-dir", str(out))
    assert not_built.returncode == 2 and "not a built warehouse" in not_built.stderr
    assert not out.exists()


# --- what the page holds ---------------------------------------------------------------------


@pytest.mark.parametrize("name", REPORTS)
def test_the_page_is_self_contained(reports: dict[str, Rendered], name: str) -> None:
    html = reports[name].html
    assert html.count(PLOTLY_JS) == 1, "plotly.js must be inlined exactly once"
    # Outside plotly.js: no external script, style sheet or link to another site.
    page = html.replace(PLOTLY_JS, "")
    assert "plotly.js v" not in page
    assert "<script src" not in page and "<link" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert html.count("Plotly.newPlot(") == html.count('class="figure"')


@pytest.mark.parametrize("name", REPORTS)
def test_every_section_has_a_heading_a_reading_and_a_figure_or_says_no_data(
    reports: dict[str, Rendered], name: str
) -> None:
    html = reports[name].html
    for section in SECTIONS:
        part = section_html(html, section)
        assert re.search(r"<h2>[^<]+</h2>", part), section
        assert re.search(r'<p class="how">[^<]{40,}</p>', part), section
        if section in TABLE_SECTIONS:
            assert ("<table" in part) != ("No data for this month." in part), section
        elif section != "headline":
            has_figure = 'class="figure"' in part
            says_empty = "No data for this month." in part
            assert has_figure != says_empty, section


def sections_without_data(html: str) -> set[str]:
    return {s for s in CHART_SECTIONS if "No data for this month." in section_html(html, s)}


def test_the_last_month_has_data_in_every_section(reports: dict[str, Rendered]) -> None:
    assert sections_without_data(reports["last"].html) == set()


def test_an_unscored_month_says_so_in_the_scoring_sections(reports: dict[str, Rendered]) -> None:
    html = reports["earlier"].html
    assert sections_without_data(html) == set(SCORING_SECTIONS)
    assert "Not scored as of 2026-01" in section_html(html, "churn-risk")


def test_the_old_export_without_optional_tables_still_reports(reports: dict[str, Rendered]) -> None:
    html = reports["old"].html
    assert "Month-end report: March 2012" in html
    # No churn_events file: only churn the MRR shows (unrecorded), if any, in the window.
    (events,) = query(
        reports["old"].warehouse,
        "select count(*) from marts.churn_events where effective_month "
        "between date '2011-04-01' and date '2012-03-01'",
    )[0]
    expected_empty = set(SCORING_SECTIONS) & sections_without_data(html)
    assert expected_empty == set()  # the run scored its last month
    assert ("churn-quadrants" in sections_without_data(html)) == (events == 0)


def test_a_warehouse_without_scoring_tables_says_no_data(demo: Built, tmp_path: Path) -> None:
    copy = tmp_path / "unscored.duckdb"
    shutil.copyfile(demo.warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("drop schema scoring cascade")
    report = write_report(copy, tmp_path / "out")
    assert report.month == date(2026, 10, 1)
    html = report.path.read_text(encoding="utf-8")
    assert sections_without_data(html) == set(SCORING_SECTIONS)
    assert "This warehouse has no scoring tables." in section_html(html, "cross-sell")


def test_a_scored_month_without_scores_says_it_was_scored(demo: Built, tmp_path: Path) -> None:
    # The run scored 2026-10 and found nothing (as on an export without recurring revenue).
    copy = tmp_path / "scored_empty.duckdb"
    shutil.copyfile(demo.warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("delete from scoring.churn_risk_scores")
    html = write_report(copy, tmp_path / "out").path.read_text(encoding="utf-8")
    assert "churn-risk" in sections_without_data(html)
    assert "Scored as of 2026-10, with nothing to show" in section_html(html, "churn-risk")
    assert "Not scored" not in html


# --- the figures equal the marts -------------------------------------------------------------


def expected_tiles(warehouse: Path, month: date) -> dict[str, object]:
    """The headline figures recomputed from the customer-grain marts."""
    customers, revenue, hhi = query(
        warehouse,
        "select count(*), sum(revenue_ttm), sum(power(100 * revenue_share, 2)) "
        "from marts.customer_concentration where as_of_month = ?",
        [month],
    )[0]
    start, new, expansion, contraction, churned, reactivation, mrr = query(
        warehouse,
        """
        select
            sum(previous_mrr),
            sum(case when movement = 'new' then mrr else 0 end),
            sum(case when movement = 'expansion' then mrr_change else 0 end),
            sum(case when movement = 'contraction' then -mrr_change else 0 end),
            sum(case when movement = 'churn' then previous_mrr else 0 end),
            sum(case when movement = 'reactivation' then mrr else 0 end),
            sum(mrr)
        from marts.mrr_movements where as_of_month = ?
        """,
        [month],
    )[0]
    then_mrr, now_mrr, capped = query(
        warehouse,
        """
        select sum(cohort.mrr), sum(coalesce(now.mrr, 0)),
            sum(least(coalesce(now.mrr, 0), cohort.mrr))
        from marts.mrr_movements as cohort
        left join marts.mrr_movements as now
            on now.customer_id = cohort.customer_id and now.as_of_month = ?
        where cohort.as_of_month = ? and cohort.mrr > 0
        """,
        [month, month_add(month, -12)],
    )[0]
    (tcp_full,) = query(
        warehouse,
        "select avg(case when in_tcp and is_on_full_package then 1.0 else 0.0 end) "
        "from marts.customer_cross_sell where as_of_month = ?",
        [month],
    )[0]

    def ratio(numerator, denominator):
        return None if not denominator else float(numerator) / float(denominator)

    gained, lost = new + expansion + reactivation, contraction + churned

    return {
        "active_customers": customers,
        "revenue_ttm": revenue,
        "mrr": mrr,
        "grr": ratio(start - contraction - churned, start),
        "nrr": ratio(start + expansion - contraction - churned, start),
        "grr_12m": ratio(capped, then_mrr),
        "nrr_12m": ratio(now_mrr, then_mrr),
        "hhi": hhi,
        "pct_in_tcp_and_full_package": tcp_full,
        "quick_ratio": ratio(gained, lost),
        "bridge": [start, new, expansion, reactivation, -contraction, -churned, mrr],
    }


@pytest.mark.parametrize("name", REPORTS)
def test_the_tiles_equal_the_marts(reports: dict[str, Rendered], name: str) -> None:
    report = reports[name]
    shown = tiles(report.html)
    expected = expected_tiles(report.warehouse, report.month)
    assert int(shown["active_customers"]) == expected["active_customers"] > 0
    # Money exactly, as decimals.
    assert Decimal(shown["revenue_ttm"]) == expected["revenue_ttm"] > 0
    assert Decimal(shown["mrr"]) == expected["mrr"] > 0
    keys = ("grr", "nrr", "grr_12m", "nrr_12m", "hhi", "pct_in_tcp_and_full_package", "quick_ratio")
    for key in keys:
        if expected[key] is None:
            assert shown[key] == "", key
        else:
            assert float(shown[key]) == pytest.approx(float(expected[key]), rel=1e-9), key
    # The demo's last month has a full 12-month cohort; the old export's too (14 months).
    if name != "earlier":
        assert shown["nrr_12m"] != ""


@pytest.mark.parametrize("name", REPORTS)
def test_the_waterfall_is_the_month_s_mrr_bridge(reports: dict[str, Rendered], name: str) -> None:
    report = reports[name]
    data, _ = figure(report.html, "mrr-bridge")
    expected = [float(v) for v in expected_tiles(report.warehouse, report.month)["bridge"]]
    assert data[0]["type"] == "waterfall"
    assert data[0]["x"] == [
        "Starting MRR",
        "New",
        "Expansion",
        "Reactivation",
        "Contraction",
        "Churned",
        "Ending MRR",
    ]
    assert data[0]["y"] == pytest.approx(expected, abs=1e-6)
    assert data[0]["measure"] == ["absolute", *["relative"] * 5, "total"]


@pytest.mark.parametrize("name", REPORTS)
def test_the_pareto_curve_is_the_cumulative_revenue_share_by_rank(
    reports: dict[str, Rendered], name: str
) -> None:
    report = reports[name]
    data, layout = figure(report.html, "concentration")
    rows = query(
        report.warehouse,
        """
        select
            row_number() over ranked / count(*) over (),
            sum(revenue_ttm) over ranked / sum(revenue_ttm) over ()
        from marts.customer_concentration
        where as_of_month = ?
        window ranked as (
            order by revenue_ttm desc, customer_id rows between unbounded preceding and current row
        )
        order by 1
        """,
        [report.month],
    )
    assert data[0]["x"] == pytest.approx([0.0] + [float(x) for x, _ in rows], rel=1e-9)
    assert data[0]["y"] == pytest.approx([0.0] + [float(y) for _, y in rows], rel=1e-9)
    assert [shape["y0"] for shape in layout["shapes"]] == [0.8]


@pytest.mark.parametrize("name", REPORTS)
def test_the_penetration_heatmap_shows_the_top_40_customers(
    reports: dict[str, Rendered], name: str
) -> None:
    report = reports[name]
    data, _ = figure(report.html, "penetration")
    top = query(
        report.warehouse,
        """
        select coalesce(customer_name, customer_id) from marts.customer_concentration
        where as_of_month = ? order by revenue_ttm desc, customer_id limit 40
        """,
        [report.month],
    )
    (owned,) = query(
        report.warehouse,
        """
        with top as (
            select customer_id from marts.customer_concentration where as_of_month = ?
            order by revenue_ttm desc, customer_id limit 40
        )
        select count(*) from marts.customer_offering_matrix
        where as_of_month = ? and owns_offering and customer_id in (select customer_id from top)
        """,
        [report.month, report.month],
    )[0]
    (offerings,) = query(
        report.warehouse,
        "select count(*) from marts.offering_penetration where as_of_month = ?",
        [report.month],
    )[0]
    assert data[0]["y"] == [name for (name,) in top]
    assert len(data[0]["x"]) == offerings
    assert sum(map(sum, data[0]["z"])) == owned > 0


@pytest.mark.parametrize("name", REPORTS)
def test_whitespace_by_offering_adds_up_to_the_portfolio_s(
    reports: dict[str, Rendered], name: str
) -> None:
    report = reports[name]
    data, _ = figure(report.html, "whitespace")
    (whitespace,) = query(
        report.warehouse,
        "select whitespace_revenue from marts.portfolio_cross_sell where as_of_month = ?",
        [report.month],
    )[0]
    assert sum(data[0]["x"]) == pytest.approx(float(whitespace), abs=0.01)
    assert whitespace > 0


@pytest.mark.parametrize("name", REPORTS)
def test_churned_mrr_by_quadrant_and_transitions_equal_the_marts(
    reports: dict[str, Rendered], name: str
) -> None:
    report = reports[name]
    html = report.html
    by_quadrant = dict(
        query(
            report.warehouse,
            "select churn_quadrant, sum(mrr_lost) from marts.churn_events "
            "where effective_month between ? and ? group by all",
            [month_add(report.month, -11), report.month],
        )
    )
    if by_quadrant:
        data, _ = figure(html, "churn-quadrants")
        shown = {
            label.split("<br>")[0]: value
            for label, value in zip(data[0]["x"], data[0]["y"], strict=True)
        }
        assert {k: v for k, v in shown.items() if v} == pytest.approx(
            {k: float(v) for k, v in by_quadrant.items() if v}, abs=1e-6
        )
    (quarter_end,) = query(
        report.warehouse,
        "select max(quarter_end_month) from marts.classification_transitions "
        "where quarter_end_month <= ?",
        [report.month],
    )[0]
    (moves,) = query(
        report.warehouse,
        "select count(*) from marts.classification_transitions where quarter_end_month = ?",
        [quarter_end],
    )[0]
    data, _ = figure(html, "transitions")
    assert sum(map(sum, data[0]["z"])) == moves > 0


def test_the_top_churn_risks_and_recommendations_name_the_customers(
    reports: dict[str, Rendered],
) -> None:
    report = reports["last"]
    risks = query(
        report.warehouse,
        """
        select customers.customer_name, scores.churn_probability_3m
        from scoring.churn_risk_scores as scores
        inner join marts.customers as customers using (customer_id)
        where scores.as_of_month = ?
        order by scores.churn_probability_3m desc, scores.customer_id limit 15
        """,
        [report.month],
    )
    data, _ = figure(report.html, "churn-risk")
    assert data[0]["y"][::-1] == [name for name, _ in risks]
    assert data[0]["x"][::-1] == pytest.approx([p for _, p in risks])
    (recommendations,) = query(
        report.warehouse,
        "select sum(expected_revenue) from (select expected_revenue "
        "from scoring.cross_sell_recommendations where as_of_month = ? "
        "order by expected_revenue desc limit 15)",
        [report.month],
    )[0]
    data, _ = figure(report.html, "cross-sell")
    assert sum(data[0]["x"]) == pytest.approx(float(recommendations), abs=0.01)


# --- the sections of the profitability, bridge, cohort and contract marts ---------------------


def percent_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f} %"


def optional_floats(values: list) -> list[float | None]:
    return [None if value is None else float(value) for value in values]


@pytest.mark.parametrize("name", REPORTS)
def test_service_economics_by_class_are_ratios_of_the_class_sums(
    reports: dict[str, Rendered], name: str
) -> None:
    report = reports[name]
    rows = query(
        report.warehouse,
        """
        with customers as (
            select classification.classification, profitability.*
            from marts.customer_profitability as profitability
            inner join marts.customer_classification as classification
                using (as_of_month, customer_id)
            where profitability.as_of_month = ?
        )

        select
            classification,
            sum(revenue_ttm - product_cost_ttm) / nullif(sum(labor_hours_ttm), 0),
            sum(service_margin_ttm) / nullif(sum(revenue_service_ttm), 0),
            sum(product_resale_margin_ttm) / nullif(sum(revenue_product_resale_ttm), 0)
        from customers
        group by rollup (classification)
        order by classification is null, classification
        """,
        [report.month],
    )
    data, _ = figure(report.html, "service-economics")
    assert data[0]["x"] == [cls or "all" for cls, *_ in rows] == data[1]["x"] == data[2]["x"]
    for trace, column in ((0, 1), (1, 2), (2, 3)):
        expected = optional_floats([row[column] for row in rows])
        shown = data[trace]["y"]
        assert [v is None for v in shown] == [v is None for v in expected], (trace, shown)
        assert [v for v in shown if v is not None] == pytest.approx(
            [v for v in expected if v is not None], rel=1e-9
        )
    # The demo has time entries, the old export none: no EHR there.
    assert (data[0]["y"][-1] is None) == (name == "old")


@pytest.mark.parametrize("name", REPORTS)
def test_the_agreement_tables_are_the_marts_rows(reports: dict[str, Rendered], name: str) -> None:
    report = reports[name]
    types = query(
        report.warehouse,
        "select agreement_type, agreements, gross_margin_pct "
        "from marts.agreement_type_profitability where as_of_month = ? "
        "order by revenue_ttm desc, agreement_type",
        [report.month],
    )
    shown = table_rows(report.html, "service-economics", "agreement-types")
    assert [(row[0], int(row[1].replace(",", ""))) for row in shown] == [
        (kind, count) for kind, count, _ in types
    ]
    assert [row[4] for row in shown] == [percent_text(margin) for *_, margin in types]
    over = query(
        report.warehouse,
        """
        select agreement_id from marts.agreement_profitability
        where as_of_month = ? and labor_hours_per_month > target_labor_hours_per_month
        order by labor_hours_per_month - target_labor_hours_per_month desc, agreement_id
        limit 10
        """,
        [report.month],
    )
    part = section_html(report.html, "service-economics")
    if over:
        shown = table_rows(report.html, "service-economics", "over-target")
        assert [row[1] for row in shown] == [agreement for (agreement,) in over]
    else:
        assert "No agreement over its target labour hours per month." in part
    if name != "old":
        assert over


@pytest.mark.parametrize("name", REPORTS)
def test_the_gross_profit_waterfall_is_the_month_s_bridge(
    reports: dict[str, Rendered], name: str
) -> None:
    report = reports[name]
    (row,) = query(
        report.warehouse,
        """
        select
            starting_gross_profit, new_gross_profit, expansion_gross_profit,
            reactivation_gross_profit, -contraction_gross_profit, -churned_gross_profit,
            margin_change, ending_gross_profit, nrr, gross_profit_nrr, grr, gross_profit_grr
        from marts.gross_profit_bridge where as_of_month = ?
        """,
        [report.month],
    )
    steps = [float(value) for value in row[:8]]
    data, _ = figure(report.html, "gross-profit-bridge")
    assert data[0]["type"] == "waterfall"
    assert data[0]["x"] == [
        "Starting GP",
        "New",
        "Expansion",
        "Reactivation",
        "Contraction",
        "Churned",
        "Margin change",
        "Ending GP",
    ]
    assert data[0]["y"] == pytest.approx(steps, abs=1e-6)
    # The bridge closes: the movements lead from the start to the end.
    assert sum(row[:7]) == row[7]
    shown = table_rows(report.html, "gross-profit-bridge", "retention")
    nrr, gp_nrr, grr, gp_grr = row[8:]
    assert shown == [
        ["NRR", percent_text(nrr), percent_text(gp_nrr)],
        ["GRR", percent_text(grr), percent_text(gp_grr)],
    ]


@pytest.mark.parametrize("name", REPORTS)
def test_the_cohort_triangle_is_net_revenue_retention_by_cohort(
    reports: dict[str, Rendered], name: str
) -> None:
    report = reports[name]
    rows = query(
        report.warehouse,
        """
        select cohort_month, months_since_start, retained_mrr / nullif(cohort_starting_mrr, 0)
        from marts.customer_cohort_retention
        where segment = 'all'
            and cohort_month > ? - interval 24 month
            and cohort_month + to_months(months_since_start) <= ?
        """,
        [report.month, report.month],
    )
    data, _ = figure(report.html, "cohort-retention")
    cohorts = sorted({cohort for cohort, _, _ in rows})
    months = sorted({month for _, month, _ in rows})
    assert [label.split(" ")[0] for label in data[0]["y"]] == [f"{c:%Y-%m}" for c in cohorts]
    assert data[0]["x"] == months and months[0] == 0
    cells = {(f"{cohort:%Y-%m}", month): value for cohort, month, value in rows}
    for label, line in zip(data[0]["y"], data[0]["z"], strict=True):
        for month, shown in zip(months, line, strict=True):
            expected = cells.get((label.split(" ")[0], month))
            if expected is None:
                assert shown is None, (label, month)
            else:
                assert shown == pytest.approx(float(expected), rel=1e-9), (label, month)
    # A triangle: the last cohort has only its first months.
    assert data[0]["z"][-1][-1] is None


@pytest.mark.parametrize("name", REPORTS)
def test_committed_mrr_bars_and_renewals_equal_the_marts(
    reports: dict[str, Rendered], name: str
) -> None:
    report = reports[name]
    committed = query(
        report.warehouse,
        "select forecast_month, committed_mrr from marts.committed_mrr "
        "where as_of_month = ? order by forecast_month",
        [report.month],
    )
    data, _ = figure(report.html, "committed-mrr")
    assert data[0]["x"] == [f"{month:%Y-%m}" for month, _ in committed]
    assert len(committed) == 12
    assert committed[0][0] == month_add(report.month, 1)
    assert data[0]["y"] == pytest.approx([float(mrr) for _, mrr in committed], abs=1e-6)
    renewals = query(
        report.warehouse,
        """
        select agreement_id, end_date from marts.renewal_calendar
        where as_of_month = ? and end_date <= last_day(?) + interval 90 day
        order by end_date, agreement_mrr desc, agreement_id
        """,
        [report.month, report.month],
    )
    if renewals:
        shown = table_rows(report.html, "committed-mrr", "renewals")
        assert [(row[1], row[3]) for row in shown] == [
            (agreement, f"{end:%Y-%m-%d}") for agreement, end in renewals
        ]
    else:
        part = section_html(report.html, "committed-mrr")
        assert "No agreement ends within 90 days of the month's end." in part


@pytest.mark.parametrize("name", REPORTS)
def test_the_account_plan_lists_the_top_ten_of_each_book(
    reports: dict[str, Rendered], name: str
) -> None:
    report = reports[name]
    plan = query(
        report.warehouse,
        """
        select account_manager, priority_rank, coalesce(customer_name, customer_id)
        from marts.account_plan
        where as_of_month = ? and priority_rank <= 10
        order by account_manager, priority_rank
        """,
        [report.month],
    )
    assert plan
    shown = table_rows(report.html, "account-plan", "account-plan")
    assert [(row[0], int(row[1]), row[2]) for row in shown] == plan


def test_a_warehouse_built_before_the_new_marts_says_they_are_not_built(
    demo: Built, tmp_path: Path
) -> None:
    copy = tmp_path / "before.duckdb"
    shutil.copyfile(demo.warehouse, copy)
    dropped = (
        "customer_profitability",
        "agreement_profitability",
        "agreement_type_profitability",
        "gross_profit_bridge",
        "customer_cohort_retention",
        "committed_mrr",
        "renewal_calendar",
        "account_plan",
    )
    with duckdb.connect(str(copy)) as con:
        kinds = dict(
            con.execute(
                "select table_name, table_type from information_schema.tables "
                "where table_schema = 'marts'"
            ).fetchall()
        )
        for table in dropped:
            if table in kinds:
                kind = "view" if kinds[table] == "VIEW" else "table"
                con.execute(f"drop {kind} marts.{table}")
        con.execute("alter table marts.retention_summary drop column quick_ratio")
    html = write_report(copy, tmp_path / "out").path.read_text(encoding="utf-8")
    for section, table in (
        ("service-economics", "customer_profitability"),
        ("gross-profit-bridge", "gross_profit_bridge"),
        ("cohort-retention", "customer_cohort_retention"),
        ("committed-mrr", "committed_mrr"),
        ("account-plan", "account_plan"),
    ):
        assert f"marts.{table} is not built in this warehouse" in section_html(html, section)
    assert tiles(html)["quick_ratio"] == ""
    assert sections_without_data(html) == {
        "service-economics",
        "gross-profit-bridge",
        "cohort-retention",
        "committed-mrr",
    }


# --- the browser -----------------------------------------------------------------------------


def installed(names: tuple[str, ...], package: str) -> str:
    for name in names:
        if path := shutil.which(name):
            return path
    pytest.fail(
        f"{names[0]} is not installed: run `make browser` (apt-get install {package}); the "
        "month-end report's browser tests need it",
        pytrace=False,
    )


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """One headless Chromium (Debian's ``chromium`` and ``chromium-driver``) for the module,
    driven by Selenium, with a fresh profile and the browser's console log kept."""
    options = webdriver.ChromeOptions()
    options.binary_location = installed(("chromium", "chromium-browser"), "chromium")
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = ChromeService(executable_path=installed(("chromedriver",), "chromium-driver"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


def open_report(browser: webdriver.Chrome, report: Rendered) -> list[str]:
    """Load the report and wait (up to a minute) until plotly has drawn as many charts as the
    page calls ``Plotly.newPlot``; returns the console's errors while loading. A chart that
    never draws is left to the test's assertions to report."""
    browser.get_log("browser")  # what an earlier page logged
    browser.get(report.path.as_uri())
    charts = report.html.count("Plotly.newPlot(")
    with contextlib.suppress(TimeoutException):
        WebDriverWait(browser, 60).until(
            lambda driver: (
                driver.execute_script(
                    "return document.readyState === 'complete' && "
                    "document.querySelectorAll('.js-plotly-plot svg.main-svg').length"
                )
                >= charts
            )
        )
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


@pytest.mark.parametrize("name", REPORTS)
def test_the_browser_draws_every_chart_without_script_errors(
    reports: dict[str, Rendered], name: str, browser: webdriver.Chrome
) -> None:
    report = reports[name]
    console = open_report(browser, report)
    assert console == [], console
    errors = browser.find_element(By.ID, "report-errors")
    assert errors.get_attribute("data-count") == "0", (
        f"script errors in the page: {errors.get_attribute('textContent')}"
    )
    drawn = []
    for section in CHART_SECTIONS:
        element = browser.find_element(By.ID, section)
        if not element.find_elements(By.CSS_SELECTOR, ".figure"):
            continue
        assert element.find_elements(By.CSS_SELECTOR, ".js-plotly-plot svg.main-svg"), (
            f"{section}: plotly drew nothing"
        )
        drawn.append(section)
    assert len(drawn) == report.html.count("Plotly.newPlot(") >= 9


def test_a_screenshot_per_section(
    reports: dict[str, Rendered], browser: webdriver.Chrome, tmp_path: Path
) -> None:
    report = reports["last"]
    folders = [tmp_path / "screenshots"]
    if os.environ.get("PORTFOLIO_REPORT_SCREENSHOTS"):
        folders.append(Path(os.environ["PORTFOLIO_REPORT_SCREENSHOTS"]))
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    assert open_report(browser, report) == []
    for section in SECTIONS:
        shot = folders[0] / f"{report.month:%Y-%m}_{section}.png"
        element = browser.find_element(By.ID, section)
        assert element.screenshot(str(shot)), section
        # A PNG of the section's width with something on it.
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(data[16:20], "big") == element.size["width"] > 600
        assert len(data) > 10_000, f"{section}: the screenshot is nearly blank"
        for folder in folders[1:]:
            shutil.copyfile(shot, folder / shot.name)
