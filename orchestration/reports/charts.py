"""The report's figures: pure functions of the frames :mod:`orchestration.reports.queries`
returns, plotly figures out.

The data a figure draws is computed by a small helper that the unit tests check by hand
(:func:`pareto_points`, :func:`waterfall_steps`, :func:`transition_matrix`,
:func:`penetration_grid`, :func:`churn_totals`, :func:`gross_profit_waterfall_steps`,
:func:`cohort_grid`); the figure functions only lay it out. Values
go into the figures as plain lists, so the figure JSON embedded in the report holds the numbers
themselves (plotly encodes numpy arrays as base64), which the report's tests read back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

#: One colour per class, used by every figure that colours by class.
CLASS_COLOURS = {"A": "#2e7d32", "B": "#1565c0", "C": "#ef6c00", "D": "#c62828"}
SEGMENT_COLOURS = {**CLASS_COLOURS, "all": "#424242"}
RISK_COLOURS = {"high": "#c62828", "medium": "#ef6c00", "low": "#9e9e9e"}
CLASSES = ("A", "B", "C", "D")
#: The churn quadrants of marts.churn_events (expected/unexpected & avoidable/unavoidable).
CHURN_QUADRANTS = ("E&A", "E&U", "U&A", "U&U", "unclassified")
#: Labels of "no class" in the transition matrix: before (a new customer) and after (lost).
NO_CLASS_BEFORE = "new"
NO_CLASS_AFTER = "lost"
#: The Pareto line: the head of customers that earns 80 % of revenue.
PARETO_SHARE = 0.80
#: Most points of the Pareto curve, and most bubbles of the quadrant: a 100,000-customer
#: warehouse would otherwise put megabytes of points into the page and slow the browser down.
PARETO_MAX_POINTS = 2000
QUADRANT_MAX_CUSTOMERS = 5000
#: Above that, the quadrant still draws the largest customers, all of them.
QUADRANT_TOP = 200
#: The MRR bridge: (label, column, sign) in the order the waterfall draws them.
BRIDGE_STEPS: tuple[tuple[str, str, int], ...] = (
    ("New", "new_mrr", 1),
    ("Expansion", "expansion_mrr", 1),
    ("Reactivation", "reactivation_mrr", 1),
    ("Contraction", "contraction_mrr", -1),
    ("Churned", "churned_mrr", -1),
)
#: The gross-profit bridge: the MRR bridge's movements, then the change in margin of the
#: customers whose MRR did not move.
GROSS_PROFIT_BRIDGE_STEPS: tuple[tuple[str, str, int], ...] = (
    ("New", "new_gross_profit", 1),
    ("Expansion", "expansion_gross_profit", 1),
    ("Reactivation", "reactivation_gross_profit", 1),
    ("Contraction", "contraction_gross_profit", -1),
    ("Churned", "churned_gross_profit", -1),
    ("Margin change", "margin_change", 1),
)
_INCREASE = "#2e7d32"
_DECREASE = "#c62828"
_TOTAL = "#546e7a"


def _layout(figure: go.Figure, height: int = 420, **layout: object) -> go.Figure:
    """The house style: white template, legible type, room for axis titles."""
    settings: dict[str, object] = {
        "template": "plotly_white",
        "height": height,
        "margin": {"l": 70, "r": 30, "t": 30, "b": 60},
        "font": {"family": "system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"},
        "legend": {"orientation": "h", "y": -0.18},
    }
    figure.update_layout({**settings, **layout})
    return figure


def _floats(values: Sequence[object]) -> list[float | None]:
    """Plain floats (None for a missing value), for the figure JSON."""
    return [None if value is None or pd.isna(value) else float(value) for value in values]


def _label(value: object, missing: str) -> str:
    """``value`` as text, or ``missing`` for None or NaN."""
    return missing if value is None or pd.isna(value) else str(value)


def evenly_spaced(count: int, limit: int) -> list[int]:
    """Positions ``0 .. count - 1``: all of them when ``count <= limit``, else ``limit`` of them
    evenly spaced, the first and the last included."""
    if count <= limit:
        return list(range(count))
    if limit <= 1:
        return [count - 1][:limit]
    step = (count - 1) / (limit - 1)
    return sorted({round(i * step) for i in range(limit)})


def pareto_points(
    frame: pd.DataFrame, limit: int = PARETO_MAX_POINTS
) -> tuple[list[float], list[float]]:
    """The Pareto curve: cumulative customer share (x) and cumulative revenue share (y) by
    rank, starting at the origin (no customer, no revenue). Above ``limit`` customers, ``limit``
    ranks evenly spaced (the first and the last included): the same curve, a lighter page."""
    ordered = frame.sort_values("revenue_rank").iloc[evenly_spaced(len(frame), limit)]
    x = [0.0, *_floats(ordered["cumulative_customer_share"].tolist())]
    y = [0.0, *_floats(ordered["cumulative_revenue_share"].tolist())]
    return x, y


def quadrant_sample(frame: pd.DataFrame, limit: int = QUADRANT_MAX_CUSTOMERS) -> pd.DataFrame:
    """The customers the quadrant draws: all of them up to ``limit``; above it the
    :data:`QUADRANT_TOP` largest (the biggest bubbles) and, of the others in rank order, as many
    evenly spaced ones as fit, so that the page stays light and the picture the same."""
    if len(frame) <= limit:
        return frame
    ordered = frame.sort_values("revenue_rank")
    top = min(QUADRANT_TOP, limit)
    rest = ordered.iloc[top:]
    return pd.concat([ordered.iloc[:top], rest.iloc[evenly_spaced(len(rest), limit - top)]])


def pareto_figure(frame: pd.DataFrame) -> go.Figure:
    """Cumulative share of TTM revenue by customer rank, with the 80 % line."""
    x, y = pareto_points(frame)
    figure = go.Figure(
        go.Scatter(
            x=x,
            y=y,
            mode="lines",
            name="cumulative share of TTM revenue",
            line={"color": "#1565c0", "width": 3},
            hovertemplate="top %{x:.1%} of customers: %{y:.1%} of revenue<extra></extra>",
        )
    )
    figure.add_hline(
        y=PARETO_SHARE,
        line={"color": "#c62828", "dash": "dash"},
        annotation_text="80 % of revenue",
        annotation_position="bottom right",
    )
    return _layout(
        figure,
        xaxis={"title": "share of active customers (by rank)", "tickformat": ".0%"},
        yaxis={"title": "cumulative share of TTM revenue", "tickformat": ".0%", "range": [0, 1.02]},
        showlegend=False,
    )


def waterfall_steps(bridge: Mapping[str, Decimal | float]) -> list[tuple[str, str, float]]:
    """The MRR waterfall: (label, plotly measure, value), from the starting MRR through each
    movement (decreases negative) to the ending MRR."""
    steps = [("Starting MRR", "absolute", float(bridge["starting_mrr"]))]
    steps += [(label, "relative", sign * float(bridge[col])) for label, col, sign in BRIDGE_STEPS]
    steps.append(("Ending MRR", "total", float(bridge["ending_mrr"])))
    return steps


def waterfall_figure(bridge: Mapping[str, Decimal | float]) -> go.Figure:
    """The month's MRR bridge as a waterfall."""
    return _waterfall(waterfall_steps(bridge), "MRR")


