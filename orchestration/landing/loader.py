"""Load the landing folder's exports into the warehouse's ``landing`` schema.

The landing contract is seven tables, one file each, as CSV with a header or
as Parquet: ``<table>.csv`` or ``<table>.parquet``. ``customers``,
``offerings`` and ``invoice_lines`` are required; ``agreements``,
``agreement_lines``, ``time_entries`` and ``churn_events`` are optional
(:data:`OPTIONAL_TABLES`): an absent file reads as an empty table. Within a
file, the columns of :data:`OPTIONAL_COLUMNS` may be missing and read as
empty. This module is the only code that touches those files. It

1. checks the contract before anything is built: every required table has
   exactly one file, and every required column is present (a missing file or
   column is a :class:`LandingError` naming the file and the column);
2. copies the contract's columns, as text exactly as exported, into
   ``landing.<table>`` with DuckDB's own CSV and Parquet readers (extra
   columns are ignored; an optional column the file lacks is empty; an
   absent optional table is an empty table);
3. keeps every malformed CSV line (too many or too few fields, an
   unterminated quote) that DuckDB's reader rejects, with its text and line
   number, in ``landing.reader_rejects`` instead of failing the load — the
   dbt models list them in ``audit.rejected_rows``;
4. records what it read in ``landing.load_log``, one row per table and load,
   with a note naming what an absent optional table leaves empty, or which
   text encoding a CSV file was read in.

CSV files are read in the encoding of ``PORTFOLIO_LANDING_ENCODING``
(``auto``: UTF-8, else Windows-1252; :mod:`orchestration.landing.encodings`):
a file that is not UTF-8 is transcoded to a temporary UTF-8 copy first, and a
record of a declared-UTF-8 file that does not decode is set aside in
``landing.reader_rejects`` like a malformed line. A header the reader cannot use
(a column named twice, an empty header line, a semicolon- or tab-delimited
file) is a :class:`LandingError` naming the file, before anything is loaded.

Typing happens in the dbt staging models, which read these tables as sources.

Command line::

    python -m orchestration.landing check --landing-dir data/landing
    python -m orchestration.landing load --landing-dir data/landing \\
        --warehouse warehouse/portfolio.duckdb
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date
from pathlib import Path

import duckdb

from orchestration import settings
from orchestration.landing.contract import (
    FILE_FORMATS,
    LANDING_SCHEMA,
    LANDING_TABLES,
    OPTIONAL_TABLES,
    required_columns,
)
from orchestration.landing.encodings import PreparedCsv, prepared_csv, read_header
from orchestration.months import DataMonths, data_months
from orchestration.warehouse.connection import sql_string


class LandingError(Exception):
    """The landing folder breaks the contract (missing file or column)."""


class MissingLandingFileError(LandingError):
    """A table has no file in the landing folder."""


@dataclass(frozen=True)
class LandingFile:
    """One landing table's file."""

    table: str
    path: Path
    file_format: str
    #: Text encoding of a CSV file: ``auto``, ``utf-8``, ``cp1252`` or ``latin-1``.
    encoding: str = "auto"

    def header(self) -> list[str]:
        """Column names in the file's header (CSV) or schema (Parquet).

        Raises:
            LandingError: an empty or undecodable header line, naming the file.
        """
        if self.file_format == "csv":
            try:
                header = read_header(self.path, self.encoding)
            except UnicodeDecodeError as error:
                raise LandingError(f"{self.path}: {error.reason}") from None
            if not header:
                raise LandingError(
                    f"{self.path}: the header line is empty (the first line must name the "
                    "columns, comma-separated)"
                )
            return header
        with duckdb.connect() as con:
            rows = con.execute(
                f"describe select * from read_parquet({sql_string(str(self.path))})"
            ).fetchall()
        return [row[0] for row in rows]

    def reader_sql(self, rejects_table: str | None = None, source: Path | None = None) -> str:
        """A DuckDB table expression that reads the file, every column as text.

        CSV is read with a fixed dialect (comma, double quotes) and the
        header's columns, so one malformed line cannot confuse dialect
        detection; with ``rejects_table`` the reader skips malformed lines
        and records them there (DuckDB's ``store_rejects``). ``source`` is the
        file to read instead, the UTF-8 copy of :func:`prepared_csv`.
        """
        literal = sql_string(str(source or self.path))
        if self.file_format == "parquet":
            return f"read_parquet({literal})"
        columns = ", ".join(f"{sql_string(c)}: 'VARCHAR'" for c in reader_columns(self.header()))
        options = [
            "header = true",
            "auto_detect = false",
            "delim = ','",
            "quote = '\"'",
            "escape = '\"'",
            f"columns = {{{columns}}}",
        ]
        if rejects_table:
            options += [
                "store_rejects = true",
                f"rejects_table = {sql_string(rejects_table)}",
                f"rejects_scan = {sql_string(rejects_table + '_scan')}",
            ]
        return f"read_csv({literal}, {', '.join(options)})"


