"""A small hand-written ``marts`` schema for the tests of the scoring models.

Four customers' MRR series, written by hand and turned into ``mrr_movements`` rows the way the
mart defines them; a classification for every month in which a customer had MRR in the trailing
twelve months (and for ``no_mrr``, which buys projects only); the concentration and cross-sell
columns; ``churn_risk_features`` rows for the churn model (keys, label and MRR features from the
series, the other features stand-ins); a customer x offering matrix and the offerings'
penetration for the cross-sell model; and ``portfolio_concentration`` with one row per month of
the marts.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from orchestration.months import month_add

FIRST_MRR_MONTH = date(2023, 6, 1)  # agreements reach back before the invoice data
FIRST_MONTH = date(2024, 1, 1)  # first as_of_month of the marts
LAST_MONTH = date(2025, 12, 1)


def months(first: date, last: date) -> list[date]:
    """Every month from ``first`` to ``last``, both included."""
    out = [first]
    while out[-1] < last:
        out.append(month_add(out[-1], 1))
    return out


def series(*changes: tuple[str, float]) -> dict[date, float]:
    """MRR by month from (YYYY-MM, new MRR from then on) changes; 0 means no MRR."""
    points = sorted((date.fromisoformat(m + "-01"), v) for m, v in changes)
    out, value = {}, 0.0
    for month in months(FIRST_MRR_MONTH, LAST_MONTH):
        for start, new in points:
            if start == month:
                value = new
        if value:
            out[month] = value
    return out


MRR = {
    "steady": series(("2023-06", 100), ("2025-10", 90)),
    "shrinks": series(("2023-06", 200), ("2024-06", 150), ("2024-09", 120), ("2025-02", 0)),
    "back": series(("2024-02", 50), ("2024-08", 0), ("2024-11", 60)),
    "late": series(("2024-03", 80), ("2025-11", 0)),
}
CLASSES = {"steady": "A", "shrinks": "D", "back": "C", "late": "B", "no_mrr": "C"}

#: Offerings (lifecycle, ARPO) and who owns which (in every month it is active).
OFFERINGS = {
    "backup": ("current", 1200.0),
    "firewall": ("current", 800.0),
    "voip": ("legacy", 500.0),
}
OWNS = {
    "steady": {"backup", "firewall"},
    "shrinks": {"backup", "voip"},
    "back": {"firewall"},
    "late": {"backup"},
    "no_mrr": set(),
}


def mrr_at(customer: str, month: date) -> float:
    """The hand-written MRR of ``customer`` at ``month`` (0 when none)."""
    return MRR.get(customer, {}).get(month, 0.0)


def mrr_movements() -> pd.DataFrame:
    rows = []
    for customer, by_month in MRR.items():
        first = min(by_month)
        for month in months(FIRST_MRR_MONTH, LAST_MONTH):
            mrr = by_month.get(month, 0.0)
            previous = by_month.get(month_add(month, -1), 0.0)
            if not (mrr or previous):
                continue
            if previous == 0:
                movement = "new" if month == first else "reactivation"
            elif mrr == 0:
                movement = "churn"
            else:
                movement = (
                    "expansion"
                    if mrr > previous
                    else "contraction"
                    if mrr < previous
                    else "unchanged"
                )
            rows.append((month, customer, mrr, previous, mrr - previous, movement, first))
    return pd.DataFrame(
        rows,
        columns=[
            "as_of_month",
            "customer_id",
            "mrr",
            "previous_mrr",
            "mrr_change",
            "movement",
            "first_mrr_month",
        ],
    )


def customer_classification() -> pd.DataFrame:
    rows = []
    for month in months(FIRST_MONTH, LAST_MONTH):
        window = months(month_add(month, -11), month)
        for customer, klass in CLASSES.items():
            by_month = MRR.get(customer, {})
            if customer != "no_mrr" and not any(by_month.get(m) for m in window):
                continue
            revenue = 1000.0 + len(rows)
            rows.append(
                {
                    "as_of_month": month,
                    "customer_id": customer,
                    "classification": klass,
                    "revenue_ttm": revenue,
                    "labor_cost_ttm": 0.25 * revenue,
                    "gross_margin_ttm": 0.4 * revenue,
                    "gross_margin_pct": 0.4,
                    "in_tcp": customer != "late",
                    "industry": "retail" if customer in ("steady", "late") else "legal",
                    "employee_count": 20,
                }
            )
    return pd.DataFrame(rows)


def offering_tables(classification: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``customer_offering_matrix`` and ``offering_penetration`` of the active customers."""
    keys = classification[["as_of_month", "customer_id"]]
    matrix = pd.DataFrame(
        [
            {
                "as_of_month": month,
                "customer_id": customer,
                "offering_id": offering,
                "lifecycle": lifecycle,
                "owns_offering": offering in OWNS[customer],
            }
            for month, customer in keys.itertuples(index=False)
            for offering, (lifecycle, _) in OFFERINGS.items()
        ]
    )
    owners = matrix[matrix["owns_offering"]].groupby(["as_of_month", "offering_id"]).size()
    penetration = pd.DataFrame(
        [
            {
                "as_of_month": month,
                "offering_id": offering,
                "lifecycle": lifecycle,
                "owning_customers": int(owners.get((month, offering), 0)),
                "avg_revenue_per_owner": arpo if owners.get((month, offering), 0) else None,
            }
            for month in keys["as_of_month"].unique()
            for offering, (lifecycle, arpo) in OFFERINGS.items()
        ]
    )
    return matrix, penetration


def customer_name(customer_id: str) -> str:
    """The name of a hand-written customer in ``marts.customers``."""
    return f"{customer_id.title()} Ltd"


