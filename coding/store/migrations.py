"""Named schema migrations, applied in order; the file is backed up before an upgrade."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlite_utils

from coding.errors import MigrationError
from coding.store.database import backup, now, write_transaction

Migration = Callable[[sqlite_utils.Database], None]


def _initial(db: sqlite_utils.Database) -> None:
    db["users"].create({"name": str, "display_name": str, "role": str, "created_at": str}, pk="name")
    db["documents"].create({
        "id": int, "name": str, "filename": str, "format": str, "encoding": str, "sha256": str,
        "size_bytes": int, "text": str, "metadata": str, "word_count": int,
        "imported_at": str, "imported_by": str,
    }, pk="id", not_null={"name", "text", "sha256", "format"}, foreign_keys=[("imported_by", "users", "name")])
    db["documents"].create_index(["name"], unique=True)
    db["documents"].create_index(["sha256"], unique=True)
    db["document_attributes"].create({"document_id": int, "key": str, "value": str},
                                     pk=("document_id", "key"), foreign_keys=[("document_id", "documents", "id")])
    db["turns"].create({
        "id": int, "document_id": int, "idx": int, "speaker": str, "role": str,
        "start": int, "end": int, "timestamp": float,
    }, pk="id", foreign_keys=[("document_id", "documents", "id")])
    db["turns"].create_index(["document_id", "idx"], unique=True)
    db["segments"].create({
        "id": int, "document_id": int, "turn_id": int, "idx": int, "start": int, "end": int,
    }, pk="id", foreign_keys=[("document_id", "documents", "id"), ("turn_id", "turns", "id")])
    db["segments"].create_index(["document_id", "idx"], unique=True)
    db["codes"].create({
        "id": str, "name": str, "parent": str, "color": str, "definition": str, "anchors": str,
        "include": str, "exclude": str, "memo": str, "codable": int, "guid": str, "position": int,
    }, pk="id", not_null={"name"})
    db["codings"].create({
        "id": int, "document_id": int, "start": int, "end": int, "quote": str, "code_id": str,
        "coder": str, "created_at": str, "memo": str, "origin": str, "removed_at": str, "removed_by": str,
    }, pk="id", not_null={"document_id", "start", "end", "quote", "code_id", "coder", "origin"},
        foreign_keys=[("document_id", "documents", "id"), ("code_id", "codes", "id"), ("coder", "users", "name")])
    db["codings"].create_index(["document_id"])
    db["codings"].create_index(["code_id"])
    db["events"].create({
        "id": int, "at": str, "user": str, "action": str, "entity": str, "entity_id": str,
        "before": str, "after": str,
    }, pk="id")
    db["events"].create_index(["entity", "entity_id"])
    # The event log is append-only: the database itself refuses edits and deletions.
    db.execute("CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
               "BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END")
    db.execute("CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
               "BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END")


def _accounts_and_code_history(db: sqlite_utils.Database) -> None:
    """Login accounts and sessions for the browser app; codes can be deleted without losing history."""
    db["users"].add_column("password_hash", str)
    db["users"].add_column("active", int, not_null_default=1)
    db["settings"].create({"key": str, "value": str}, pk="key")
    db["sessions"].create({"id": str, "user": str, "created_at": str, "expires_at": str, "revoked_at": str},
                          pk="id", foreign_keys=[("user", "users", "name")])
    db["sessions"].create_index(["user"])
    # A deleted code keeps its row (its removed codings still point at it) but leaves the codebook.
    db["codes"].add_column("deleted_at", str)


def _vectors(db: sqlite_utils.Database) -> None:
    """The vector cache: one embedding per (model id, text hash), so no text is embedded twice."""
    db["vectors"].create({"model_id": str, "text_hash": str, "dim": int, "vector": bytes},
                         pk=("model_id", "text_hash"), not_null={"dim", "vector"})


def _suggestion_feedback(db: sqlite_utils.Database) -> None:
    """Which model proposed an accepted coding, and what researchers did with each suggestion."""
    db["codings"].add_column("model_id", str)
    db["suggestion_feedback"].create({
        "id": int, "document_id": int, "start": int, "end": int, "code_id": str, "user": str, "decision": str,
        "model_id": str, "score": float, "at": str,
    }, pk="id", foreign_keys=[("document_id", "documents", "id")])
    db["suggestion_feedback"].create_index(["document_id", "start", "end"])


def _themes(db: sqlite_utils.Database) -> None:
    """Theme runs (what made them, their passages and feature rows) and their append-only revisions."""
    db["theme_runs"].create({
        "id": int, "name": str, "created_at": str, "created_by": str, "selection": str, "embedder": str,
        "seed": int, "steps": str, "segments": str, "features": bytes, "feature_rows": int, "feature_dims": int,
    }, pk="id", not_null={"name", "created_at", "created_by", "segments", "features"},
        foreign_keys=[("created_by", "users", "name")])
    db["theme_revisions"].create({
        "id": int, "run_id": int, "number": int, "action": str, "details": str, "state": str, "undo_to": int,
        "user": str, "at": str,
    }, pk="id", not_null={"run_id", "number", "action", "state", "user", "at"},
        foreign_keys=[("run_id", "theme_runs", "id"), ("user", "users", "name")])
    # One revision per number and run: two leads appending at once cannot both write revision n.
    db["theme_revisions"].create_index(["run_id", "number"], unique=True)
    # Revisions are history: like the event log, the database refuses edits and deletions.
    db.execute("CREATE TRIGGER theme_revisions_no_update BEFORE UPDATE ON theme_revisions "
               "BEGIN SELECT RAISE(ABORT, 'theme revisions are append-only'); END")
    db.execute("CREATE TRIGGER theme_revisions_no_delete BEFORE DELETE ON theme_revisions "
               "BEGIN SELECT RAISE(ABORT, 'theme revisions are append-only'); END")


def _theme_map(db: sqlite_utils.Database) -> None:
    """A run's 2-D map layout (float32 x/y per passage), computed once when the run is made."""
    db["theme_runs"].add_column("layout", bytes)