def reader_columns(header: list[str]) -> list[str]:
    """The header's names as the reader is given them: an empty name becomes ``column<n>``."""
    return [name if name.strip() else f"column{number}" for number, name in enumerate(header, 1)]


@contextmanager
def readable_file(landing_file: LandingFile) -> Iterator[PreparedCsv | None]:
    """For a CSV file, the file DuckDB reads in the file's encoding; ``None`` for Parquet."""
    if landing_file.file_format != "csv":
        yield None
        return
    with prepared_csv(landing_file.path, landing_file.encoding) as prepared:
        yield prepared


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def landing_encoding() -> str:
    """The CSV encoding setting (``PORTFOLIO_LANDING_ENCODING``), a bad value as LandingError."""
    from orchestration import settings

    try:
        return settings.landing_encoding()
    except settings.SettingError as error:
        raise LandingError(str(error)) from None


def find_landing_file(
    landing_dir: Path | str, table: str, encoding: str | None = None
) -> LandingFile:
    """Return the single file holding ``table`` in ``landing_dir``.

    ``encoding`` is the CSV encoding (default: the ``PORTFOLIO_LANDING_ENCODING`` setting).

    Raises:
        LandingError: no file, or both a CSV and a Parquet file, for the table.
    """
    landing_dir = Path(landing_dir)
    encoding = encoding or landing_encoding()
    found = [
        LandingFile(table, landing_dir / f"{table}.{fmt}", fmt, encoding)
        for fmt in FILE_FORMATS
        if (landing_dir / f"{table}.{fmt}").is_file()
    ]
    if not found:
        raise MissingLandingFileError(
            f"missing landing file for table '{table}': expected "
            f"{landing_dir / (table + '.csv')} or {landing_dir / (table + '.parquet')}"
        )
    if len(found) > 1:
        raise LandingError(
            f"ambiguous landing files for table '{table}': "
            + " and ".join(str(f.path) for f in found)
            + " both exist; keep one"
        )
    return found[0]


def file_columns(landing_file: LandingFile) -> list[str]:
    """Column names of a landing file as its reader sees them."""
    return landing_file.header()


def header_problems(landing_file: LandingFile, header: list[str]) -> list[str]:
    """What in ``header`` stops the file from loading, one message per problem.

    A column named twice (compared as the loader matches names: trimmed, any case), and a
    CSV header that has no comma but semicolons or tabs and so lacks the required columns.
    """
    path = landing_file.path
    positions: dict[str, list[int]] = {}
    for number, name in enumerate(header, start=1):
        if name.strip():
            positions.setdefault(name.strip().lower(), []).append(number)
    problems = [
        f"{path}: column '{name}' appears {len(numbers)} times in the header (columns "
        f"{', '.join(map(str, numbers[:-1]))} and {numbers[-1]}); remove or rename all but one"
        for name, numbers in positions.items()
        if len(numbers) > 1
    ]
    present = set(positions)
    missing = [c for c in required_columns(landing_file.table) if c not in present]
    if landing_file.file_format == "csv" and missing and len(header) == 1:
        for character, name in ((";", "semicolon"), ("\t", "tab")):
            if character in header[0]:
                problems.append(
                    f"{path}: the header has no comma but {header[0].count(character)} "
                    f"{name}s: the file seems to be {name}-delimited; export it "
                    "comma-separated (the loader reads comma-separated CSV only)"
                )
                return problems
    problems.extend(f"{path}: missing required column '{column}'" for column in missing)
    return problems


