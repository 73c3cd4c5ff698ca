"""Writers of the demo's landing files: CSV or Parquet, one file per table, written in chunks.

Tables, their columns, column order and types come from the landing contract
(:mod:`orchestration.landing.contract`). The one choice the demo adds is how it holds a ``number``
column: money as integer cents, written with two decimals (``123.40``), or a quantity or hours as
integer hundredths, written without trailing zeros (``7.5``); :data:`NUMBER_KINDS` says which for
every number column of the contract, and importing this module fails if it misses one.

CSV: a header, ISO dates, ``true``/``false``, an empty field for null. Parquet: DECIMAL(18, 2)
numbers, DATE dates, BOOLEAN flags, zstd-compressed, one row group per chunk.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Protocol

from orchestration.landing.contract import TABLES

NUMBER_KINDS: dict[tuple[str, str], str] = {
    ("offerings", "list_price"): "money",
    ("agreement_lines", "quantity"): "decimal",
    ("agreement_lines", "unit_price"): "money",
    ("invoice_lines", "quantity"): "decimal",
    ("invoice_lines", "extended_price"): "money",
    ("invoice_lines", "extended_cost"): "money",
    ("time_entries", "hours_actual"): "decimal",
    ("time_entries", "loaded_hourly_cost"): "money",
}
"""(table, column) -> ``money`` (integer cents) or ``decimal`` (integer hundredths), for every
``number`` column of the contract."""

_CONTRACT_NUMBERS = {(t.name, c.name) for t in TABLES for c in t.columns if c.type == "number"}
if set(NUMBER_KINDS) != _CONTRACT_NUMBERS:
    raise ValueError(
        "NUMBER_KINDS must cover exactly the contract's number columns; "
        f"missing {sorted(_CONTRACT_NUMBERS - set(NUMBER_KINDS))}, "
        f"not numbers {sorted(set(NUMBER_KINDS) - _CONTRACT_NUMBERS)}"
    )

COLUMN_KINDS: dict[str, tuple[tuple[str, str], ...]] = {
    t.name: tuple((c.name, NUMBER_KINDS.get((t.name, c.name), c.type)) for c in t.columns)
    for t in TABLES
}
"""Each landing table's columns in file order, as (name, kind): the contract's type (``text``,
``date``, ``integer``, ``boolean``), or for a number ``money`` or ``decimal``."""


def money_text(cents: int) -> str:
    """Integer cents as a plain number with two decimals: 12345 -> "123.45"."""
    q, r = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{q}.{r:02d}"


def decimal_text(hundredths: int) -> str:
    """Integer hundredths as a plain number without trailing zeros: 750 -> "7.5"."""
    q, r = divmod(abs(hundredths), 100)
    sign = "-" if hundredths < 0 else ""
    return f"{sign}{q}" if r == 0 else f"{sign}{q}.{r:02d}".rstrip("0")


# Most values are small (hours, hourly costs, quantities): format those once.
_SMALL = 100_000
_MONEY_TEXT = [money_text(c) for c in range(_SMALL)]
_DECIMAL_TEXT = [decimal_text(h) for h in range(_SMALL)]


def _fmt_money(cents: int | None) -> str:
    if cents is None:
        return ""
    return _MONEY_TEXT[cents] if 0 <= cents < _SMALL else money_text(cents)


def _fmt_decimal(hundredths: int | None) -> str:
    if hundredths is None:
        return ""
    return _DECIMAL_TEXT[hundredths] if 0 <= hundredths < _SMALL else decimal_text(hundredths)


def _fmt_bool(b: bool | None) -> str:
    return "" if b is None else ("true" if b else "false")


_FORMATTERS: dict[str, Callable[[Any], str]] = {
    "boolean": _fmt_bool,
    "money": _fmt_money,
    "decimal": _fmt_decimal,
}


class Sink(Protocol):
    """One table's file being written."""

    def write(self, rows: list[tuple]) -> None:
        """Appends rows, tuples in the table's column order."""


class CsvSink:
    """A table's CSV file: the header on opening, then rows as they come."""

    def __init__(self, path: Path, columns: tuple[tuple[str, str], ...], stack: ExitStack) -> None:
        self._file = stack.enter_context(path.open("w", newline="", encoding="utf-8"))
        self._writer = csv.writer(self._file, lineterminator="\n")
        self._writer.writerow([name for name, _ in columns])
        # csv writes None as an empty field, str and int as they are and a date as ISO text;
        # only booleans, money and decimals need formatting.
        self._convert = [
            (n, _FORMATTERS[kind]) for n, (_, kind) in enumerate(columns) if kind in _FORMATTERS
        ]

    def _format(self, rows: list[tuple]) -> Iterable[list]:
        convert = self._convert
        for row in rows:
            out = list(row)
            for n, f in convert:
                out[n] = f(out[n])
            yield out

    def write(self, rows: list[tuple]) -> None:
        """Appends rows."""
        self._writer.writerows(self._format(rows))


class ParquetSink:
    """A table's Parquet file: one row group per call of :meth:`write`."""

    def __init__(self, path: Path, columns: tuple[tuple[str, str], ...], stack: ExitStack) -> None:
        import numpy as np
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._np, self._pa = np, pa
        types = {
            "text": pa.string(),
            "integer": pa.int64(),
            "date": pa.date32(),
            "boolean": pa.bool_(),
            "money": pa.decimal128(18, 2),
            "decimal": pa.decimal128(18, 2),
        }
        self._columns = columns
        self._schema = pa.schema([(name, types[kind]) for name, kind in columns])
        self._writer = stack.enter_context(pq.ParquetWriter(path, self._schema, compression="zstd"))

    def _decimal(self, values: tuple) -> object:
        """DECIMAL(18, 2) array straight from integer hundredths (exact, no float)."""
        np, pa = self._np, self._pa
        n = len(values)
        nulls = [v is None for v in values]
        low = np.array([0 if v is None else v for v in values], dtype=np.int64)
        words = np.empty((n, 2), dtype=np.int64)
        words[:, 0] = low
        words[:, 1] = low >> 63  # sign extension into the high 64 bits
        validity = pa.array([not x for x in nulls], pa.bool_()).buffers()[1] if any(nulls) else None
        return pa.Array.from_buffers(
            pa.decimal128(18, 2), n, [validity, pa.py_buffer(words.tobytes())]
        )

    def write(self, rows: list[tuple]) -> None:
        """Appends rows as one row group."""
        pa = self._pa
        columns = list(zip(*rows, strict=True))
        arrays = []
        for (_, kind), values, field in zip(self._columns, columns, self._schema, strict=True):
            if kind in ("money", "decimal"):
                arrays.append(self._decimal(values))
            else:
                arrays.append(pa.array(values, field.type))
        self._writer.write_table(pa.Table.from_arrays(arrays, schema=self._schema))


SINKS: dict[str, type[CsvSink] | type[ParquetSink]] = {"csv": CsvSink, "parquet": ParquetSink}
"""The sink class of each file format."""