def churn_risk_features(classification: pd.DataFrame, movements: pd.DataFrame) -> pd.DataFrame:
    """The rows of the dbt model ``churn_risk_features`` for the hand-written series: every
    classified customer with MRR in a month, the first ``churn`` movement of the three months
    after it, the MRR features and the tenure of the current spell from the series; the other
    features are stand-ins (the classification's margin and revenue, the cross-sell constants of
    :func:`create_marts`)."""
    rows = []
    for klass in classification.itertuples(index=False):
        month, customer = klass.as_of_month, klass.customer_id
        mrr = mrr_at(customer, month)
        if not mrr:
            continue
        own = movements[movements["customer_id"] == customer]
        ahead = [month_add(month, n) for n in (1, 2, 3)]
        churns = own.loc[(own["movement"] == "churn") & own["as_of_month"].isin(ahead)]
        window = own[own["as_of_month"].between(month_add(month, -11), month)]
        spells = own.loc[
            own["movement"].isin(["new", "reactivation"]) & (own["as_of_month"] <= month),
            "as_of_month",
        ]
        tenure = (month.year - max(spells).year) * 12 + month.month - max(spells).month
        row = {
            "as_of_month": month,
            "customer_id": customer,
            "customer_name": customer_name(customer),
            "label_window_end_month": ahead[-1],
            "churn_month_within_3m": min(churns["as_of_month"], default=None),
            "churned_within_3m": len(churns) > 0,
            "mrr": mrr,
            "log_mrr": math.log(mrr),
            "contractions_12m": int((window["movement"] == "contraction").sum()),
            "expansions_12m": int((window["movement"] == "expansion").sum()),
            "gross_margin_pct": klass.gross_margin_pct,
            "labor_cost_share": klass.labor_cost_ttm / klass.revenue_ttm,
            "log_revenue_ttm": math.log(klass.revenue_ttm),
            "revenue_share": 0.2,
            "offerings_owned": 3,
            "full_package_components_owned": 2,
            "owns_legacy_offering": int(customer == "shrinks"),
            "is_on_full_package": 0,
            "in_tcp": int(klass.in_tcp),
            "tenure_months": tenure,
            "log_tenure_months": math.log(1 + tenure),
            "contract_year_ends_within_3m": int(tenure % 12 >= 9),
            "classification": klass.classification,
            "agreement_profile": "legacy_mrr",
        }
        for months_ago in (3, 6):
            before = mrr_at(customer, month_add(month, -months_ago))
            row[f"had_mrr_{months_ago}m_ago"] = int(before > 0)
            row[f"mrr_log_change_{months_ago}m"] = math.log(mrr / before) if before else 0.0
        rows.append(row)
    return pd.DataFrame(rows)


#: The YAML of the dbt model churn_risk_features, with its contract.
CHURN_RISK_FEATURES_YAML = (
    Path(__file__).resolve().parents[2] / "models" / "marts" / "scoring" / "churn_risk_features.yml"
)


def model_contract(path: Path = CHURN_RISK_FEATURES_YAML) -> dict[str, str]:
    """The contracted columns of the model of the dbt YAML ``path``: name -> data_type, in
    order."""
    (model,) = yaml.safe_load(path.read_text())["models"]
    return {column["name"]: column["data_type"] for column in model["columns"]}


#: Each mart and its date columns.
MARTS = {
    "mrr_movements": ("as_of_month", "first_mrr_month"),
    "customer_classification": ("as_of_month",),
    "customer_concentration": ("as_of_month",),
    "customer_cross_sell": ("as_of_month",),
    "customer_offering_matrix": ("as_of_month",),
    "offering_penetration": ("as_of_month",),
    "portfolio_concentration": ("as_of_month",),
}


def create_marts(connection: duckdb.DuckDBPyConnection) -> None:
    """Create the schema ``marts`` with the tables of :data:`MARTS` and ``churn_risk_features``
    (typed by the model's contract) in ``connection``."""
    connection.execute("create schema marts")
    classification = customer_classification()
    keys = classification[["as_of_month", "customer_id"]]
    matrix, penetration = offering_tables(classification)
    movements = mrr_movements()
    frames = {
        "mrr_movements": movements,
        "customer_classification": classification,
        "customer_concentration": keys.assign(revenue_share=0.2),
        "customer_cross_sell": keys.assign(
            offerings_owned=3,
            full_package_components_owned=2,
            owns_legacy_offering=keys["customer_id"] == "shrinks",
            is_on_full_package=False,
            agreement_profile="legacy_mrr",
        ),
        "customer_offering_matrix": matrix,
        "offering_penetration": penetration,
        "portfolio_concentration": pd.DataFrame(
            {"as_of_month": months(FIRST_MONTH, LAST_MONTH)}
        ).assign(
            active_customers=lambda frame: [
                int((classification["as_of_month"] == month).sum())
                for month in frame["as_of_month"]
            ]
        ),
    }
    for name, dates in MARTS.items():
        casts = ", ".join(f"cast({column} as date) as {column}" for column in dates)
        connection.register("frame", frames[name])
        connection.execute(f"create table marts.{name} as select * replace ({casts}) from frame")
        connection.unregister("frame")
    connection.execute(
        "create table marts.customers as select customer_id, customer_name from (values "
        + ", ".join(f"('{c}', '{customer_name(c)}')" for c in CLASSES)
        + ") as customers (customer_id, customer_name)"
    )
    # The model's columns, in order and of the types of its contract.
    casts = ", ".join(
        f"cast({name} as {sql_type}) as {name}" for name, sql_type in model_contract().items()
    )
    connection.register("frame", churn_risk_features(classification, movements))
    connection.execute(f"create table marts.churn_risk_features as select {casts} from frame")
    connection.unregister("frame")