def gross_profit_waterfall_steps(
    bridge: Mapping[str, Decimal | float],
) -> list[tuple[str, str, float]]:
    """The gross-profit waterfall: (label, plotly measure, value), from the starting monthly
    gross profit through each movement (decreases negative; the margin change of customers with
    unchanged MRR either way) to the ending gross profit."""
    steps = [("Starting GP", "absolute", float(bridge["starting_gross_profit"]))]
    steps += [
        (label, "relative", sign * float(bridge[col]))
        for label, col, sign in GROSS_PROFIT_BRIDGE_STEPS
    ]
    steps.append(("Ending GP", "total", float(bridge["ending_gross_profit"])))
    return steps


def gross_profit_waterfall_figure(bridge: Mapping[str, Decimal | float]) -> go.Figure:
    """The month's gross-profit bridge as a waterfall."""
    return _waterfall(gross_profit_waterfall_steps(bridge), "monthly gross profit")


def _waterfall(steps: list[tuple[str, str, float]], axis_title: str) -> go.Figure:
    """A waterfall of ``steps`` (the first absolute, the last the total) on a zoomed axis."""
    labels, measures, values = (list(column) for column in zip(*steps, strict=True))
    # The total bar is drawn from the running sum; its y is the mart's ending figure, which the
    # mart guarantees equals that sum.
    figure = go.Figure(
        go.Waterfall(
            x=labels,
            y=values,
            measure=measures,
            text=[
                f"{value:+,.0f}" if m == "relative" else f"{value:,.0f}" for _, m, value in steps
            ],
            textposition="outside",
            increasing={"marker": {"color": _INCREASE}},
            decreasing={"marker": {"color": _DECREASE}},
            totals={"marker": {"color": _TOTAL}},
            connector={"line": {"color": "#9e9e9e"}},
            hovertemplate="%{x}: %{y:,.2f}<extra></extra>",
        )
    )
    # A zoomed axis: the movements are small next to the total itself.
    levels = [steps[0][2]]
    for _, _, value in steps[1:-1]:
        levels.append(levels[-1] + value)
    low, high = min(levels + [steps[-1][2]]), max(levels + [steps[-1][2]])
    pad = max((high - low) * 0.6, abs(high) * 0.01, 1.0)
    return _layout(
        figure,
        yaxis={
            "title": axis_title,
            "range": [max(low - pad, 0.0) if low >= 0 else low - pad, high + pad],
            "tickformat": ",.0f",
        },
        showlegend=False,
    )


