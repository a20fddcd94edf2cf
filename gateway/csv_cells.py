"""CSV as a spreadsheet reads it safely: RFC 4180 quoting (a cell holding a comma, a quote or a
line break is quoted, its quotes doubled) and no formulas. A cell a spreadsheet would run as a
formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is written with a leading
`'`, so it shows as the text it is (OWASP's CSV injection guard). A missing value is empty.
"""

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LINE_END = "\r\n"


def guarded_cell(value: str | None) -> str:
    if value is None:
        return ""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_lines(rows: Iterable[Sequence[str | None]]) -> bytes:
    """The rows as CSV lines in UTF-8, each cell guarded."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=LINE_END)
    writer.writerows([guarded_cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode()
