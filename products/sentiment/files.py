"""Uploaded tables in, results files out, for the Sentiment tab: no row lost, cut or merged.

read_table: CSV/TSV through the csv module (strict: every row comes back, or a message names the
line that does not fit), a .txt without tabs as one text per line, XLSX bounded before it is
parsed (zip bombs) and then streamed. Texts come back exactly as stored. Row limits are checked
while reading, so an over-limit file never becomes a DataFrame.
write_results: the results CSV, with spreadsheet formulas neutralised.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

from shared.i18n import t
from shared.ui import UserError

from products.sentiment import strings  # noqa: F401  (registers the messages)
from products.sentiment.settings import SentimentSettings

TEXT_COLUMN = "text"  # the column of a headerless .txt
MAX_XLSX_UNPACKED_BYTES = 200 * 2**20  # a workbook unpacking to more is refused before parsing
MAX_CELLS = 5_000_000  # rows x columns held at once; bounds memory for very wide files
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP CSV injection: cells a spreadsheet may run
_ENCODINGS = ("utf-8-sig", "gb18030", "cp1252")
_FIRST_LINE = re.compile(r"[^\r\n]*")


def _decode(raw: bytes, lang_ui: str) -> str:
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16")
    for encoding in _ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UserError(t("sentiment.error.encoding", lang_ui))


class _Limits:
    """Counts rows and cells (rows x the widest row, as the table will hold them) while reading,
    and refuses, with the limit named, past either."""

    def __init__(self, lang_ui: str):
        self.max_rows = SentimentSettings.current().max_rows
        self.lang_ui = lang_ui
        self.width = 1

    def check_declared_rows(self, rows: int) -> None:
        if rows > self.max_rows:
            raise UserError(t("sentiment.error.too_many_rows", self.lang_ui, rows=rows, limit=self.max_rows))

    def count(self, rows: list, row: list) -> None:
        self.width = max(self.width, len(row))
        if len(rows) > self.max_rows:
            raise UserError(t("sentiment.error.rows_over_limit", self.lang_ui, limit=self.max_rows))
        if len(rows) * self.width > MAX_CELLS:
            raise UserError(t("sentiment.error.too_many_cells", self.lang_ui, limit=MAX_CELLS))


def read_table(path: str | Path, lang_ui: str = "en"):
    """A DataFrame of strings from a CSV, TSV, TXT or XLSX upload, one row per input row, in order."""
    path = Path(path)
    suffix = path.suffix.lower()
    limits = _Limits(lang_ui)
    try:
        if suffix in (".xlsx", ".xlsm"):
            header, rows = _read_xlsx(path, limits)
        elif suffix in (".csv", ".tsv", ".txt"):
            text = _decode(path.read_bytes(), lang_ui)
            if suffix == ".txt" and "\t" not in _FIRST_LINE.match(text).group():
                header, rows = [TEXT_COLUMN], _read_lines(text, limits)
            else:
                header, rows = _read_delimited(text, "," if suffix == ".csv" else "\t", limits)
        else:
            raise UserError(t("sentiment.error.file_type", lang_ui, suffix=suffix or "?"))
    except UserError:
        raise
    except Exception as err:
        raise UserError(t("sentiment.error.corrupt", lang_ui, detail=f"{type(err).__name__}: {err}")) from err
    if not rows:
        raise UserError(t("sentiment.error.no_rows", lang_ui))
    return _frame(header, rows)


def _read_lines(text: str, limits: _Limits) -> list[list[str]]:
    """One row per line; an empty line is an empty row, the file's final line break is not a row."""
    rows: list[list[str]] = []
    # newline="": split on \n, \r\n and \r without translating, and nothing else (not \x0b, \u2028)
    for line in io.StringIO(text, newline=""):
        row = [line.removesuffix("\n").removesuffix("\r")]
        rows.append(row)
        limits.count(rows, row)
    return rows