def retention_trend_figure(frame: pd.DataFrame) -> go.Figure:
    """Monthly and trailing-12 GRR and NRR by month."""
    months = [f"{month:%Y-%m}" for month in frame["as_of_month"]]
    figure = go.Figure()
    series = (
        ("nrr_12m", "NRR, trailing 12 months", "#1565c0", "solid"),
        ("grr_12m", "GRR, trailing 12 months", "#c62828", "solid"),
        ("nrr", "NRR, month", "#1565c0", "dot"),
        ("grr", "GRR, month", "#c62828", "dot"),
    )
    for column, name, colour, dash in series:
        figure.add_trace(
            go.Scatter(
                x=months,
                y=_floats(frame[column].tolist()),
                name=name,
                mode="lines+markers",
                line={"color": colour, "dash": dash},
                marker={"size": 4},
                hovertemplate="%{x}: %{y:.1%}<extra>" + name + "</extra>",
            )
        )
    figure.add_hline(y=1.0, line={"color": "#9e9e9e", "width": 1})
    return _layout(
        figure, yaxis={"title": "retention", "tickformat": ".0%"}, xaxis={"type": "category"}
    )


def quadrant_figure(frame: pd.DataFrame) -> go.Figure:
    """TTM revenue (log scale) against gross margin %, one bubble per active customer sized by
    revenue and coloured by class; the lines are the classification's cut-offs."""
    figure = go.Figure()
    largest = float(frame["revenue_ttm"].max()) if len(frame) else 1.0
    shown = quadrant_sample(frame)
    for cls in CLASSES:
        part = shown[shown["classification"] == cls]
        if part.empty:
            continue
        customers = int((frame["classification"] == cls).sum())
        figure.add_trace(
            go.Scatter(
                x=_floats(part["revenue_ttm"].tolist()),
                y=_floats(part["gross_margin_pct"].tolist()),
                mode="markers",
                name=f"{cls} ({customers})",
                text=part["customer_name"].tolist(),
                marker={
                    "color": CLASS_COLOURS[cls],
                    "size": _floats(part["revenue_ttm"].tolist()),
                    "sizemode": "area",
                    "sizeref": 2.0 * largest / 40.0**2,
                    "sizemin": 3,
                    "opacity": 0.7,
                    "line": {"width": 0.5, "color": "white"},
                },
                hovertemplate="%{text}<br>revenue %{x:,.0f}<br>margin %{y:.1%}<extra>"
                + cls
                + "</extra>",
            )
        )
    cut_offs = frame["margin_cut_off_pct"].dropna()
    if len(cut_offs):
        figure.add_hline(
            y=float(cut_offs.iloc[0]),
            line={"color": "#616161", "dash": "dash"},
            annotation_text="margin cut-off",
            annotation_position="top left",
        )
    large = frame.loc[frame["is_large"].fillna(False).astype(bool), "revenue_ttm"]
    if len(large):
        figure.add_vline(
            x=float(large.min()),
            line={"color": "#616161", "dash": "dash"},
            annotation_text="large (80 % head)",
            annotation_position="top right",
        )
    return _layout(
        figure,
        height=480,
        xaxis={"title": "TTM revenue (log scale)", "type": "log"},
        yaxis={"title": "gross margin %", "tickformat": ".0%"},
    )


