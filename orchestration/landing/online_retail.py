"""Convert a plain invoicing export (UCI "Online Retail") into the minimum landing folder.

The UCI "Online Retail" data set (Chen, D. (2015), UCI Machine Learning Repository, dataset 352,
CC BY 4.0) holds the invoice lines of a UK wholesaler of gift ware, 2010-12-01 … 2011-12-09, one
row per line with the columns InvoiceNo, StockCode, Description, Quantity, InvoiceDate,
UnitPrice, CustomerID and Country. This module turns such an export into the three required
landing files, ``customers``, ``offerings`` and ``invoice_lines``, and writes nothing else: the
optional tables (agreements, agreement lines, time entries, churn events) do not exist in an
invoicing export, so the build reads them as empty. Everything is one DuckDB query per file::

    python -m orchestration.landing.online_retail \\
        --input tests/fixtures/online_retail/online_retail_2010_2011.parquet \\
        --output data/online_retail [--format csv|parquet]

Mapping
-------
Nothing is invented and no line is dropped: every line of the export is one invoice line.

``invoice_lines``
    - ``invoice_line_id`` = ``<InvoiceNo>-<StockCode>-<n>``, where ``n`` numbers the lines of the
      same invoice and stock code in the order of their content (quantity, price, description,
      customer, country, timestamp), never in file order. Identical lines are interchangeable, so
      the same line gets the same id in every export that holds its invoice, whatever the row
      order; lines an export lists twice keep two ids (the export has no line number, and the
      invoice did list them twice). Given several ``--input`` files (overlapping exports), each
      is numbered on its own and a line repeated across files is written once; a line whose id
      carries different content in two files is written twice, and the build rejects both
      copies as ``conflicting_key``. Overlapping exports must hold whole invoices (cut by date,
      as exports are); an export cut in the middle of an invoice could number that invoice's
      repeated stock codes differently.
    - ``invoice_id`` = InvoiceNo (``C…`` cancellations and ``A…`` bad-debt adjustments included).
    - ``invoice_date`` = the date of InvoiceDate (the time of day is dropped).
    - ``customer_id`` = CustomerID as text, without the trailing ``.0`` a float column gives it.
      About a quarter of the lines have no CustomerID; they are kept with an empty customer_id,
      so the build quarantines them visibly (``missing_value``, "customer_id is empty") in
      ``audit.rejected_rows`` and counts them, with their amount, in
      ``audit.data_quality_summary`` instead of their vanishing here.
    - ``quantity`` = Quantity; ``extended_price`` = Quantity × UnitPrice as an exact decimal
      (UnitPrice is read from its shortest decimal text, so 2.55 is 2.55, not the nearest
      binary fraction; a price with more than four decimals stops the conversion rather than
      being rounded). Cancellations have negative quantities and so are credits, which the
      marts subtract in the month of the cancellation.
    - ``extended_cost`` = 0. The contract requires the column, and 0 means "no direct cost";
      the export has no cost of goods at all. Consequence: every gross margin in the marts is
      100 % of revenue (``cost_ttm`` 0), so margin figures say nothing about this business and
      the A/B/C/D classification, whose high-margin test compares each customer's margin with
      the portfolio's, puts every customer with positive revenue at the portfolio margin, i.e.
      high margin: classes A and C only. Concentration, penetration and revenue figures are
      unaffected.
    - ``revenue_type`` = ``product_resale`` for every line, postage and fees included: a
      wholesaler sells goods; none of its revenue is recurring service, project labour, time
      and materials or block time, so ``revenue_service_ttm`` is 0 (and, with no agreements,
      the MRR and retention marts are empty).

``offerings`` — one offering per product family, not per stock code: the customer × offering
matrix has one row per active customer, offering and month, and some 4,000 stock codes would
make it 4,000 times the customer count per month. The families are

    - ``STOCK-10`` … ``STOCK-90``: stock items grouped by the first two digits of their numeric
      StockCode (``22423`` and ``22423A`` are ``STOCK-22``), the wholesaler's own numbering
      ranges, about thirty of them; ``offering_family`` "stock items". The ranges are not
      product categories anyone has verified; they keep related codes together cheaply.
    - ``STOCK-OTHER``: stock items with a non-numeric code (``DCGS…`` gift-shop items,
      ``PADS``) — and any code a later export adds that is not listed below.
    - ``GIFT-VOUCHER``: ``gift_0001_…`` vouchers; family "gift vouchers".
    - one offering per special code, family "postage and carriage": ``POST`` (postage),
      ``DOT`` (dotcom postage), ``C2`` (carriage); family "adjustments and fees": ``M``/``m``
      (manual adjustment), ``D`` (discount), ``S`` (samples), ``B`` (bad-debt adjustment),
      ``BANK CHARGES``, ``AMAZONFEE``, ``CRUK`` (Cancer Research UK commission). These are kept
      as revenue lines with the sign the export gives them: charges the customer paid
      (postage, carriage, bank charges) add to its revenue; discounts, manual credits and the
      commission the export books as credit notes on a customer's invoices reduce it. Lines of
      these codes without a customer (most of DOT, all of S, B and AMAZONFEE) are quarantined
      like any other line without a customer.

  Every offering is ``product_resale``, lifecycle ``current`` (the export carries no
  catalogue history) and ``is_full_package_component`` false: a wholesaler has no "full
  package" of managed services, and with no component in the catalogue
  ``customer_cross_sell.is_on_full_package`` is false for every customer (its agreement
  profile is ``product_only``) and the full-package share of ``portfolio_cross_sell`` is 0.
  ``offering_name`` describes the family; ``list_price`` is empty (a family has no one price).
  The contract has no "not for sale" flag, so ``customer_cross_sell.whitespace_revenue``
  prices every offering a customer lacks, postage and fee codes included, at its average
  revenue per owner (owners have positive TTM revenue, so credit-only codes such as discounts
  add nothing). On the 2010-2011 export ``DOT`` has one owner with 11,906.36 in 2011-12, which
  puts 11,906.36 into almost every customer's whitespace (about 50 of the portfolio's 58
  million): read cross-sell on the ``STOCK-`` families in ``offering_penetration`` and
  ``customer_offering_matrix``.

``customers`` — one row per CustomerID, with ``region`` = the customer's country. A customer
with lines in several countries (8 in the 2010-2011 export) gets the country of its latest line
(latest InvoiceDate, then the alphabetically first country), its address as last invoiced.
``Unspecified`` is kept as exported. No other optional column is filled: the export has no
name, industry, size, account manager or creation date, so nothing is made up for them (and
the target-client-profile rules, which need industry and size, find no customer in the TCP).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from orchestration.landing.contract import FILE_FORMATS, LANDING_TABLES, required_columns
from orchestration.warehouse.connection import sql_string

#: The landing tables this converter writes, and the columns of each, in contract order:
#: every column of offerings and invoice lines, and of customers only the id and the region.
OUTPUT_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id", "region"),
    "offerings": LANDING_TABLES["offerings"],
    "invoice_lines": LANDING_TABLES["invoice_lines"],
}

#: Non-stock codes of the export: code (upper case) -> (offering name, offering family).
SPECIAL_CODES: dict[str, tuple[str, str]] = {
    "POST": ("Postage", "postage and carriage"),
    "DOT": ("Dotcom postage", "postage and carriage"),
    "C2": ("Carriage", "postage and carriage"),
    "M": ("Manual adjustment", "adjustments and fees"),
    "D": ("Discount", "adjustments and fees"),
    "S": ("Samples", "adjustments and fees"),
    "B": ("Bad-debt adjustment", "adjustments and fees"),
    "BANK CHARGES": ("Bank charges", "adjustments and fees"),
    "AMAZONFEE": ("Amazon fee", "adjustments and fees"),
    "CRUK": ("Cancer Research UK commission", "adjustments and fees"),
}

REVENUE_TYPE = "product_resale"

_INPUT_COLUMNS = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
)


class ConversionError(Exception):
    """The export cannot be converted without changing its data."""


def _offering_id_sql(stock_code: str) -> str:
    """SQL for the offering of a StockCode expression (see the module docstring)."""
    special = " ".join(f"when {sql_string(code)} then {sql_string(code)}" for code in SPECIAL_CODES)
    return f"""
        case
            when regexp_matches({stock_code}, '^[0-9]{{5}}')
                then 'STOCK-' || left({stock_code}, 2)
            when starts_with(lower({stock_code}), 'gift_') then 'GIFT-VOUCHER'
            else case upper(trim({stock_code})) {special} else 'STOCK-OTHER' end
        end"""


def _create_lines(con: duckdb.DuckDBPyConnection, inputs: list[Path]) -> None:
    """Create the temp table ``lines``: the converted invoice lines plus each line's country."""
    numbered = "\n        union all\n".join(
        f"""
        select
            *,
            row_number() over (
                partition by InvoiceNo, StockCode
                order by Quantity, UnitPrice, Description, CustomerID, Country, InvoiceDate
            ) as occurrence
        from read_parquet({sql_string(str(path))})"""
        for path in inputs
    )
    con.execute(
        f"""
        create temp table lines as
        with
        exported as ({numbered}
        ),
        converted as (
            select
                InvoiceNo || '-' || StockCode || '-' || occurrence as invoice_line_id,
                InvoiceNo as invoice_id,
                cast(InvoiceDate as date) as invoice_date,
                nullif(regexp_replace(cast(CustomerID as varchar), '\\.0$', ''), '')
                    as customer_id,
                {_offering_id_sql("StockCode")} as offering_id,
                '{REVENUE_TYPE}' as revenue_type,
                Quantity as quantity,
                cast(Quantity as decimal(18, 0))
                    * try_cast(cast(UnitPrice as varchar) as decimal(18, 4)) as extended_price,
                cast(0 as decimal(18, 4)) as extended_cost,
                -- for the customers' regions and the checks below
                InvoiceDate as invoiced_at,
                Country as country,
                cast(UnitPrice as varchar) as unit_price_text
            from exported
        )
        -- a line repeated by overlapping exports is written once
        select distinct * from converted
        """
    )