def check_landing(
    landing_dir: Path | str,
    con: duckdb.DuckDBPyConnection | None = None,
    encoding: str | None = None,
) -> dict[str, LandingFile]:
    """Check the whole landing contract and return the file of each table present.

    An optional table without a file is left out of the result. Every problem is
    collected before raising, so one run lists them all. ``encoding`` is the CSV
    encoding (default: the ``PORTFOLIO_LANDING_ENCODING`` setting).

    Raises:
        LandingError: with one line per missing file, missing column or unusable
            header (a column named twice, an empty or undecodable header line, a
            semicolon- or tab-delimited file).
    """
    landing_dir = Path(landing_dir)
    if not landing_dir.is_dir():
        raise LandingError(f"landing folder {landing_dir} does not exist")
    encoding = encoding or landing_encoding()
    own_connection = con is None
    con = con or duckdb.connect()
    problems: list[str] = []
    files: dict[str, LandingFile] = {}
    try:
        for table in LANDING_TABLES:
            try:
                landing_file = find_landing_file(landing_dir, table, encoding)
            except MissingLandingFileError as error:
                if table not in OPTIONAL_TABLES:
                    problems.append(str(error))
                continue
            except LandingError as error:
                problems.append(str(error))
                continue
            try:
                header = file_columns(landing_file)
            except LandingError as error:
                problems.append(str(error))
                continue
            except (duckdb.Error, OSError, UnicodeDecodeError) as error:
                problems.append(f"cannot read the file of table '{table}': {error}")
                continue
            found = header_problems(landing_file, header)
            problems.extend(found)
            if not found:
                files[table] = landing_file
    finally:
        if own_connection:
            con.close()
    if problems:
        raise LandingError("landing contract broken:\n  " + "\n  ".join(problems))
    return files


def _select_contract_columns(
    landing_file: LandingFile, rejects_table: str, source: Path | None = None
) -> str:
    # Map header names case-insensitively, so `Customer_ID` still loads; an
    # optional column the file lacks reads as empty.
    by_lower = {c.strip().lower(): c for c in reader_columns(file_columns(landing_file))}
    columns = ",\n    ".join(
        f"cast({_quote_identifier(by_lower[c])} as varchar) as {_quote_identifier(c)}"
        if c in by_lower
        else f"cast(null as varchar) as {_quote_identifier(c)}"
        for c in LANDING_TABLES[landing_file.table]
    )
    return f"select\n    {columns}\nfrom {landing_file.reader_sql(rejects_table, source)}"


@dataclass(frozen=True)
class LandingFileState:
    """Name, size and modification time of one landing file."""

    name: str
    size: int
    mtime_ns: int


def landing_file_states(folder: Path | str) -> list[LandingFileState]:
    """The landing table files present in ``folder``, sorted by name (others are ignored)."""
    states = []
    for table in LANDING_TABLES:
        for file_format in FILE_FORMATS:
            path = Path(folder) / f"{table}.{file_format}"
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            states.append(LandingFileState(path.name, stat.st_size, stat.st_mtime_ns))
    return sorted(states, key=lambda state: state.name)


def fingerprint(states: list[LandingFileState]) -> str:
    """A hash of the landing files' names, sizes and modification times.

    Recorded with every load (``landing.load_log``) and publish (``audit.publish_log``), so
    the landing sensor can tell whether the served warehouse was built from the files there.
    """
    text = "\n".join(f"{s.name}\t{s.size}\t{s.mtime_ns}" for s in states)
    return hashlib.sha256(text.encode()).hexdigest()


def _empty_table_sql(table: str) -> str:
    columns = ", ".join(f"{_quote_identifier(c)} varchar" for c in LANDING_TABLES[table])
    return f"create or replace table {LANDING_SCHEMA}.{table} ({columns})"


@dataclass(frozen=True)
class TableLoad:
    """What the loader did with one landing table."""

    table: str
    path: Path | None
    file_format: str
    rows_loaded: int
    malformed_lines: int
    #: For a CSV file, the encoding it was read in and what that took.
    encoding_note: str | None = None
    #: The file was unchanged since the table's last load, so the table was kept, not read.
    reused: bool = False

    @property
    def is_present(self) -> bool:
        return self.path is not None

    @property
    def note(self) -> str | None:
        """For an absent optional table, what its absence means for the marts; for a CSV
        file, the encoding it was read in."""
        if self.is_present:
            return self.encoding_note
        return f"file absent: read as empty; {OPTIONAL_TABLES[self.table]}"

    def describe(self) -> str:
        """One line for the terminal."""
        if not self.is_present:
            return f"absent {self.table:<16} {self.note}"
        extra = (
            f", {self.malformed_lines:,} malformed lines set aside" if self.malformed_lines else ""
        )
        encoding = f"  ({self.encoding_note})" if self.encoding_note else ""
        verb = "kept  " if self.reused else "loaded"
        unchanged = "  (file unchanged since its last load)" if self.reused else ""
        return (
            f"{verb} {self.table:<16} {self.rows_loaded:>12,} rows{extra}  from {self.path}"
            + encoding
            + unchanged
        )