def _read_delimited(text: str, sep: str, limits: _Limits) -> tuple[list[str], list[list[str]]]:
    """Header and rows; a row with more fields than the header is an error naming its line."""
    lang_ui = limits.lang_ui
    # strict: an unclosed quote is an error instead of swallowing the rest of the file into one field
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    header: list[str] | None = None
    rows: list[list[str]] = []
    line = 1  # where the record being read starts (a quoted field may span lines)
    try:
        for record in reader:
            start, line = line, reader.line_num + 1
            if header is None:
                if record:  # blank lines before the header hold nothing
                    header = record
                    limits.width = len(header)
                continue
            if len(record) > len(header):
                raise UserError(t("sentiment.error.extra_fields", lang_ui, line=start, fields=len(record),
                                  columns=len(header), sep="tab" if sep == "\t" else sep))
            rows.append(record)
            limits.count(rows, record)
    except csv.Error as err:
        raise UserError(t("sentiment.error.csv_syntax", lang_ui, line=line, detail=err)) from err
    return header or [], rows


def _check_unpacked_size(path: Path, lang_ui: str) -> None:
    """Refuse a workbook that unpacks to more than the limit, from the zip directory alone.

    zipfile never returns more than a member's declared size, so the sum bounds what openpyxl reads."""
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(member.file_size for member in archive.infolist())
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise UserError(t("sentiment.error.xlsx_too_big", lang_ui, mb=unpacked / 2**20,
                          limit_mb=MAX_XLSX_UNPACKED_BYTES / 2**20))


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 3.0 -> "3", as a spreadsheet shows it
    return value if isinstance(value, str) else str(value)


def _read_xlsx(path: Path, limits: _Limits) -> tuple[list[str], list[list[str]]]:
    """The first sheet, streamed: header row, then every row up to the last non-empty one."""
    from openpyxl import load_workbook

    _check_unpacked_size(path, limits.lang_ui)
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        if sheet.max_row is not None:  # <dimension ref="A1:C12345">: refuse quickly, but it may lie
            limits.check_declared_rows(sheet.max_row - (sheet.min_row or 1))
        sheet.reset_dimensions()  # so a dimension that claims too few rows cannot drop the rest
        header: list[str] | None = None
        rows: list[list[str]] = []
        for values in sheet.iter_rows(values_only=True):
            row = [_cell_text(v) for v in values]
            while row and row[-1] == "":
                row.pop()
            if header is None:
                if row:
                    header = row
                    limits.width = len(header)
                continue
            rows.append(row)
            limits.count(rows, row)
    finally:
        book.close()
    while rows and not rows[-1]:  # trailing rows that only carry formatting are not data
        rows.pop()
    return header or [], rows


def _column_names(header: list[str], width: int) -> list[str]:
    """Header names, with blank ones named by position and repeats made unique, as pandas does."""
    names, seen = [], set()
    for i in range(width):
        base = header[i] if i < len(header) and header[i] != "" else f"Unnamed: {i}"
        name, n = base, 0
        while name in seen:
            n += 1
            name = f"{base}.{n}"
        seen.add(name)
        names.append(name)
    return names


def _frame(header: list[str], rows: list[list[str]]):
    import pandas as pd

    width = max([len(header)] + [len(r) for r in rows])
    padded = [r + [""] * (width - len(r)) if len(r) < width else r for r in rows]
    return pd.DataFrame(padded, columns=_column_names(header, width), dtype=str)


def guess_text_column(frame) -> str:
    """The column most likely to hold the texts: a telling name, else the longest strings."""
    for name in frame.columns:
        if name.strip().lower() in {"text", "review", "comment", "content", "message", "tweet", "body", "评论", "内容", "文本"}:
            return name
    lengths = {c: frame[c].astype(str).str.len().mean() for c in frame.columns}
    return max(lengths, key=lengths.get)


# ---- results ---------------------------------------------------------------------------------
def _neutralise(value):
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def neutralise_formulas(frame):
    """A copy in which no string cell or header can run as a spreadsheet formula: those starting
    with = + - @ tab or CR get a leading ' (OWASP CSV injection). Numbers are left alone."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype.kind not in "biufcmM":
            out[column] = out[column].map(_neutralise).astype(object)
    out.columns = [_neutralise(str(c)) for c in out.columns]
    return out


def write_results(scored, path: str | Path) -> Path:
    """The results CSV: UTF-8 with BOM (Excel then shows Chinese), formulas neutralised, and
    \\r\\n line ends so that a text holding a lone CR is quoted rather than splitting its row."""
    path = Path(path)
    neutralise_formulas(scored).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return path