def _check_lines(con: duckdb.DuckDBPyConnection) -> None:
    """Stop when a price has more than four decimals: the contract's decimal(18, 4) would round it.

    Other gaps (no InvoiceNo, StockCode or InvoiceDate) are written as empty fields, so the build
    quarantines those lines with a reason, as it does lines without a customer.
    """
    (too_precise,) = con.execute(
        """
        select count(*)
        from lines
        where contains(lower(unit_price_text), 'e')
            or length(split_part(unit_price_text, '.', 2)) > 4
        """
    ).fetchone()
    if too_precise:
        raise ConversionError(f"{too_precise} lines have a UnitPrice with more than four decimals")


def _offerings_sql() -> str:
    specials = ", ".join(
        f"({sql_string(code)}, {sql_string(name)}, {sql_string(family)})"
        for code, (name, family) in SPECIAL_CODES.items()
    )
    return f"""
        with
        special_codes (offering_id, offering_name, offering_family) as (
            values {specials}
        ),
        used as (
            select distinct offering_id from lines
        )
        select
            used.offering_id,
            case
                when special_codes.offering_name is not null then special_codes.offering_name
                when used.offering_id = 'GIFT-VOUCHER' then 'Gift vouchers'
                when used.offering_id = 'STOCK-OTHER' then 'Stock items, non-numeric codes'
                else 'Stock items ' || right(used.offering_id, 2) || 'xxx'
            end as offering_name,
            coalesce(
                special_codes.offering_family,
                case
                    when used.offering_id = 'GIFT-VOUCHER' then 'gift vouchers'
                    else 'stock items'
                end
            ) as offering_family,
            '{REVENUE_TYPE}' as revenue_type,
            'current' as lifecycle,
            false as is_full_package_component,
            cast(null as decimal(18, 4)) as list_price
        from used
        left join special_codes on used.offering_id = special_codes.offering_id
        order by used.offering_id
        """