#: Columns of ``landing.load_log``; columns added later are added to an older log.
_LOAD_LOG_COLUMNS = {
    "table_name": "varchar",
    "file_path": "varchar",
    "file_format": "varchar",
    "rows_loaded": "bigint",
    "malformed_lines": "bigint",
    "loaded_at": "timestamp",
    "is_present": "boolean",
    "note": "varchar",
    "landing_fingerprint": "varchar",
    "file_state": "varchar",
}


def file_state(landing_file: LandingFile) -> str:
    """What identifies the content a load read from ``landing_file``: a hash of its resolved
    path, format, size, modification and change times, inode, encoding setting and the
    contract's columns of its table.

    Any rewrite of the file changes its change time (``st_ctime_ns``, which tools cannot set
    back), so an equal state means the file was not touched since that load.
    """
    stat = landing_file.path.stat()
    parts = [
        str(landing_file.path.resolve()),
        landing_file.file_format,
        str(stat.st_size),
        str(stat.st_mtime_ns),
        str(stat.st_ctime_ns),
        str(stat.st_ino),
        landing_file.encoding,
        ",".join(LANDING_TABLES[landing_file.table]),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _previous_loads(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, int, int, str | None]]:
    """Per table, the latest load's file state, rows, malformed lines and note."""
    rows = con.execute(
        f"""
        select table_name, file_state, rows_loaded, malformed_lines, note
        from {LANDING_SCHEMA}.load_log
        where loaded_at = (select max(loaded_at) from {LANDING_SCHEMA}.load_log)
            and is_present and file_state is not null
        """
    ).fetchall()
    return {table: (state, rows_, malformed, note) for table, state, rows_, malformed, note in rows}


def _reusable(
    con: duckdb.DuckDBPyConnection,
    landing_file: LandingFile,
    state: str,
    previous: dict[str, tuple[str, int, int, str | None]],
) -> TableLoad | None:
    """The kept load of a table whose file is unchanged since its last load, else None."""
    table = landing_file.table
    if table not in previous or previous[table][0] != state:
        return None
    (count,) = con.execute(f"select count(*) from {LANDING_SCHEMA}.{table}").fetchone()
    _, rows_loaded, malformed, note = previous[table]
    if count != rows_loaded:
        return None
    return TableLoad(
        table,
        landing_file.path.resolve(),
        landing_file.file_format,
        count,
        malformed,
        note,
        reused=True,
    )


def _load_file(con: duckdb.DuckDBPyConnection, landing_file: LandingFile) -> TableLoad:
    table = landing_file.table
    rejects_table = f"temp_rejects_{table}"
    file_path = str(landing_file.path.resolve())
    with readable_file(landing_file) as prepared:
        source = prepared.path if prepared else None
        select = _select_contract_columns(landing_file, rejects_table, source)
        con.execute(f"create or replace table {LANDING_SCHEMA}.{table} as {select}")
    (count,) = con.execute(f"select count(*) from {LANDING_SCHEMA}.{table}").fetchone()
    if prepared is None:
        return TableLoad(table, landing_file.path.resolve(), landing_file.file_format, count, 0)
    # One record can raise several errors (an unterminated quote and
    # then too many columns): keep one row per rejected record.
    con.execute(
        f"""
        insert into {LANDING_SCHEMA}.reader_rejects
        select
            ? as table_name,
            ? as file_path,
            line,
            string_agg(distinct cast(error_type as varchar), '; ') as error_type,
            string_agg(distinct error_message, '; ') as error_message,
            min(csv_line) as csv_line
        from {rejects_table}
        group by line
        """,
        [table, file_path],
    )
    (malformed,) = con.execute(f"select count(distinct line) from {rejects_table}").fetchone()
    # Records of a declared-UTF-8 file that are not UTF-8 were set aside before DuckDB read it.
    if prepared.undecodable:
        con.executemany(
            f"insert into {LANDING_SCHEMA}.reader_rejects values (?, ?, ?, ?, ?, ?)",
            [
                [table, file_path, record.line, "UNDECODABLE", record.reason, record.text]
                for record in prepared.undecodable
            ],
        )
    return TableLoad(
        table,
        landing_file.path.resolve(),
        landing_file.file_format,
        count,
        malformed + len(prepared.undecodable),
        prepared.note(),
    )


