"""Text encodings of landing CSV files: detect, transcode, quarantine undecodable lines.

DuckDB's CSV reader reads UTF-8 only. The encoding of a landing folder's CSV files is the
setting ``PORTFOLIO_LANDING_ENCODING`` (:func:`orchestration.settings.landing_encoding`):

- ``auto`` (default): a file that decodes as UTF-8 from its first byte to its last is UTF-8
  (a byte-order mark is skipped); any other file is Windows-1252 (a Windows export). The
  check is one streaming pass and copies nothing.
- ``utf-8``: the file is UTF-8; a record holding bytes that are not UTF-8 is set aside,
  with its line number and the offending byte, and every other record loads.
- ``cp1252`` / ``latin-1``: the file is in that encoding.

A file that is not read as UTF-8 is transcoded, in 1 MiB chunks (constant memory), to a
UTF-8 copy in a temporary folder (``TMPDIR``) that DuckDB then reads; line breaks are
unchanged, so DuckDB's line numbers are those of the original file. A plain UTF-8 file is
read in place. Windows-1252 leaves five bytes undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D);
they decode as their Latin-1 control characters, so no byte ever stops a load.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from orchestration import settings

#: Values of ``PORTFOLIO_LANDING_ENCODING`` (aliases: :data:`settings.LANDING_ENCODINGS`).
ENCODINGS: tuple[str, ...] = ("auto", "utf-8", "cp1252", "latin-1")
#: Where a chunked pass reads the file.
CHUNK_BYTES = 1 << 20
#: The encoding setting, named in messages.
SETTING = "PORTFOLIO_LANDING_ENCODING"
BOM = codecs.BOM_UTF8
_ERROR_HANDLER = "landing-cp1252-fallback"


def _latin1_fallback(error: UnicodeError) -> tuple[str, int]:
    # The bytes Windows-1252 leaves undefined read as the Latin-1 character of the same code.
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error(_ERROR_HANDLER, _latin1_fallback)


def normalise_encoding(value: str | None, name: str = SETTING) -> str:
    """``value`` as one of :data:`ENCODINGS` (empty or ``None`` is ``auto``).

    Raises:
        ValueError: any other value (a :class:`~orchestration.settings.SettingError`).
    """
    return settings.landing_encoding(value or "auto", name)


def _decode(data: bytes, encoding: str) -> str:
    if encoding == "cp1252":
        return data.decode("cp1252", _ERROR_HANDLER)
    return data.decode(encoding)


def _describe_bad_byte(raw: bytes, error: UnicodeDecodeError) -> str:
    column = len(raw[: error.start].decode("utf-8", "replace")) + 1
    return f"byte 0x{raw[error.start]:02x} at column {column}"


def _read_first_record(handle: io.BufferedReader, limit: int = CHUNK_BYTES) -> bytes:
    # The header is the first record: lines up to one that closes every quote it opened.
    raw = b""
    while len(raw) < limit:
        line = handle.readline(limit)
        if not line:
            break
        raw += line
        if raw.count(b'"') % 2 == 0:
            break
    return raw


def read_header(path: Path, encoding: str) -> list[str] | None:
    """The header's column names of the CSV at ``path`` read in ``encoding``.

    ``None`` when the file is empty or its first line is blank.

    Raises:
        UnicodeDecodeError: declared UTF-8 and the header is not (message ready to show).
    """
    with path.open("rb") as handle:
        raw = _read_first_record(handle)
    if raw.startswith(BOM):
        raw = raw[len(BOM) :]
    if encoding in ("auto", "utf-8"):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            if encoding == "utf-8":
                raise UnicodeDecodeError(
                    error.encoding,
                    error.object,
                    error.start,
                    error.end,
                    f"the header line is not UTF-8 ({_describe_bad_byte(raw, error)}); "
                    f"set {SETTING}=cp1252 for a Windows export",
                ) from None
            text = _decode(raw, "cp1252")
    else:
        text = _decode(raw, encoding)
    if not text.strip():
        return None
    return next(csv.reader(io.StringIO(text)), None) or None


def first_undecodable_offset(path: Path) -> int | None:
    """Byte offset of the first byte of ``path`` that is not UTF-8, or ``None``.

    One streaming pass: ASCII chunks are skipped without decoding.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            try:
                if not (chunk.isascii() and decoder.getstate()[0] == b""):
                    decoder.decode(chunk)
            except UnicodeDecodeError as error:
                # Bytes the decoder held from the previous chunk come first in its buffer.
                return max(offset - len(error.object) + len(chunk), 0) + error.start
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return offset - 1
    return None