_CUSTOMERS_SQL = """
    select customer_id, arg_max(country, (invoiced_at, -rank_of_country)) as region
    from (
        select
            *,
            dense_rank() over (partition by customer_id order by country) as rank_of_country
        from lines
        where customer_id is not null
    )
    group by customer_id
    order by customer_id
"""


def convert(
    inputs: list[Path | str], output: Path | str, file_format: str = "csv"
) -> dict[str, tuple[Path, int]]:
    """Write customers, offerings and invoice_lines for the export(s) ``inputs`` into ``output``.

    Returns, per table, the file written and its row count. Files of these three tables in the
    other format are removed (the loader refuses a table with two files).

    Raises:
        ConversionError: an input file or column is missing, a price would have to be
            rounded, or ``output`` holds files of other landing tables, which the build would
            read as if they belonged to this export.
    """
    if file_format not in FILE_FORMATS:
        raise ValueError(f"file format must be one of {FILE_FORMATS}, not {file_format!r}")
    paths = [Path(p) for p in inputs]
    output = Path(output)
    for path in paths:
        if not path.is_file():
            raise ConversionError(f"{path}: no such file")
    foreign = sorted(
        f"{output / f'{table}.{fmt}'}"
        for table in LANDING_TABLES
        if table not in OUTPUT_COLUMNS
        for fmt in FILE_FORMATS
        if (output / f"{table}.{fmt}").exists()
    )
    if foreign:
        raise ConversionError(
            "the output folder holds landing files that are not part of this export: "
            + ", ".join(foreign)
            + "; remove them or choose another folder"
        )
    for table, columns in OUTPUT_COLUMNS.items():  # the contract, checked where it is written
        assert set(required_columns(table)) <= set(columns) <= set(LANDING_TABLES[table])

    output.mkdir(parents=True, exist_ok=True)
    queries = {
        "customers": _CUSTOMERS_SQL,
        "offerings": _offerings_sql(),
        "invoice_lines": (
            f"select {', '.join(OUTPUT_COLUMNS['invoice_lines'])} from lines "
            "order by invoice_date, invoice_line_id"
        ),
    }
    options = "format csv, header true" if file_format == "csv" else "format parquet"
    written: dict[str, tuple[Path, int]] = {}
    with duckdb.connect() as con:
        missing = [
            f"{path}: missing column {column}"
            for path in paths
            for column in _INPUT_COLUMNS
            if column
            not in {
                row[0]
                for row in con.execute(
                    f"describe select * from read_parquet({sql_string(str(path))})"
                ).fetchall()
            }
        ]
        if missing:
            raise ConversionError("; ".join(missing))
        _create_lines(con, paths)
        _check_lines(con)
        for table, sql in queries.items():
            path = output / f"{table}.{file_format}"
            for other in FILE_FORMATS:
                if other != file_format:
                    (output / f"{table}.{other}").unlink(missing_ok=True)
            con.execute(f"create temp table output_{table} as {sql}")
            con.execute(f"copy output_{table} to {sql_string(str(path))} ({options})")
            (rows,) = con.execute(f"select count(*) from output_{table}").fetchone()
            written[table] = (path, rows)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.landing.online_retail",
        description="Convert a UCI Online Retail invoicing export (Parquet) into the landing "
        "files customers, offerings and invoice_lines.",
    )
    parser.add_argument(
        "--input",
        nargs="+",
        required=True,
        help="the export as Parquet; several overlapping exports may be given",
    )
    parser.add_argument("--output", required=True, help="landing folder, created if missing")
    parser.add_argument("--format", choices=FILE_FORMATS, default="csv", dest="file_format")
    args = parser.parse_args(argv)
    try:
        written = convert(args.input, args.output, args.file_format)
    except ConversionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for table, (path, rows) in written.items():
        print(f"wrote {table:<14} {rows:>9,} rows  {path}")
    print(
        "not written (absent, read as empty): agreements, agreement_lines, time_entries, "
        "churn_events"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
