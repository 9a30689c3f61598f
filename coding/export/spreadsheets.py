"""The export tables as spreadsheets: one .xlsx workbook (a sheet per table), or one CSV file per table.

Interview text is untrusted and stays exact. In the workbook every text is a string cell, so a quote
that starts with "=", "+", "-" or "@" is shown as written and never becomes a formula. CSV files hold
the exact text too (no apostrophe or other prefix is added: the files feed R, pandas and other QDA
tools, where a changed quote would be wrong); a spreadsheet program that evaluates such text when it
opens a CSV is why the README recommends the .xlsx file for Excel.
"""
from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from coding.errors import InputError
from coding.export.tables import ExportTables, Table

EXCEL_CELL_LIMIT = 32767  # characters Excel keeps in one cell; it refuses a workbook with longer ones
TRUNCATED = " […]"
TEXT_WIDTH = 70  # characters: the wrapped columns (quotes, memos, descriptions)
MAX_WIDTH = 40  # characters: any other column
HEADER_FILL = PatternFill("solid", fgColor="E8E8E8")
REPLACEMENT = "\ufffd"  # stands in for control characters that an .xlsx file cannot hold
INFO_SHEET = "Info"


def write_xlsx(tables: ExportTables, out: str | Path | BinaryIO) -> None:
    """Write every table as a sheet (bold frozen header, autofilter, column widths, wrapped text), then
    an Info sheet with what the export was made from; `out` is a path or a binary file object."""
    book = Workbook()
    book.remove(book.active)
    for table in tables.tables:
        _sheet(book, table)
    info = book.create_sheet(INFO_SHEET)
    for label, value in tables.about:
        info.append([_text(label), _text(value)])
        info.cell(info.max_row, 1).font = Font(bold=True)
    info.column_dimensions["A"].width = 24
    info.column_dimensions["B"].width = 90
    book.save(out)


def _sheet(book: Workbook, table: Table) -> None:
    sheet = book.create_sheet(_sheet_title(table.title))
    for column, label in enumerate(table.header, start=1):
        cell = sheet.cell(1, column)
        _set(cell, label)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    wrap = Alignment(wrap_text=True, vertical="top")
    for r, row in enumerate(table.rows, start=2):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(r, column)
            _set(cell, value)
            if column - 1 in table.text_columns:
                cell.alignment = wrap
            if isinstance(value, float):
                cell.number_format = "0.00"
    if table.totals and table.rows:
        for cell in sheet[len(table.rows) + 1]:
            cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(max(1, len(table.header)))}{len(table.rows) + 1}"
    for column, label in enumerate(table.header, start=1):
        if column - 1 in table.text_columns:
            width = TEXT_WIDTH
        else:
            sample = [label, *(row[column - 1] for row in table.rows[:500])]
            width = min(MAX_WIDTH, max(_display_width(v) for v in sample) + 2)
        sheet.column_dimensions[get_column_letter(column)].width = max(width, 6)


def _set(cell: Any, value: Any) -> None:
    """Put a value in a cell; text always as a string cell, so that "=..." never becomes a formula."""
    if isinstance(value, str):
        cell.value = _text(value)
        cell.data_type = "s"  # openpyxl reads a leading "=" as a formula; this undoes that guess
    else:
        cell.value = value


def _text(value: str) -> str:
    """Text an .xlsx cell can hold: control characters XML forbids replaced, Excel's length limit kept."""
    value = ILLEGAL_CHARACTERS_RE.sub(REPLACEMENT, value)
    if len(value) > EXCEL_CELL_LIMIT:
        value = value[:EXCEL_CELL_LIMIT - len(TRUNCATED)] + TRUNCATED
    return value


def _display_width(value: Any) -> int:
    if value is None:
        return 0
    return max((len(line) for line in str(value).splitlines()), default=0)


def _sheet_title(title: str) -> str:
    """A sheet name Excel accepts: at most 31 characters, none of : \\ / ? * [ ]."""
    for forbidden in ":\\/?*[]":
        title = title.replace(forbidden, "-")
    return title[:31] or "Tabelle"


# -- CSV -----------------------------------------------------------------------------------------------
def check_delimiter(delimiter: str) -> str:
    """The delimiter, if it can separate CSV fields (one character, not a quote or a line break);
    "tab" stands for the tab character."""
    if delimiter.lower() in ("tab", "\\t"):
        return "\t"
    if len(delimiter) != 1 or delimiter in "\"\r\n" or delimiter.isalnum():
        raise InputError("--delimiter", f"{delimiter!r} cannot separate CSV fields",
                         "use one character such as ; (the default, for German Excel) or , or tab")
    return delimiter


def csv_name(table: Table) -> str:
    return f"{table.name}.csv"


def csv_bytes(table: Table, delimiter: str = ";") -> bytes:
    """One table as CSV: UTF-8 with BOM (so Excel reads umlauts), exact text, CRLF line ends.

    With ";" (the German convention) decimals are written with a comma, otherwise with a point.
    """
    delimiter = check_delimiter(delimiter)
    decimal = "," if delimiter == ";" else "."
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(table.header)
    for row in table.rows:
        writer.writerow([_csv_value(v, decimal) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def _csv_value(value: Any, decimal: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}".replace(".", decimal)
    return str(value)


def write_csv(tables: ExportTables, folder: str | Path, delimiter: str = ";") -> list[Path]:
    """Write one CSV file per table into `folder` (created when missing); returns the files written."""
    delimiter = check_delimiter(delimiter)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in tables.tables:
        path = folder / csv_name(table)
        path.write_bytes(csv_bytes(table, delimiter))
        written.append(path)
    return written


def csv_zip(tables: ExportTables, delimiter: str = ";") -> bytes:
    """Every table's CSV file in one zip archive, built in memory (the Export page's download)."""
    delimiter = check_delimiter(delimiter)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for table in tables.tables:
            archive.writestr(csv_name(table), csv_bytes(table, delimiter))
    return buffer.getvalue()
