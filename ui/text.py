"""Showing user content safely: transcript text, code names and memos are never Markdown or HTML."""
from __future__ import annotations

import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md_escape(text: str) -> str:
    """Escape text so that st.markdown shows it literally (no formatting, no links, no HTML)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def shorten(text: str, limit: int = 160) -> str:
    """At most `limit` characters, cut at a word boundary, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def percent(score: float) -> str:
    """A suggestion's confidence as people read it: whole percent, never a flat 0 % or 100 %.

    A calibrated score of 1.0 only says that every such suggestion in the team's past codings was
    right; showing "100 %" would promise more than that.
    """
    if score >= 0.995:
        return "> 99 %"
    if score < 0.005:
        return "< 1 %"
    return f"{score * 100:.0f} %"
