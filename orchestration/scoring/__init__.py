"""Scoring models (retention, churn risk, cross-sell) used by the scoring assets and notebooks."""