def transition_matrix(frame: pd.DataFrame) -> tuple[list[str], list[str], list[list[int]]]:
    """Customers per (class a quarter ago: rows, class now: columns); ``new`` is the row of
    customers without a class a quarter ago, ``lost`` the column of those without one now."""
    rows = [*CLASSES, NO_CLASS_BEFORE]
    columns = [*CLASSES, NO_CLASS_AFTER]
    counts = {(r, c): 0 for r in rows for c in columns}
    for record in frame.itertuples(index=False):
        before = _label(record.previous_classification, NO_CLASS_BEFORE)
        after = _label(record.classification, NO_CLASS_AFTER)
        counts[(before, after)] += int(record.customers)
    return rows, columns, [[counts[(r, c)] for c in columns] for r in rows]


def transition_figure(frame: pd.DataFrame) -> go.Figure:
    """The quarter's class movements as a matrix of customer counts."""
    rows, columns, z = transition_matrix(frame)
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=columns,
            y=rows,
            text=[[str(v) if v else "" for v in row] for row in z],
            texttemplate="%{text}",
            textfont={"size": 15},
            colorscale="Blues",
            showscale=False,
            hovertemplate="%{y} → %{x}: %{z} customers<extra></extra>",
        )
    )
    return _layout(
        figure,
        height=380,
        xaxis={"title": "class at this quarter end", "side": "bottom"},
        yaxis={"title": "class a quarter earlier", "autorange": "reversed"},
    )


def penetration_grid(
    frame: pd.DataFrame,
) -> tuple[list[str], list[str], list[list[int]], list[list[float]]]:
    """The heatmap's axes and cells: customers by rank, offerings by owners (most first),
    1/0 ownership and the pair's TTM revenue."""
    customers = (
        frame[["revenue_rank", "customer_name"]].drop_duplicates().sort_values("revenue_rank")
    )
    offerings = (
        frame[["offering_name", "owning_customers"]]
        .drop_duplicates()
        .sort_values(["owning_customers", "offering_name"], ascending=[False, True])
    )
    cells = frame.set_index(["customer_name", "offering_name"])
    names = customers["customer_name"].tolist()
    columns = offerings["offering_name"].tolist()
    owns = [[int(bool(cells.loc[(c, o), "owns_offering"])) for o in columns] for c in names]
    revenue = [[float(cells.loc[(c, o), "revenue_ttm"]) for o in columns] for c in names]
    return names, columns, owns, revenue


