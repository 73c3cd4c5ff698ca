"""The month-end report: one self-contained HTML file per as_of_month (README.md here).

``queries`` reads the marts and scores of a month, ``charts`` draws them with plotly,
``render`` fills ``templates/month_end.html.j2`` and writes the file, ``cli`` is
``python -m orchestration.reports``. No Dagster import: the code location's report asset
(orchestration/defs/assets/report.py) calls :func:`render.write_report` after the publish step.
"""
