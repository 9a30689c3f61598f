"""The colour a code is shown in, the same on every page."""
from __future__ import annotations

import re

# For codes whose codebook gives no colour (Tableau 10), chosen by the code's place in the codebook.
PALETTE = ["#4E79A7", "#F28E2B", "#E15759", "#76B7B2", "#59A14F", "#EDC948", "#B07AA1", "#FF9DA7", "#9C755F",
           "#BAB0AC"]
# For many categories at once (a theme run's themes): the ten above, then ten lighter companions
# (Tableau 20), so that up to twenty themes on one map never share a colour.
MANY = PALETTE[:9] + ["#D37295", "#A0CBE8", "#FFBE7D", "#FF9D9A", "#86BCB6", "#8CD17D", "#F1CE63", "#D4A6C8",
                      "#FABFD2", "#D7B5A6", "#79706E"]
HEX = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


def display_color(color: str | None, position: int) -> str:
    """The code's own colour as #RRGGBB, or the palette colour for its position in the codebook."""
    if not (isinstance(color, str) and HEX.fullmatch(color)):
        color = PALETTE[position % len(PALETTE)]
    if len(color) == 4:
        color = "#" + "".join(c * 2 for c in color[1:])
    return color.upper()


def code_colors(codes: list[dict]) -> dict[str, str]:
    """Every code's display colour, by id (codes in codebook order)."""
    return {str(code["id"]): display_color(code.get("color"), i) for i, code in enumerate(codes)}
