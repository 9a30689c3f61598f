"""Times as researchers read them in transcripts."""
from __future__ import annotations

from datetime import datetime, timezone


def clock(seconds: float | None) -> str:
    """Seconds as hh:mm:ss (empty for None)."""
    if seconds is None:
        return ""
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def stored_utc(stamp: str | None) -> datetime | None:
    """A time stamp as the store writes it (ISO 8601, UTC; older rows without an offset) as an aware
    UTC datetime; None when empty or not a time stamp."""
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
