"""Messy landing files: encodings, byte-order marks, line endings and unusable headers.

Each test writes a few small files into tmp_path and runs the loader against an in-memory
DuckDB; no dbt.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from orchestration import settings
from orchestration.landing import cli, encodings
from orchestration.landing.encodings import first_undecodable_offset, prepared_csv
from orchestration.landing.loader import (
    LandingError,
    check_landing,
    landing_data_months,
    load_landing,
)

OFFERINGS = "offering_id,revenue_type,lifecycle,is_full_package_component\nMS,mrr,current,true\n"
INVOICE_HEADER = (
    "invoice_line_id,invoice_date,customer_id,offering_id,revenue_type,extended_price,"
    "extended_cost\n"
)
INVOICES = INVOICE_HEADER + "L1,2026-01-01,C1,MS,mrr,100.00,10.00\n"


@pytest.fixture(autouse=True)
def _auto_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORTFOLIO_LANDING_ENCODING", raising=False)


def landing(tmp_path: Path, customers: bytes, invoices: bytes | None = None) -> Path:
    """A landing folder of the three required files with ``customers`` as given."""
    folder = tmp_path / "landing"
    folder.mkdir(parents=True)
    (folder / "customers.csv").write_bytes(customers)
    (folder / "offerings.csv").write_text(OFFERINGS)
    (folder / "invoice_lines.csv").write_bytes(invoices or INVOICES.encode())
    return folder


def load(folder: Path) -> tuple[duckdb.DuckDBPyConnection, dict[str, object]]:
    con = duckdb.connect()
    loads = {load.table: load for load in load_landing(con, folder)}
    return con, loads


def names(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return con.execute(
        "select customer_id, customer_name from landing.customers order by customer_id"
    ).fetchall()


def rejects(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select table_name, line, error_type, error_message, csv_line"
        " from landing.reader_rejects order by line"
    ).fetchall()


def filler(count: int) -> str:
    """``count`` plain ASCII customer lines, C100 … (about 20 bytes each)."""
    return "".join(f"C{100 + i},Customer number {i}\n" for i in range(count))


# --- encodings ---------------------------------------------------------------------------


def test_utf8_file_is_read_in_place_with_its_accents(tmp_path: Path) -> None:
    folder = landing(tmp_path, "customer_id,customer_name\nC1,Müller\nC2,Ærø\n".encode())
    con, loads = load(folder)
    assert names(con) == [("C1", "Müller"), ("C2", "Ærø")]
    assert rejects(con) == []
    assert loads["customers"].note == "encoding utf-8 (detected)"
    with prepared_csv(folder / "customers.csv", "auto") as prepared:
        assert prepared.path == folder / "customers.csv"  # no copy
        assert not prepared.transcoded


def test_utf8_with_byte_order_mark(tmp_path: Path) -> None:
    folder = landing(tmp_path, b"\xef\xbb\xbfCustomer_ID,customer_name\r\nC1,M\xc3\xbcller\r\n")
    con, loads = load(folder)
    assert names(con) == [("C1", "Müller")]
    assert loads["customers"].note == "encoding utf-8 (detected)"


@pytest.mark.parametrize("early", [True, False], ids=["first-line-and-late", "late-only"])
def test_cp1252_is_detected_and_transcoded_in_the_first_line_and_after_8_kb(
    tmp_path: Path, early: bool
) -> None:
    lines = filler(600)  # about 15 KB of ASCII: the last line starts after 8 KB
    assert len(lines) > 8_192
    first = "Müller" if early else "Mueller"
    body = f"customer_id,customer_name\nC1,{first}\n" + lines + "C2,Gruß € Søn\n"
    folder = landing(tmp_path, body.encode("cp1252"))
    con, loads = load(folder)
    rows = dict(names(con))
    assert len(rows) == 602
    assert rows["C1"] == first
    assert rows["C2"] == "Gruß € Søn"
    assert rejects(con) == []
    first_bad = 2 if early else 603
    assert loads["customers"].note == (
        f"encoding cp1252 (detected: not UTF-8 from line {first_bad}), transcoded to UTF-8"
    )
    assert loads["customers"].malformed_lines == 0
    log = con.execute("select note from landing.load_log where table_name = 'customers'").fetchall()
    assert log == [(loads["customers"].note,)]


def test_cp1252_bytes_windows_leaves_undefined_still_load(tmp_path: Path) -> None:
    # 0x81 is undefined in Windows-1252: it reads as U+0081, never an error.
    folder = landing(tmp_path, b"customer_id,customer_name\nC1,A\x81B\xfc\n")
    con, _ = load(folder)
    assert names(con) == [("C1", "A\x81Bü")]


@pytest.mark.parametrize("declared", ["latin-1", "cp1252", "Windows-1252", "latin1"])
def test_declared_single_byte_encoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, declared: str
) -> None:
    monkeypatch.setenv("PORTFOLIO_LANDING_ENCODING", declared)
    folder = landing(tmp_path, "customer_id,customer_name\nC1,Müller\n".encode("latin-1"))
    con, loads = load(folder)
    assert names(con) == [("C1", "Müller")]
    expected = settings.landing_encoding()
    assert expected in ("latin-1", "cp1252")
    assert loads["customers"].note == (f"encoding {expected} (declared), transcoded to UTF-8")


def test_declared_utf8_sets_aside_only_the_undecodable_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTFOLIO_LANDING_ENCODING", "utf-8")
    body = (
        b"customer_id,customer_name\r\n"
        b"C1,M\xc3\xbcller\r\n"  # line 2: UTF-8
        b"C2,M\xfcller\r\n"  # line 3: a Latin-1 byte
        b'C3,"two\r\nlines"\r\n'  # line 4: one record over two lines
        b"C4,x,too many\r\n"  # line 5: malformed, DuckDB's reject
        b"C5,Ok\r\n"
    )
    folder = landing(tmp_path, body)
    con, loads = load(folder)
    assert names(con) == [("C1", "Müller"), ("C3", "two\r\nlines"), ("C5", "Ok")]
    found = rejects(con)
    assert [(table, line, kind) for table, line, kind, _, _ in found] == [
        ("customers", 3, "UNDECODABLE"),
        ("customers", 5, "TOO MANY COLUMNS"),
    ]
    _, _, _, message, record = found[0]
    assert message == (
        "customers.csv line 3: byte 0xfc at column 5 is not UTF-8; the record is set aside"
        " — set PORTFOLIO_LANDING_ENCODING=cp1252 if the file is a Windows export"
    )
    assert record == "C2,M\\xfcller"
    assert loads["customers"].rows_loaded == 3
    assert loads["customers"].malformed_lines == 2
    assert "1 undecodable records set aside in landing.reader_rejects (lines 3)" in (
        loads["customers"].note
    )


def test_declared_utf8_header_that_does_not_decode_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTFOLIO_LANDING_ENCODING", "utf-8")
    folder = landing(tmp_path, b"customer_id,kundenname_gr\xf6\xdfe\nC1,x\n")
    with pytest.raises(LandingError) as error:
        check_landing(folder)
    assert f"{folder / 'customers.csv'}: the header line is not UTF-8 (byte 0xf6 at column 26)" in (
        str(error.value)
    )


def test_unknown_encoding_setting_is_one_landing_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTFOLIO_LANDING_ENCODING", "ebcdic")
    folder = landing(tmp_path, b"customer_id\nC1\n")
    with pytest.raises(LandingError, match="PORTFOLIO_LANDING_ENCODING must be one of auto"):
        check_landing(folder)


def test_the_utf8_check_finds_a_byte_split_over_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(encodings, "CHUNK_BYTES", 4)
    path = tmp_path / "x.csv"
    path.write_bytes("abcü".encode() + b"de")  # ü's two bytes straddle the 4-byte chunks
    assert first_undecodable_offset(path) is None
    path.write_bytes(b"abc\xc3xdefgh\xfc")  # a lead byte without its continuation
    assert first_undecodable_offset(path) == 3
    path.write_bytes(b"abcdefg\n\xfc")
    assert first_undecodable_offset(path) == 8
    path.write_bytes(b"abcdefg\xc3")  # truncated at the end
    assert first_undecodable_offset(path) == 7


def test_crlf_and_quoted_line_breaks_load_in_every_encoding(tmp_path: Path) -> None:
    text = 'customer_id,customer_name\r\nC1,"Müller,\r\nHaus 2"\r\nC2,"Zoë ""Z"""\r\n'
    for encoding in ("utf-8", "cp1252"):
        folder = landing(tmp_path / encoding, text.encode(encoding))
        con, _ = load(folder)
        assert names(con) == [("C1", "Müller,\r\nHaus 2"), ("C2", 'Zoë "Z"')], encoding
        assert rejects(con) == []