def line_of_offset(path: Path, offset: int) -> int:
    """The 1-based physical line of the byte at ``offset``."""
    lines = 1
    with path.open("rb") as handle:
        remaining = offset
        while remaining > 0 and (chunk := handle.read(min(CHUNK_BYTES, remaining))):
            lines += chunk.count(b"\n")
            remaining -= len(chunk)
    return lines


@dataclass(frozen=True)
class UndecodableRecord:
    """A record of a declared-UTF-8 file that is not UTF-8, set aside."""

    line: int
    reason: str
    text: str


@dataclass(frozen=True)
class PreparedCsv:
    """A landing CSV ready for DuckDB: the file to read and how it was decoded."""

    path: Path
    encoding: str
    declared: str
    transcoded: bool
    undecodable: tuple[UndecodableRecord, ...] = ()
    first_bad_line: int | None = None

    def note(self) -> str:
        """What the loader did about the encoding, for ``landing.load_log``."""
        if self.declared == "auto":
            how = "detected"
            if self.first_bad_line is not None:
                how += f": not UTF-8 from line {self.first_bad_line}"
        else:
            how = "declared"
        text = f"encoding {self.encoding} ({how})"
        if self.transcoded:
            text += ", transcoded to UTF-8"
        if self.undecodable:
            lines = ", ".join(str(r.line) for r in self.undecodable[:5])
            more = ", …" if len(self.undecodable) > 5 else ""
            text += (
                f"; {len(self.undecodable):,} undecodable records set aside in "
                f"landing.reader_rejects (lines {lines}{more})"
            )
        return text


def _transcode(source: Path, target: Path, encoding: str) -> None:
    decoder = codecs.getincrementaldecoder(encoding)(
        _ERROR_HANDLER if encoding == "cp1252" else "strict"
    )
    with source.open("rb") as reader, target.open("wb") as writer:
        while chunk := reader.read(CHUNK_BYTES):
            writer.write(decoder.decode(chunk).encode("utf-8"))
        writer.write(decoder.decode(b"", final=True).encode("utf-8"))


def _records(handle: io.BufferedReader) -> Iterator[list[bytes]]:
    # A record is the physical lines up to one that closes every quote opened: the dialect's
    # double-quote quoting with "" escapes, so an even count of quotes ends a record.
    record: list[bytes] = []
    quotes = 0
    for line in handle:
        record.append(line)
        quotes += line.count(b'"')
        if quotes % 2 == 0:
            yield record
            record, quotes = [], 0
    if record:
        yield record


def _quarantine(source: Path, target: Path, file_label: str) -> tuple[UndecodableRecord, ...]:
    # Copy the file, writing one empty line in place of each record that is not UTF-8:
    # DuckDB skips empty lines but counts them, so its line numbers stay the file's.
    # A record's number is counted as DuckDB counts lines (a quoted line break does not
    # start a new one).
    undecodable = []
    with source.open("rb") as reader, target.open("wb") as writer:
        for number, record in enumerate(_records(reader), start=1):
            raw = b"".join(record)
            if not raw.isascii():
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as error:
                    body = raw.rstrip(b"\r\n")
                    undecodable.append(
                        UndecodableRecord(
                            number,
                            f"{file_label} line {number}: {_describe_bad_byte(raw, error)} is "
                            f"not UTF-8; the record is set aside — set {SETTING}=cp1252 if "
                            "the file is a Windows export",
                            body.decode("utf-8", "backslashreplace"),
                        )
                    )
                    writer.write(raw[len(body) :] or b"\n")
                    continue
            writer.write(raw)
    return tuple(undecodable)


@contextmanager
def prepared_csv(path: Path, encoding: str) -> Iterator[PreparedCsv]:
    """``path`` ready for DuckDB's reader in the declared ``encoding`` (see the module).

    Yields the file to read — ``path`` itself, or a UTF-8 copy deleted on exit.
    """
    encoding = normalise_encoding(encoding)
    if encoding in ("auto", "utf-8"):
        offset = first_undecodable_offset(path)
        if offset is None:
            yield PreparedCsv(path, "utf-8", encoding, transcoded=False)
            return
        first_bad_line = line_of_offset(path, offset)
    else:
        first_bad_line = None
    with tempfile.TemporaryDirectory(prefix="landing-") as folder:
        copy = Path(folder) / path.name
        if encoding == "utf-8":
            undecodable = _quarantine(path, copy, path.name)
            yield PreparedCsv(
                copy, "utf-8", encoding, False, undecodable, first_bad_line=first_bad_line
            )
            return
        target = "cp1252" if encoding == "auto" else encoding
        _transcode(path, copy, target)
        yield PreparedCsv(copy, target, encoding, True, first_bad_line=first_bad_line)