def penetration_figure(frame: pd.DataFrame) -> go.Figure:
    """Which of the top customers own which offering (dark: owns it)."""
    names, columns, owns, revenue = penetration_grid(frame)
    figure = go.Figure(
        go.Heatmap(
            z=owns,
            x=columns,
            y=names,
            customdata=revenue,
            colorscale=[[0.0, "#eceff1"], [1.0, "#1565c0"]],
            zmin=0,
            zmax=1,
            showscale=False,
            xgap=1,
            ygap=1,
            hovertemplate="%{y}<br>%{x}<br>TTM revenue %{customdata:,.0f}<extra></extra>",
        )
    )
    return _layout(
        figure,
        height=160 + 18 * len(names),
        margin={"l": 200, "r": 30, "t": 30, "b": 40},
        xaxis={"tickangle": -45, "side": "bottom"},
        yaxis={"autorange": "reversed", "dtick": 1},
    )


def _horizontal_bars(
    values: list,
    labels: list,
    *,
    colour: str | list[str],
    text: list[str],
    hover: str,
    axis: dict,
    label_width: int,
) -> go.Figure:
    """One horizontal bar per label (the first at the bottom), its text on the bar."""
    figure = go.Figure(
        go.Bar(
            x=_floats(values),
            y=labels,
            orientation="h",
            marker={"color": colour},
            text=text,
            textposition="auto",
            hovertemplate=hover,
        )
    )
    return _layout(
        figure,
        height=120 + 26 * len(labels),
        margin={"l": label_width, "r": 30, "t": 30, "b": 60},
        xaxis=axis,
        showlegend=False,
    )


def whitespace_figure(frame: pd.DataFrame) -> go.Figure:
    """Whitespace revenue by offering (largest on top), with its penetration."""
    ordered = frame.sort_values("whitespace_revenue")
    return _horizontal_bars(
        ordered["whitespace_revenue"].tolist(),
        ordered["offering_name"].tolist(),
        colour="#ef6c00",
        text=[f"{rate:.0%} own it" for rate in ordered["penetration_rate"]],
        hover="%{y}: whitespace %{x:,.0f}<extra></extra>",
        axis={"title": "whitespace revenue (ARPO × non-owners, per year)", "tickformat": ",.0f"},
        label_width=220,
    )


def churn_totals(frame: pd.DataFrame, by: str) -> tuple[list[str], list[float]]:
    """MRR lost per churn quadrant (``by="churn_quadrant"``, in the quadrants' order, every
    quadrant shown) or per reason (``by="reason"``, largest first)."""
    sums = frame.groupby(by, dropna=False)["mrr_lost"].sum()
    if by == "churn_quadrant":
        labels = [q for q in CHURN_QUADRANTS if q != "unclassified" or q in sums.index]
        return labels, [float(sums.get(label, 0.0)) for label in labels]
    ordered = sorted(sums.items(), key=lambda item: (-item[1], str(item[0])))
    return [str(label) for label, _ in ordered], [float(value) for _, value in ordered]


_QUADRANT_NAMES = {
    "E&A": "expected & avoidable",
    "E&U": "expected & unavoidable",
    "U&A": "unexpected & avoidable",
    "U&U": "unexpected & unavoidable",
    "unclassified": "reason unknown",
}


def churn_quadrant_figure(frame: pd.DataFrame) -> go.Figure:
    """MRR lost per churn quadrant."""
    labels, values = churn_totals(frame, "churn_quadrant")
    figure = go.Figure(
        go.Bar(
            x=[f"{label}<br>{_QUADRANT_NAMES.get(label, '')}" for label in labels],
            y=values,
            marker={"color": "#c62828"},
            text=[f"{value:,.0f}" for value in values],
            textposition="outside",
            hovertemplate="%{x}: %{y:,.2f}<extra></extra>",
        )
    )
    return _layout(figure, height=380, yaxis={"title": "MRR lost", "tickformat": ",.0f"})