def test_invoice_months_are_read_from_a_cp1252_file(tmp_path: Path) -> None:
    invoices = INVOICE_HEADER + "L1,2026-01-31,C1,MS,mrr,100.00,10.00\n"
    invoices += "L2,2026-03-01,C1,MS,mrr,50.00,5.00\n"
    folder = landing(
        tmp_path,
        b"customer_id\nC1\n",
        invoices.replace("invoice_line_id", "invoice_line_id,note")
        .replace("L2,", "L2,Gebühr,")
        .replace("L1,", "L1,,")
        .encode("cp1252"),
    )
    months = landing_data_months(folder)
    assert months is not None
    assert months.describe().startswith("invoice months 2026-01")


# --- headers -----------------------------------------------------------------------------


def test_a_column_named_twice_stops_the_load_naming_file_and_column(tmp_path: Path) -> None:
    invoices = INVOICE_HEADER.replace("\n", ", Extended_Price \n") + (
        "L1,2026-01-01,C1,MS,mrr,100.00,10.00,100.00\n"
    )
    folder = landing(tmp_path, b"customer_id\nC1\n", invoices.encode())
    with pytest.raises(LandingError) as error:
        load_landing(duckdb.connect(), folder)
    assert str(error.value) == (
        "landing contract broken:\n"
        f"  {folder / 'invoice_lines.csv'}: column 'extended_price' appears 2 times in the "
        "header (columns 6 and 8); remove or rename all but one"
    )


