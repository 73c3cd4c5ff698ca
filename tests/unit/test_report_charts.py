"""The month-end report's pure parts: chart data from hand-made frames, figures checked by hand."""

import json
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from orchestration.reports import charts, render
from orchestration.reports.queries import ReportError


def test_pareto_points_start_at_the_origin_and_follow_the_rank() -> None:
    # Revenues 400, 300, 200, 100 (total 1000), given out of rank order.
    frame = pd.DataFrame(
        {
            "revenue_rank": [3, 1, 4, 2],
            "cumulative_customer_share": [0.75, 0.25, 1.0, 0.5],
            "cumulative_revenue_share": [0.9, 0.4, 1.0, 0.7],
        }
    )
    x, y = charts.pareto_points(frame)
    assert x == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert y == [0.0, 0.4, 0.7, 0.9, 1.0]
    figure = charts.pareto_figure(frame)
    assert list(figure.data[0].x) == x and list(figure.data[0].y) == y
    # The 80 % line.
    assert [shape.y0 for shape in figure.layout.shapes] == [0.8]


BRIDGE = {
    "starting_mrr": Decimal("1000.50"),
    "new_mrr": Decimal("50"),
    "expansion_mrr": Decimal("30.25"),
    "reactivation_mrr": Decimal("20"),
    "contraction_mrr": Decimal("10"),
    "churned_mrr": Decimal("40.75"),
    # 1000.50 + 50 + 30.25 + 20 - 10 - 40.75
    "ending_mrr": Decimal("1050.00"),
}


def test_waterfall_steps_add_increases_and_subtract_decreases() -> None:
    steps = charts.waterfall_steps(BRIDGE)
    assert steps == [
        ("Starting MRR", "absolute", 1000.5),
        ("New", "relative", 50.0),
        ("Expansion", "relative", 30.25),
        ("Reactivation", "relative", 20.0),
        ("Contraction", "relative", -10.0),
        ("Churned", "relative", -40.75),
        ("Ending MRR", "total", 1050.0),
    ]
    assert sum(value for _, measure, value in steps if measure != "total") == 1050.0


def test_waterfall_figure_draws_the_steps_on_an_axis_that_shows_them() -> None:
    figure = charts.waterfall_figure(BRIDGE)
    trace = figure.data[0]
    assert list(trace.y) == [1000.5, 50.0, 30.25, 20.0, -10.0, -40.75, 1050.0]
    assert list(trace.measure) == ["absolute", *["relative"] * 5, "total"]
    low, high = figure.layout.yaxis.range
    # Levels run 1000.5 .. 1100.75 (after new, expansion and reactivation).
    assert low < 1000.5 and high > 1100.75


def test_figures_hold_plain_numbers_not_base64() -> None:
    # The report's tests read the figure JSON back from the page.
    spec = json.loads(charts.waterfall_figure(BRIDGE).to_json())
    assert spec["data"][0]["y"] == [1000.5, 50.0, 30.25, 20.0, -10.0, -40.75, 1050.0]


def test_transition_matrix_counts_new_and_lost_customers() -> None:
    frame = pd.DataFrame.from_records(
        [
            ("A", "A", "unchanged", 5),
            ("B", "A", "upgrade", 2),
            ("C", None, "lost", 1),
            (None, "D", "new", 3),
            ("D", float("nan"), "lost", 4),
        ],
        columns=["previous_classification", "classification", "transition", "customers"],
    )
    rows, columns, z = charts.transition_matrix(frame)
    assert rows == ["A", "B", "C", "D", "new"]
    assert columns == ["A", "B", "C", "D", "lost"]
    assert z == [
        [5, 0, 0, 0, 0],
        [2, 0, 0, 0, 0],
        [0, 0, 0, 0, 1],
        [0, 0, 0, 0, 4],
        [0, 0, 0, 3, 0],
    ]
    assert sum(map(sum, z)) == 15


def test_penetration_grid_orders_customers_by_rank_and_offerings_by_owners() -> None:
    frame = pd.DataFrame.from_records(
        [
            (2, "Beta", "Backup", 1, 0.0, False),
            (2, "Beta", "Helpdesk", 2, 120.0, True),
            (1, "Alpha", "Backup", 1, 300.0, True),
            (1, "Alpha", "Helpdesk", 2, 80.0, True),
        ],
        columns=[
            "revenue_rank",
            "customer_name",
            "offering_name",
            "owning_customers",
            "revenue_ttm",
            "owns_offering",
        ],
    )
    names, offerings, owns, revenue = charts.penetration_grid(frame)
    assert names == ["Alpha", "Beta"]
    assert offerings == ["Helpdesk", "Backup"]  # two owners before one
    assert owns == [[1, 1], [1, 0]]
    assert revenue == [[80.0, 300.0], [120.0, 0.0]]


