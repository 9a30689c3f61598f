"""A theme's stakeholder distribution as a bar chart (PNG, drawn with Pillow) for the Word synthesis.

One horizontal bar per stakeholder group of the theme run: the light track is all of the group's
interviews in the run, the dark bar the share of them that raise the theme, and the figure beside it
says "9 von 15". Shares rather than raw counts, because a study with 15 municipal and 2 federal
interviews would otherwise make every theme look municipal (see coding/themes/stakeholders.py).
"""
from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

WIDTH = 1800  # pixels; the document shows the chart 15 cm wide, so about 300 dpi
FONT_SIZE = 44  # about 10 pt at that width: as large as the text around the chart
ROW = 78
BAR = 46
PAD = 24
INK, TRACK, BAR_COLOUR, GRID = (34, 34, 34), (228, 233, 240), (46, 109, 164), (200, 200, 200)

# Fonts with umlauts found on Linux, macOS and Windows; Pillow also searches the system's font folders
# for a bare file name. Pillow's own default font has no umlauts, so it is the last resort only.
_FONTS = ("DejaVuSans.ttf", "LiberationSans-Regular.ttf", "NotoSans-Regular.ttf", "Arial.ttf", "arial.ttf",
          "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
          "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
          "/System/Library/Fonts/Supplemental/Arial.ttf", "/Library/Fonts/Arial.ttf",
          "/System/Library/Fonts/Helvetica.ttc", "C:/Windows/Fonts/arial.ttf", "C:/Windows/Fonts/segoeui.ttf")


@lru_cache(maxsize=4)
def _font(size: int) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, bool]:
    """A TrueType font of `size` pixels, and whether it can draw umlauts (False: Pillow's fallback)."""
    for name in _FONTS:
        try:
            return ImageFont.truetype(name, size), True
        except OSError:
            continue
    return ImageFont.load_default(size), False


def _drawable(text: str, full: bool) -> str:
    """Text the font can draw: with the fallback font, umlauts spelt out and accents dropped."""
    if full:
        return text
    for umlaut, spelt in zip("äöüÄÖÜß", ("ae", "oe", "ue", "Ae", "Oe", "Ue", "ss")):
        text = text.replace(umlaut, spelt)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii())


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont, width: float) -> str:
    """`text`, shortened with an ellipsis until it fits `width` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def stakeholder_chart(rows: Sequence[tuple[str, int, int]], *, of: str = "von") -> bytes:
    """The chart as PNG bytes.

    Args:
        rows: per stakeholder group, in the order to draw: (group name, interviews raising the theme,
            interviews of the group in the run).
        of: the word between the two figures ("9 von 15", "9 of 15").
    """
    font, full = _font(FONT_SIZE)
    small, _ = _font(FONT_SIZE * 3 // 4)
    rows = [(_drawable(group, full), voiced, total) for group, voiced, total in rows] or [("–", 0, 0)]
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    label_width = min(max(probe.textlength(g, font=font) for g, _, _ in rows), WIDTH * 0.36)
    values = [f"{voiced} {_drawable(of, full)} {total}" for _, voiced, total in rows]
    value_width = max(probe.textlength(v, font=font) for v in values)
    bar_left = PAD + label_width + PAD
    bar_right = WIDTH - PAD - value_width - PAD
    axis_height = FONT_SIZE + PAD
    height = PAD + ROW * len(rows) + axis_height + PAD
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    span = bar_right - bar_left
    bottom = PAD + ROW * len(rows)
    for quarter in range(5):  # a light grid at 0, 25, 50, 75 and 100 % makes the shares readable
        x = bar_left + span * quarter / 4
        draw.line([(x, PAD // 2), (x, bottom)], fill=GRID, width=2)
        draw.text((x, bottom + PAD // 2), f"{quarter * 25} %", font=small, fill=INK, anchor="mt")
    for i, ((group, voiced, total), value) in enumerate(zip(rows, values)):
        middle = PAD + ROW * i + ROW / 2
        top, low = middle - BAR / 2, middle + BAR / 2
        draw.text((PAD + label_width, middle), _fit(draw, group, font, label_width), font=font, fill=INK,
                  anchor="rm")
        draw.rectangle([bar_left, top, bar_right, low], fill=TRACK)
        share = voiced / total if total else 0.0
        if share > 0:
            draw.rectangle([bar_left, top, bar_left + max(span * share, 3), low], fill=BAR_COLOUR)
        draw.text((bar_right + PAD, middle), value, font=font, fill=INK, anchor="lm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(300, 300))
    return buffer.getvalue()
