"""Rows as an aligned text table, as `cache list` and `keys list` show them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def table(rows: Sequence[Mapping[str, object]], columns: Sequence[str]) -> str:
    """A header of the column names in capitals, then one line per row, columns aligned."""
    lines = [[column.upper().replace("_", " ") for column in columns]]
    lines += [[str(row[column]) for column in columns] for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        + "\n"
        for line in lines
    )