MIGRATIONS: list[tuple[str, Migration]] = [
    ("0001_initial", _initial),
    ("0002_accounts_and_code_history", _accounts_and_code_history),
    ("0003_vectors", _vectors),
    ("0004_suggestion_feedback", _suggestion_feedback),
    ("0005_themes", _themes),
    ("0006_theme_map", _theme_map),
]


def applied(db: sqlite_utils.Database) -> list[str]:
    """Names of the migrations this database has had."""
    if "schema_migrations" not in db.table_names():
        return []
    return [row["name"] for row in db.query("SELECT name FROM schema_migrations ORDER BY applied_at, name")]


def migrate(db: sqlite_utils.Database, path: Path | None,
            migrations: list[tuple[str, Migration]] | None = None) -> list[str]:
    """Apply the pending migrations, each in its own transaction; return their names.

    An existing project is copied to `<file>.before-<migration>.bak` first, so a failed upgrade
    loses nothing.
    """
    migrations = MIGRATIONS if migrations is None else migrations
    done = set(applied(db))
    pending = [(name, step) for name, step in migrations if name not in done]
    if not pending:
        return []
    backup_path = None
    if done and path is not None:
        backup_path = backup(db, Path(f"{path}.before-{pending[0][0]}.bak"))
    for name, step in pending:
        try:
            with write_transaction(db):
                if "schema_migrations" not in db.table_names():
                    db["schema_migrations"].create({"name": str, "applied_at": str}, pk="name")
                step(db)
                db["schema_migrations"].insert({"name": name, "applied_at": now()})
        except Exception as e:
            where = f"; the database before the upgrade is saved as {backup_path}" if backup_path else ""
            raise MigrationError(f"schema migration {name} failed: {e}{where}") from e
    return [name for name, _ in pending]
