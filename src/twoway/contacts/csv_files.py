"""Reading a CSV file of contacts as people export them from spreadsheets and other systems:
UTF-8 with or without a byte-order mark, or Windows-1252 (Excel's "CSV" on Windows); commas,
semicolons (Excel where the decimal mark is a comma) or tabs; quoted cells with line breaks.
Always streamed: a file is never read into memory whole."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from twoway.core.errors import InvalidInput

# More columns than any address book has: a header past it is no header of contacts.
MAX_COLUMNS = 200
# csv's own default; a longer cell is a problem of its row, not a reason to read on and on.
MAX_CELL_CHARACTERS = 131_072
PREVIEW_ROWS = 5
_CHUNK = 1 << 20
# How files other than text begin: a spreadsheet (.xlsx, .ods: zip; .xls: OLE), a PDF, images.
_BINARY_STARTS = (
    (b"PK\x03\x04", "a spreadsheet or zip file"),
    (b"\xd0\xcf\x11\xe0", "an Excel (.xls) spreadsheet"),
    (b"%PDF", "a PDF"),
    (b"\x89PNG", "an image"),
    (b"\xff\xd8\xff", "an image"),
    (b"GIF8", "an image"),
)
_SAVE_AS_CSV = "Save it from your spreadsheet as CSV (comma-separated values) and upload that."

csv.field_size_limit(MAX_CELL_CHARACTERS)


class NotContactsCsv(InvalidInput):
    """A file that cannot be imported at all, with what to do about it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="bad_csv")


@dataclass(frozen=True)
class CsvFacts:
    """What a file's first look found: how to read it, its columns and its first rows."""

    encoding: str
    delimiter: str
    columns: list[str]
    preview: list[list[str]]


def _encoding_of(stream: IO[bytes]) -> str:
    """utf-8-sig when the whole file is UTF-8 (a byte-order mark or not), else cp1252."""
    start = stream.read(_CHUNK)
    for signature, what in _BINARY_STARTS:
        if start.startswith(signature):
            raise NotContactsCsv(f"This is not a CSV file: it looks like {what}. {_SAVE_AS_CSV}")
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in start:
        raise NotContactsCsv(
            "This is not a CSV file we can read: it holds binary data (or UTF-16 text). "
            f"{_SAVE_AS_CSV} Choose UTF-8 if asked."
        )
    decoder = codecs.getincrementaldecoder("utf-8")()
    chunk = start
    try:
        while chunk:
            decoder.decode(chunk)
            chunk = stream.read(_CHUNK)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig"


def _delimiter_of(header_line: str) -> str:
    """The separator the header uses most, outside quotes: a comma unless it is another."""
    counts = {",": 0, ";": 0, "\t": 0}
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def text_stream(stream: IO[bytes], encoding: str) -> io.TextIOWrapper:
    # cp1252 leaves five byte values undefined; one of them becomes U+FFFD, not a crash.
    return io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")


def _header(reader: Iterator[list[str]]) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise NotContactsCsv("The file is empty: there is nothing to import.") from None
    except csv.Error as exc:
        raise NotContactsCsv(
            f"The first row cannot be read as CSV ({exc}). {_SAVE_AS_CSV}"
        ) from None
    names = [name.strip() for name in header]
    if not any(names):
        raise NotContactsCsv(
            "The first row is empty: it should name the columns (Phone, First name, ...)."
        )
    if len(names) > MAX_COLUMNS:
        raise NotContactsCsv(
            f"The first row has {len(names):,} columns; a file of contacts has at most "
            f"{MAX_COLUMNS}. Is its first row the column names?"
        )
    if any(len(name) > 200 for name in names):
        raise NotContactsCsv(
            "The first row should name the columns (Phone, First name, ...), but one of its "
            "cells is longer than 200 characters."
        )
    return [name or f"Column {n}" for n, name in enumerate(names, start=1)]


def csv_facts(stream: IO[bytes]) -> CsvFacts:
    """How to read the file, or why it cannot be imported (`NotContactsCsv`). Reads the whole
    file once, a chunk at a time, to be sure of its encoding."""
    encoding = _encoding_of(stream)
    stream.seek(0)
    text = text_stream(stream, encoding)
    try:
        first_line = text.readline(64 * 1024)
        delimiter = _delimiter_of(first_line)
        text.seek(0)
        reader = csv.reader(text, delimiter=delimiter)
        columns = _header(reader)
        preview: list[list[str]] = []
        for cells in _records(reader):
            if cells is None or not any(cell.strip() for cell in cells):
                continue
            preview.append([cell[:200] for cell in cells[: len(columns)]])
            if len(preview) == PREVIEW_ROWS:
                break
    finally:
        text.detach()
    if not preview:
        raise NotContactsCsv(
            "The file has its column names but no contacts under them: there is nothing to import."
        )
    return CsvFacts(encoding=encoding, delimiter=delimiter, columns=columns, preview=preview)


def _records(reader: Iterator[list[str]]) -> Iterator[list[str] | None]:
    """The reader's records; None for one csv could not read (a cell past the limit)."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield None


@dataclass(frozen=True)
class Record:
    """A row under the header: its number as a spreadsheet counts (the header is row 1), its
    cells (None when csv could not read it) and where the file stands after it."""

    row: int
    cells: list[str] | None
    offset: int


def csv_records(stream: IO[bytes], encoding: str, delimiter: str) -> Iterator[Record]:
    """The rows under the header, one at a time. `offset` is how far into the file the reading
    is (read ahead by a buffer), for progress."""
    text = text_stream(stream, encoding)
    reader = csv.reader(text, delimiter=delimiter)
    try:
        next(reader, None)
        row = 1
        for cells in _records(reader):
            row += 1
            yield Record(row=row, cells=cells, offset=stream.tell())
    finally:
        text.detach()


def csv_preview(stream: IO[bytes], encoding: str, delimiter: str, width: int) -> list[list[str]]:
    """The first rows under the header that hold anything, cut to the header's `width`."""
    rows: list[list[str]] = []
    for record in csv_records(stream, encoding, delimiter):
        if record.cells is not None and any(cell.strip() for cell in record.cells):
            cells = [cell[:200] for cell in record.cells[:width]]
            rows.append(cells + [""] * (width - len(cells)))
            if len(rows) == PREVIEW_ROWS:
                break
    return rows
