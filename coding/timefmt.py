"""Times as researchers read them in transcripts."""
from __future__ import annotations


def clock(seconds: float | None) -> str:
    """Seconds as hh:mm:ss (empty for None)."""
    if seconds is None:
        return ""
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