def load_landing(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path | str,
    progress: bool = False,
    encoding: str | None = None,
    reuse_unchanged: bool = False,
) -> list[TableLoad]:
    """Check the contract, then (re)load every landing table into ``landing``.

    ``encoding`` is the CSV encoding (default: the ``PORTFOLIO_LANDING_ENCODING`` setting).
    With ``reuse_unchanged``, a table whose file is unchanged since the table's latest load
    in ``landing.load_log`` (:func:`file_state`) is kept as it is instead of read again, with
    its malformed lines in ``landing.reader_rejects``; the load log still gets a row for it.

    Malformed CSV lines do not stop the load: they are kept, one row per
    rejected record, in ``landing.reader_rejects``. An absent optional table
    becomes an empty table. Returns what was done with each table, in
    contract order.
    """
    files = check_landing(landing_dir, con, encoding)
    landing_fingerprint = fingerprint(landing_file_states(landing_dir))
    # The injected clock (PORTFOLIO_CLOCK): the export date the plausible-date window reads.
    loaded_at = settings.now().astimezone(UTC).replace(tzinfo=None)
    con.execute(f"create schema if not exists {LANDING_SCHEMA}")
    columns = ", ".join(f"{name} {sql_type}" for name, sql_type in _LOAD_LOG_COLUMNS.items())
    con.execute(f"create table if not exists {LANDING_SCHEMA}.load_log ({columns})")
    for name, sql_type in _LOAD_LOG_COLUMNS.items():
        con.execute(
            f"alter table {LANDING_SCHEMA}.load_log add column if not exists {name} {sql_type}"
        )
    previous = _previous_loads(con) if reuse_unchanged else {}
    con.execute(
        f"""
        create table if not exists {LANDING_SCHEMA}.reader_rejects (
            table_name varchar,
            file_path varchar,
            line bigint,
            error_type varchar,
            error_message varchar,
            csv_line varchar
        )
        """
    )
    loads: list[TableLoad] = []
    for table in LANDING_TABLES:
        state = file_state(files[table]) if table in files else None
        load = _reusable(con, files[table], state, previous) if state else None
        if load is None:
            con.execute(
                f"delete from {LANDING_SCHEMA}.reader_rejects where table_name = ?", [table]
            )
            if table in files:
                load = _load_file(con, files[table])
            else:
                con.execute(_empty_table_sql(table))
                load = TableLoad(table, None, "absent", 0, 0)
        con.execute(
            f"insert into {LANDING_SCHEMA}.load_log ({', '.join(_LOAD_LOG_COLUMNS)}) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                table,
                str(load.path) if load.path else None,
                load.file_format,
                load.rows_loaded,
                load.malformed_lines,
                loaded_at,
                load.is_present,
                load.note,
                landing_fingerprint,
                state,
            ],
        )
        if progress:
            print(load.describe(), file=sys.stderr)
        loads.append(load)
    return loads


def landing_data_months(landing_dir: Path | str, cut_off: date | None = None) -> DataMonths | None:
    """The invoice months of the ``invoice_lines`` file in ``landing_dir``.

    Raises:
        LandingError: the folder has no readable invoice_lines file.
    """
    landing_file = find_landing_file(landing_dir, "invoice_lines")
    by_lower = {c.strip().lower(): c for c in reader_columns(landing_file.header())}
    column = by_lower.get("invoice_date")
    if column is None:
        raise LandingError(f"{landing_file.path}: missing required column 'invoice_date'")
    quoted = '"' + column.replace('"', '""') + '"'
    # Malformed lines are set aside as the loader does (reader_rejects), not fatal.
    with readable_file(landing_file) as prepared, duckdb.connect() as con:
        reader = landing_file.reader_sql("temp_rejects_months", prepared and prepared.path)
        # As text, as the loader lands it: a Parquet export may type the column as a date.
        relation = f"(select cast({quoted} as varchar) as invoice_date from {reader})"
        return data_months(con, relation, cut_off)