CHURN = pd.DataFrame.from_records(
    [
        ("E&A", "Price or budget", 1, 100.0),
        ("U&A", "Price or budget", 2, 250.0),
        ("U&A", "Moved to a competitor", 1, 400.0),
        ("U&U", "Acquired or merged", 1, 50.0),
    ],
    columns=["churn_quadrant", "reason", "events", "mrr_lost"],
)


def test_churn_totals_by_quadrant_show_every_quadrant_in_order() -> None:
    labels, values = charts.churn_totals(CHURN, "churn_quadrant")
    # No unclassified churn: its bar is left out; E&U shows as zero.
    assert labels == ["E&A", "E&U", "U&A", "U&U"]
    assert values == [100.0, 0.0, 650.0, 50.0]
    with_unknown = pd.concat(
        [CHURN, pd.DataFrame([["unclassified", "unrecorded", 1, 7.5]], columns=CHURN.columns)]
    )
    labels, values = charts.churn_totals(with_unknown, "churn_quadrant")
    assert labels[-1] == "unclassified" and values[-1] == 7.5


def test_churn_totals_by_reason_largest_first() -> None:
    labels, values = charts.churn_totals(CHURN, "reason")
    assert labels == ["Moved to a competitor", "Price or budget", "Acquired or merged"]
    assert values == [400.0, 350.0, 50.0]


def test_tile_data_value_is_exact() -> None:
    money = render.Tile("revenue_ttm", "TTM revenue", Decimal("15697696.8600"), "15,697,697")
    assert money.data_value == "15697696.8600"
    ratio = render.Tile("nrr", "NRR", 1.0937349851815321, "109.4 %")
    assert float(ratio.data_value) == 1.0937349851815321
    assert render.Tile("grr", "GRR", None, "n/a").data_value == ""


def test_formats() -> None:
    assert render.money(Decimal("1079276.6")) == "1,079,277"
    assert render.percent(0.9974) == "99.7 %"
    assert render.percent(None) == "n/a"
    assert render.report_file_name(date(2011, 12, 1)) == "month_end_2011-12.html"


def test_choose_month_defaults_to_the_latest_and_refuses_a_missing_one() -> None:
    months = [date(2011, 11, 1), date(2011, 12, 1)]
    assert render.choose_month(months, None) == date(2011, 12, 1)
    assert render.choose_month(months, date(2011, 11, 1)) == date(2011, 11, 1)
    with pytest.raises(ReportError, match="2012-01 is not an as_of_month"):
        render.choose_month(months, date(2012, 1, 1))
    with pytest.raises(ReportError, match="no as_of_month"):
        render.choose_month([], None)


def test_write_atomically_replaces_the_file_and_leaves_no_temporary(tmp_path) -> None:
    path = tmp_path / "out" / "month_end_2026-10.html"
    render.write_atomically(path, "old")
    assert render.write_atomically(path, "neu ü") == len("neu ü".encode())
    assert path.read_text(encoding="utf-8") == "neu ü"
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_evenly_spaced_keeps_the_first_and_the_last() -> None:
    assert charts.evenly_spaced(4, 10) == [0, 1, 2, 3]
    assert charts.evenly_spaced(11, 3) == [0, 5, 10]
    assert charts.evenly_spaced(10, 4) == [0, 3, 6, 9]
    assert charts.evenly_spaced(5, 1) == [4]


def test_a_long_pareto_curve_is_thinned_to_evenly_spaced_ranks() -> None:
    # 10 customers of equal revenue: rank r has cumulative shares r/10 and r/10.
    frame = pd.DataFrame(
        {
            "revenue_rank": range(1, 11),
            "cumulative_customer_share": [r / 10 for r in range(1, 11)],
            "cumulative_revenue_share": [r / 10 for r in range(1, 11)],
        }
    )
    x, y = charts.pareto_points(frame, limit=4)
    assert x == y == [0.0, 0.1, 0.4, 0.7, 1.0]  # ranks 1, 4, 7, 10


def test_the_quadrant_sample_keeps_the_largest_and_spaces_the_others(monkeypatch) -> None:
    monkeypatch.setattr(charts, "QUADRANT_TOP", 2)
    frame = pd.DataFrame(
        {
            "revenue_rank": [8, 7, 6, 5, 4, 3, 2, 1],
            "classification": ["A", "B", "C", "D", "C", "D", "C", "D"],
        }
    )
    assert charts.quadrant_sample(frame, limit=8) is frame
    sample = charts.quadrant_sample(frame, limit=4)
    # Ranks 1 and 2, then the first and the last of ranks 3..8.
    assert sample["revenue_rank"].tolist() == [1, 2, 3, 8]
