"""A heatmap as a table: cells shaded by their value, and a click on a cell tells the page which one."""
from __future__ import annotations

import pandas as pd
import streamlit as st

CELL_COLOR = "31, 119, 180"  # the RGB the cells are shaded in, stronger for larger values


def heatmap(frame: pd.DataFrame, *, key: str, number_format: str = "{:d}") -> tuple[int, int] | None:
    """Show `frame` (numbers; row and column labels as the reader should see them) shaded by value.

    Returns (row position, column position) of the cell the user picked, or None. A table rather than a
    chart: the numbers stay readable, and a cell is one click.
    """
    values = frame.to_numpy(dtype=float) if frame.size else []
    top = max([float(v) for row in values for v in row] + [1e-9])

    def shade(value: float) -> str:
        alpha = 0.08 + 0.8 * (value / top) if value else 0
        return f"background-color: rgba({CELL_COLOR}, {alpha:.2f})"

    styled = frame.style.map(shade).format(number_format)
    picked = st.dataframe(styled, width="stretch", on_select="rerun", selection_mode="single-cell", key=key,
                          height=min(600, 38 + 35 * len(frame)))
    cells = picked.selection.get("cells", []) if picked else []
    if not cells:
        return None
    row, column = cells[0]
    return int(row), list(frame.columns).index(column)