def churn_reason_figure(frame: pd.DataFrame) -> go.Figure:
    """MRR lost per churn reason (largest on top)."""
    labels, values = churn_totals(frame, "reason")
    figure = go.Figure(
        go.Bar(
            x=values[::-1],
            y=labels[::-1],
            orientation="h",
            marker={"color": "#8e24aa"},
            hovertemplate="%{y}: %{x:,.2f}<extra></extra>",
        )
    )
    return _layout(
        figure,
        height=120 + 28 * len(labels),
        margin={"l": 220, "r": 30, "t": 30, "b": 60},
        xaxis={"title": "MRR lost", "tickformat": ",.0f"},
    )


def retention_curves_figure(frame: pd.DataFrame) -> go.Figure:
    """Survival S(t) by months of tenure, one line per segment."""
    figure = go.Figure()
    for segment in [*CLASSES, "all"]:
        part = frame[frame["segment"] == segment].sort_values("tenure_month")
        if part.empty:
            continue
        customers = int(part["n_customers"].iloc[0])
        figure.add_trace(
            go.Scatter(
                x=[int(t) for t in part["tenure_month"]],
                y=_floats(part["survival"].tolist()),
                name=f"{segment} ({customers} customers)",
                mode="lines",
                line={
                    "color": SEGMENT_COLOURS.get(segment, "#424242"),
                    "width": 3 if segment == "all" else 2,
                    "dash": "dash" if segment == "all" else "solid",
                },
                hovertemplate="month %{x}: %{y:.1%}<extra>" + segment + "</extra>",
            )
        )
    return _layout(
        figure,
        xaxis={"title": "months since the start of MRR"},
        yaxis={"title": "share still paying MRR, S(t)", "tickformat": ".0%", "range": [0, 1.02]},
    )


def churn_risk_figure(frame: pd.DataFrame) -> go.Figure:
    """The customers most likely to churn, highest on top, coloured by risk band."""
    ordered = frame.iloc[::-1]
    return _horizontal_bars(
        ordered["churn_probability_3m"].tolist(),
        ordered["customer_name"].tolist(),
        colour=[RISK_COLOURS.get(b, "#9e9e9e") for b in ordered["risk_band"]],
        text=[f"{p:.1%}" for p in ordered["churn_probability_3m"]],
        hover="%{y}: %{x:.1%}<extra></extra>",
        axis={"title": "probability of churning within 3 months", "tickformat": ".1%"},
        label_width=220,
    )


def cross_sell_figure(frame: pd.DataFrame) -> go.Figure:
    """The recommendations with the largest expected revenue, largest on top."""
    ordered = frame.iloc[::-1]
    labels = [
        f"{customer} · {offering}"
        for customer, offering in zip(
            ordered["customer_name"], ordered["offering_name"], strict=True
        )
    ]
    return _horizontal_bars(
        ordered["expected_revenue"].tolist(),
        labels,
        colour="#2e7d32",
        text=[f"p = {p:.0%}" for p in ordered["propensity"]],
        hover="%{y}: %{x:,.0f}<extra></extra>",
        axis={"title": "expected revenue (propensity × ARPO, per year)", "tickformat": ",.0f"},
        label_width=320,
    )