@pytest.mark.parametrize(("separator", "name"), [(";", "semicolon"), ("\t", "tab")])
def test_a_semicolon_or_tab_delimited_file_gets_the_delimiter_hint(
    tmp_path: Path, separator: str, name: str
) -> None:
    invoices = INVOICES.replace(",", separator)
    folder = landing(tmp_path, b"customer_id\nC1\n", invoices.encode())
    with pytest.raises(LandingError) as error:
        check_landing(folder)
    assert str(error.value) == (
        "landing contract broken:\n"
        f"  {folder / 'invoice_lines.csv'}: the header has no comma but 6 {name}s: the file "
        f"seems to be {name}-delimited; export it comma-separated (the loader reads "
        "comma-separated CSV only)"
    )


def test_the_command_line_prints_the_delimiter_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = landing(tmp_path, b"customer_id;customer_name\nC1;x\n")
    assert cli.main(["check", "--landing-dir", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "customers.csv: the header has no comma but 1 semicolons" in err
    assert "missing required column" not in err


def test_a_semicolon_in_a_usable_comma_header_is_no_problem(tmp_path: Path) -> None:
    folder = landing(tmp_path, b"customer_id,customer_name\nC1,a;b\n")
    con, _ = load(folder)
    assert names(con) == [("C1", "a;b")]


@pytest.mark.parametrize("content", [b"", b"\n", b"\r\nC1,x\r\n", b"\xef\xbb\xbf\n"])
def test_an_empty_header_names_the_file(tmp_path: Path, content: bytes) -> None:
    folder = landing(tmp_path, content)
    with pytest.raises(LandingError) as error:
        check_landing(folder)
    assert f"{folder / 'customers.csv'}: the header line is empty" in str(error.value)


def test_a_trailing_comma_in_the_header_loads(tmp_path: Path) -> None:
    # Spreadsheet exports often end the header with an unnamed, empty column.
    folder = landing(tmp_path, b"customer_id,customer_name,,\r\nC1,x,,\r\n")
    con, _ = load(folder)
    assert names(con) == [("C1", "x")]


def test_the_command_line_takes_the_encoding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = landing(tmp_path, b"customer_id,customer_name\nC1,M\xfcller\nC2,Ok\n")
    warehouse = tmp_path / "portfolio.duckdb"
    argv = ["load", "--landing-dir", str(folder), "--warehouse", str(warehouse)]
    assert cli.main([*argv, "--encoding", "utf-8"]) == 0
    err = capsys.readouterr().err
    assert "1 malformed lines set aside" in err
    assert "1 undecodable records set aside in landing.reader_rejects (lines 2)" in err
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert names(con) == [("C2", "Ok")]
        assert [row[:3] for row in rejects(con)] == [("customers", 2, "UNDECODABLE")]
    assert cli.main([*argv, "--encoding", "cp1252"]) == 0
    assert "encoding cp1252 (declared), transcoded to UTF-8" in capsys.readouterr().err
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert names(con) == [("C1", "Müller"), ("C2", "Ok")]
        assert rejects(con) == []
    with pytest.raises(SystemExit):
        cli.main([*argv, "--encoding", "ebcdic"])
    assert "--encoding must be one of auto" in capsys.readouterr().err


# --- keeping unchanged tables ------------------------------------------------------------


def test_unchanged_files_are_kept_and_a_changed_one_is_read_again(tmp_path: Path) -> None:
    # invoice_lines has a malformed line (an unterminated quote) that must survive being kept.
    invoices = INVOICES + 'L2,2026-01-02,C1,MS,mrr,"5.00,1.00\n'
    folder = landing(tmp_path, b"customer_id,customer_name\nC1,One\n", invoices.encode())
    con = duckdb.connect()
    first = {load.table: load for load in load_landing(con, folder, reuse_unchanged=True)}
    assert not any(load.reused for load in first.values())  # nothing to keep yet
    assert first["invoice_lines"].malformed_lines == 1

    (folder / "customers.csv").write_text("customer_id,customer_name\nC1,One\nC2,Two\n")
    second = {load.table: load for load in load_landing(con, folder, reuse_unchanged=True)}
    assert {t for t, load in second.items() if load.reused} == {"offerings", "invoice_lines"}
    assert second["customers"].rows_loaded == 2
    assert names(con) == [("C1", "One"), ("C2", "Two")]
    assert second["invoice_lines"].rows_loaded == 1
    assert second["invoice_lines"].malformed_lines == 1
    assert [r[:3] for r in rejects(con)] == [("invoice_lines", 3, "UNQUOTED VALUE")]
    assert "kept" in second["invoice_lines"].describe()
    # Every table has a row per load in the log, the kept ones included.
    assert con.execute(
        "select count(*) from landing.load_log where table_name = 'invoice_lines'"
    ).fetchone() == (2,)


def test_without_reuse_every_file_is_read_again(tmp_path: Path) -> None:
    folder = landing(tmp_path, b"customer_id,customer_name\nC1,One\n")
    con = duckdb.connect()
    load_landing(con, folder)
    again = load_landing(con, folder)
    assert not any(load.reused for load in again)


def test_a_rewritten_file_of_the_same_size_and_time_is_read_again(tmp_path: Path) -> None:
    folder = landing(tmp_path, b"customer_id,customer_name\nC1,One\n")
    con = duckdb.connect()
    load_landing(con, folder, reuse_unchanged=True)
    customers = folder / "customers.csv"
    stat = customers.stat()
    customers.write_bytes(b"customer_id,customer_name\nC1,Uno\n")  # same size
    os.utime(customers, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # modification time put back
    again = {load.table: load for load in load_landing(con, folder, reuse_unchanged=True)}
    assert not again["customers"].reused
    assert names(con) == [("C1", "Uno")]


def test_invoice_months_of_a_parquet_file_with_typed_dates(tmp_path: Path) -> None:
    # A Parquet export types invoice_date as DATE (and prices as DECIMAL); the months are read
    # from it as from text, like the loader lands it.
    folder = tmp_path / "landing"
    folder.mkdir()
    target = str(folder / "invoice_lines.parquet")
    duckdb.execute(
        f"""
        copy (
            select 'L' || i as invoice_line_id, date '2025-11-15' + to_months(i) as invoice_date,
                'C1' as customer_id, 'MS' as offering_id, 'mrr' as revenue_type,
                100.00::decimal(18, 2) as extended_price, 0::decimal(18, 2) as extended_cost
            from range(3) as t(i)
        ) to '{target}' (format parquet)
        """
    )
    months = landing_data_months(folder)
    assert months is not None
    assert months.describe().startswith("invoice months 2025-11..2026-01")
