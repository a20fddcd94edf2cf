"""CSV cells as a spreadsheet reads them: quoted by RFC 4180 and never run as formulas."""

import csv
import io

import pytest

from gateway.csv_cells import csv_lines, guarded_cell


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Ann = Bob", "Ann = Bob"),
        ("5000", "5000"),
        (None, ""),
    ],
)
def test_cell_is_text_when_it_would_start_a_formula(value: str | None, written: str) -> None:
    assert guarded_cell(value) == written


def test_lines_read_back_as_written_when_cells_hold_commas_quotes_and_breaks() -> None:
    rows = [("a,b", 'say "hi"', "two\nlines", None, "=1+1", "Zoë")]

    text = csv_lines(rows).decode("utf-8")

    assert text.endswith("\r\n")
    assert text.startswith('"a,b","say ""hi""","two\nlines",,')
    assert list(csv.reader(io.StringIO(text))) == [
        ["a,b", 'say "hi"', "two\nlines", "", "'=1+1", "Zoë"]
    ]