def class_economics_figure(frame: pd.DataFrame) -> go.Figure:
    """Left: the effective hourly rate per class and for all active customers; right: the
    service and product-resale margin % of the same groups."""
    labels = [str(segment) for segment in frame["segment"]]
    colours = [SEGMENT_COLOURS.get(label, "#9e9e9e") for label in labels]
    figure = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("effective hourly rate", "service vs product-resale margin %"),
        horizontal_spacing=0.12,
    )
    rates = _floats(frame["effective_hourly_rate"].tolist())
    figure.add_trace(
        go.Bar(
            x=labels,
            y=rates,
            marker={"color": colours},
            name="EHR",
            text=["" if rate is None else f"{rate:,.0f}" for rate in rates],
            textposition="outside",
            hovertemplate="%{x}: %{y:,.2f} per labour hour<extra></extra>",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    for column, name, colour in (
        ("service_margin_pct", "service margin %", "#1565c0"),
        ("product_resale_margin_pct", "product-resale margin %", "#ef6c00"),
    ):
        figure.add_trace(
            go.Bar(
                x=labels,
                y=_floats(frame[column].tolist()),
                name=name,
                marker={"color": colour},
                hovertemplate="%{x}: %{y:.1%}<extra>" + name + "</extra>",
            ),
            row=1,
            col=2,
        )
    figure.update_yaxes(
        title_text="(revenue − product cost) / hour", tickformat=",.0f", row=1, col=1
    )
    figure.update_yaxes(title_text="margin / revenue", tickformat=".0%", row=1, col=2)
    return _layout(figure, barmode="group")


def cohort_grid(
    frame: pd.DataFrame, value: str = "net_revenue_retention"
) -> tuple[list[str], list[int], list[list[float | None]]]:
    """The cohort triangle: cohort months (rows, oldest first, as YYYY-MM), months since the
    start (columns, 0 …) and ``value`` per cell (None where the cohort has not reached that
    month, or the value is null)."""
    cohorts = sorted(set(frame["cohort_month"]))
    months = sorted({int(m) for m in frame["months_since_start"]})
    cells = {
        (record.cohort_month, int(record.months_since_start)): getattr(record, value)
        for record in frame.itertuples(index=False)
    }
    z = [_floats([cells.get((cohort, month)) for month in months]) for cohort in cohorts]
    return [f"{cohort:%Y-%m}" for cohort in cohorts], months, z


def cohort_figure(frame: pd.DataFrame) -> go.Figure:
    """Net revenue retention by cohort month × months since the start (the triangle)."""
    cohorts, months, z = cohort_grid(frame)
    sizes = {
        f"{record.cohort_month:%Y-%m}": int(record.cohort_customers)
        for record in frame.itertuples(index=False)
    }
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=months,
            y=[f"{cohort} ({sizes[cohort]})" for cohort in cohorts],
            text=[["" if v is None else f"{v:.0%}" for v in row] for row in z],
            texttemplate="%{text}",
            textfont={"size": 10 if len(months) <= 13 else 8},
            colorscale="RdYlGn",
            # 0 % red, 100 % pale, 200 % and more green: one cohort's outlier does not wash out
            # the others.
            zmin=0.0,
            zmid=1.0,
            zmax=2.0,
            colorbar={"title": "NRR", "tickformat": ".0%"},
            hoverongaps=False,
            hovertemplate="cohort %{y}, month %{x}: %{z:.1%}<extra></extra>",
        )
    )
    return _layout(
        figure,
        height=160 + 22 * len(cohorts),
        margin={"l": 130, "r": 30, "t": 30, "b": 60},
        xaxis={"title": "months since the cohort's first MRR", "dtick": 1},
        yaxis={"title": "cohort (customers)", "autorange": "reversed", "type": "category"},
    )


def committed_mrr_figure(frame: pd.DataFrame) -> go.Figure:
    """MRR of the month's end still under contract at the end of each of the next 12 months,
    with the month's MRR as a line."""
    months = [f"{month:%Y-%m}" for month in frame["forecast_month"]]
    committed = _floats(frame["committed_mrr"].tolist())
    figure = go.Figure(
        go.Bar(
            x=months,
            y=committed,
            name="committed MRR",
            marker={"color": "#1565c0"},
            hovertemplate="%{x}: %{y:,.2f}<extra>committed MRR</extra>",
        )
    )
    current = _floats(frame["current_mrr"].tolist())
    if current and current[0] is not None:
        figure.add_hline(
            y=current[0],
            line={"color": "#616161", "dash": "dash"},
            annotation_text="MRR at the month's end",
            annotation_position="top right",
        )
    return _layout(
        figure,
        xaxis={"title": "forecast month", "type": "category"},
        yaxis={"title": "MRR under contract", "tickformat": ",.0f", "rangemode": "tozero"},
        showlegend=False,
    )
