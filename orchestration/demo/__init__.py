"""Deterministic demo landing data for a fictitious managed-service provider (MSP).

Writes the seven landing tables of the contract (:mod:`orchestration.landing.contract`) into one
folder, as CSV (header, ISO dates, ``true``/``false``, empty field = null) or Parquet
(DECIMAL(18, 2) money, quantities and hours; DATE dates; BOOLEAN flags)::

    python -m orchestration.demo --customers 300 --months 36 --end-month 2026-10 \\
        --seed 42 --output data/landing --format csv

or from Python, ``orchestration.demo.generator.generate(output_dir, customers=300, ...)``. The
same arguments always produce byte-identical files.

Modules
-------
- :mod:`~orchestration.demo.generator`: ``generate`` (the folder, chunk by chunk) and ``main``.
- :mod:`~orchestration.demo.cli`: the command's options, its output and progress lines.
- :mod:`~orchestration.demo.catalogue`: the static data (offerings, industries, names, reasons).
- :mod:`~orchestration.demo.context`: the month window, the technicians, weighted draws.
- :mod:`~orchestration.demo.profile`: what is drawn about a customer before any of its rows.
- :mod:`~orchestration.demo.simulation`: one customer's story as rows of six tables.
- :mod:`~orchestration.demo.writers`: the CSV and Parquet files, the demo's number columns.

What the portfolio contains
---------------------------
- A catalogue of 19 offerings in 8 families covering all five revenue types; a "full package" of
  five current mrr offerings (managed endpoints, managed network, helpdesk, EDR, cloud backup) and
  two legacy mrr offerings (the legacy managed-services bundle and an on-premises backup appliance).
- Customer size (seats) is lognormal, so about 20 % of the customers bring 70-80 % of the revenue;
  two "anchor" accounts (``C00003`` and ``C00011``) are sized from the number of customers so that
  a default-sized portfolio shows a concentration warning (top customer > 10 % of revenue).
  ``C00003`` is a well-run full-package account, ``C00011`` a large, labour-heavy legacy account.
- Recurring agreements (``managed_services`` on the full, a partial or the legacy package, or
  ``block_time`` retainers) are open-ended or fixed-term (12/24/36 months, renewed by a new
  agreement on the end date with a 3.5 % price uplift). Their lines change over time: a change of
  quantity is a line cancelled and a new line effective the same day; offerings are added
  (cross-sell), removed (with an ``offering_cancel`` event for some) and legacy customers migrate
  to the full package. Most lines bill monthly; some customers are billed quarterly or annually
  (``unit_price`` is per billing cycle, so an annual line carries 12 months' price).
- About two thirds of the monthly-billed customers who churn first cut seats (or block hours)
  by 20-50 % one to three months before they leave, the leading signal churn-risk scoring uses.
- Churn cancels every agreement of the customer (on the first of a month, or for about a quarter
  of the churns on the last day of the month before), or is a fixed-term agreement not renewed.
  About 85 % of recurring churns are recorded in ``churn_events`` with a reason code (including
  the unknown code ``other``); a few churned customers come back months later (reactivation).
- Invoices (one ``invoice_id`` per customer and month, dated the 1st): recurring lines in advance
  per billing cycle, project milestones, time-and-materials hours of the previous month, block-hour
  overage, hardware and software resale at 80-92 % cost, third-party licence cost on some mrr
  lines, occasional service-level credits, and one disputed project per 100 customers
  (``C00023``, ``C00123``, ...) fully credited so its trailing revenue drops to 0 and below.
- Time entries by 10-40 technicians (``TECH-001`` ...), roughly proportional to size, with about
  12 % labour-heavy customers whose hours far exceed what their fees justify.

Scenarios every demo needs are pinned to customer numbers so that even small portfolios have
them: numbers ending (mod 100) in 07 churn with the unknown reason ``other``, 19 churn without a
churn event, 23 have the disputed project, 27 are billed annually, 31 quarterly, and 35 churn and
come back.

Deliberate edge cases for the warehouse: agreements that started before the window, fixed-term
agreements whose contractual ``end_date`` lies after the window, lines left open (no
``cancelled_date``) on agreements that ended or were cancelled, T&M and project agreements
without recurring lines, customers with invoices but no agreement (hardware only).
Invoice and time-entry dates always fall inside the window; customer ``created_date`` and agreement
``start_date``/``effective_date`` may precede it for long-standing customers.
"""
