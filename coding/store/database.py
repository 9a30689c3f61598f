"""Opening a project database: WAL, busy timeout, short write transactions, backups."""
from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

BUSY_TIMEOUT_MS = 10_000


def connect(path: str | Path) -> sqlite_utils.Database:
    """A sqlite-utils Database on `path` in WAL mode, waiting up to 10 s for other writers."""
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    db = sqlite_utils.Database(conn)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if str(path) != ":memory:":
        db.enable_wal()
    return db


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One short write transaction: all of it is stored, or none of it.

    BEGIN IMMEDIATE takes the write lock up front, so two coders writing at once wait for each other
    (busy timeout) instead of failing when a read turns into a write.
    """
    conn = db.conn
    if conn.in_transaction:  # nested: a savepoint inside the caller's transaction
        with db.atomic():
            yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def backup(db: sqlite_utils.Database, target: str | Path) -> Path:
    """A consistent copy of the database (WAL included) at `target`."""
    target = Path(target)
    dest = sqlite3.connect(str(target))
    try:
        db.conn.backup(dest)
    finally:
        dest.close()
    return target


def now() -> str:
    """UTC time stamp with microseconds, as stored everywhere."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")
