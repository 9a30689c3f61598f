"""A Codewerk project: one SQLite file shared by a team. The only code that writes SQL.

Every change is one short transaction that also appends to the event log (who, when, what,
before/after), so the log can power undo and audit.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coding.errors import DuplicateDocumentError, ProjectNotFoundError, StoreError, UnknownDocumentError
from coding.store.accounts import AccountsMixin
from coding.store.codebook_edit import CodebookEditMixin
from coding.store.codings import CodingsMixin
from coding.store.database import connect, now, write_transaction
from coding.store.migrations import migrate
from coding.store.retrieval import RetrievalMixin
from coding.store.suggestions import SuggestionsMixin
from coding.store.themes import ThemesMixin
from coding.store.vectors import VectorsMixin
from coding.transcripts.model import Segment, Transcript

ROLES = ("admin", "lead", "coder")


@dataclass
class NewDocument:
    """A transcript ready to be stored: read, segmented and checked, with its attributes."""

    name: str
    filename: str
    transcript: Transcript
    segments: list[Segment]
    attributes: dict[str, str] = field(default_factory=dict)
    size_bytes: int = 0


class Project(CodingsMixin, CodebookEditMixin, RetrievalMixin, AccountsMixin, VectorsMixin, SuggestionsMixin,
              ThemesMixin):
    """The project database: documents, turns, segments, attributes, codes, codings, events, users."""

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise ProjectNotFoundError(f"{self.path}: no Codewerk project here "
                                       f"(create one with: codewerk --project {self.path} init)")
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = connect(self.path)
        if not create and "documents" not in self.db.table_names() and self.db.table_names():
            self.db.close()
            raise ProjectNotFoundError(f"{self.path}: this SQLite file is not a Codewerk project")
        migrate(self.db, self.path)

    @classmethod
    def create(cls, path: str | Path) -> Project:
        """Create a new, empty project file (refuses to touch an existing file)."""
        if Path(path).exists():
            raise StoreError(f"{path}: a file is already there; open it, or choose another name")
        return cls(path, create=True)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- users -------------------------------------------------------------------------------
    def ensure_user(self, name: str, role: str = "coder", display_name: str | None = None) -> None:
        """Make sure a user exists (CLI users are created on first use)."""
        if role not in ROLES:
            raise StoreError(f"unknown role '{role}'; roles are {', '.join(ROLES)}")
        with write_transaction(self.db):
            if self.db["users"].count_where("name = ?", [name]):
                return
            row = {"name": name, "display_name": display_name or name, "role": role, "created_at": now()}
            self.db["users"].insert(row)
            self._log(name, "user.created", "user", name, None, row)

    def users(self) -> list[dict[str, Any]]:
        return list(self.db["users"].rows_where(order_by="name"))

    # -- documents ---------------------------------------------------------------------------
    def add_documents(self, documents: list[NewDocument], user: str) -> list[int]:
        """Store documents with their turns, segments and attributes: all of them, or none."""
        ids: list[int] = []
        with write_transaction(self.db):
            self.ensure_user(user)
            for doc in documents:
                ids.append(self._insert_document(doc, user))
        return ids

    def _insert_document(self, doc: NewDocument, user: str) -> int:
        t = doc.transcript
        clash = self.db.execute("SELECT name FROM documents WHERE sha256 = ? OR name = ?",
                                [t.sha256, doc.name]).fetchone()
        if clash:
            same = "the same file" if self.find_document_by_hash(t.sha256) else "a document of that name"
            raise DuplicateDocumentError(doc.filename, f"{same} is already in the project as '{clash[0]}'",
                                         "rename the file, or remove the old document first")
        row = {
            "name": doc.name, "filename": doc.filename, "format": t.format, "encoding": t.encoding,
            "sha256": t.sha256, "size_bytes": doc.size_bytes, "text": t.text,
            "metadata": json.dumps(t.metadata, ensure_ascii=False), "word_count": t.word_count,
            "imported_at": now(), "imported_by": user,
        }
        doc_id = self.db["documents"].insert(row).last_pk
        turn_ids = []
        for idx, turn in enumerate(t.turns):
            turn_ids.append(self.db["turns"].insert({
                "document_id": doc_id, "idx": idx, "speaker": turn.speaker, "role": turn.role,
                "start": turn.start, "end": turn.end, "timestamp": turn.timestamp}).last_pk)
        self.db["segments"].insert_all(
            ({"document_id": doc_id, "turn_id": turn_ids[s.turn], "idx": i, "start": s.start, "end": s.end}
             for i, s in enumerate(doc.segments)), batch_size=500)
        self.db["document_attributes"].insert_all(
            {"document_id": doc_id, "key": k, "value": v} for k, v in doc.attributes.items())
        summary = {k: row[k] for k in ("name", "filename", "format", "sha256", "word_count")}
        summary.update(turns=len(t.turns), segments=len(doc.segments), attributes=doc.attributes)
        self._log(user, "document.imported", "document", doc_id, None, summary)
        return doc_id

    def find_document_by_hash(self, sha256: str) -> str | None:
        row = self.db.execute("SELECT name FROM documents WHERE sha256 = ?", [sha256]).fetchone()
        return row[0] if row else None

    def documents(self) -> list[dict[str, Any]]:
        """Every document with its counts and attributes, in import order (without the text)."""
        rows = self.db.query("""
            SELECT d.id, d.name, d.filename, d.format, d.encoding, d.word_count, d.size_bytes, d.metadata,
                   d.imported_at, d.imported_by,
                   (SELECT count(*) FROM turns t WHERE t.document_id = d.id) AS turns,
                   (SELECT count(*) FROM segments s WHERE s.document_id = d.id) AS segments
            FROM documents d ORDER BY d.id""")
        attributes = self._all_attributes()
        result = []
        for row in rows:
            row["metadata"] = json.loads(row["metadata"] or "{}")
            row["attributes"] = attributes.get(row["id"], {})
            result.append(row)
        return result

    def document(self, ref: int | str) -> dict[str, Any]:
        """One document with its text, by id or by name."""
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            rows = list(self.db["documents"].rows_where("id = ?", [int(ref)]))
        else:
            rows = []
        if not rows:
            rows = list(self.db["documents"].rows_where("name = ?", [str(ref)]))
        if not rows:
            names = ", ".join(d["name"] for d in self.documents()[:10]) or "none yet"
            raise UnknownDocumentError(f"no document '{ref}' in {self.path} (documents: {names})")
        row = rows[0]
        row["metadata"] = json.loads(row["metadata"] or "{}")
        row["attributes"] = self.attributes(row["id"])
        return row

    def turns(self, document_id: int) -> list[dict[str, Any]]:
        """Speaker turns of a document with their text, in order."""
        return self._spans("turns", document_id)

    def segments(self, document_id: int) -> list[dict[str, Any]]:
        """Segments of a document with their text, in order."""
        return self._spans("segments", document_id)

    def _spans(self, table: str, document_id: int) -> list[dict[str, Any]]:
        text = self._text(document_id)
        rows = list(self.db[table].rows_where("document_id = ?", [document_id], order_by="idx"))
        for row in rows:
            row["text"] = text[row["start"]:row["end"]]
        return rows

    def attributes(self, document_id: int) -> dict[str, str]:
        return {r["key"]: r["value"] for r in  # in the order they were given (the metadata CSV's columns)
                self.db["document_attributes"].rows_where("document_id = ?", [document_id], order_by="rowid")}

    def set_attribute(self, document_id: int, key: str, value: str | None, user: str) -> None:
        """Set (or, with None, remove) one document attribute such as the stakeholder group."""
        key = key.strip()
        if not key:
            raise StoreError("an attribute needs a name")
        with write_transaction(self.db):
            self.ensure_user(user)
            self._text(document_id)
            before = self.attributes(document_id).get(key)
            if value is None:
                self.db.execute("DELETE FROM document_attributes WHERE document_id = ? AND key = ?", [document_id, key])
            else:
                self.db["document_attributes"].upsert({"document_id": document_id, "key": key, "value": value},
                                                      pk=("document_id", "key"))
            self._log(user, "attribute.set", "document", document_id, {key: before}, {key: value})

    def _all_attributes(self) -> dict[int, dict[str, str]]:
        result: dict[int, dict[str, str]] = {}
        for r in self.db["document_attributes"].rows_where(order_by="document_id, rowid"):
            result.setdefault(r["document_id"], {})[r["key"]] = r["value"]
        return result

    def _text(self, document_id: int) -> str:
        row = self.db.execute("SELECT text FROM documents WHERE id = ?", [document_id]).fetchone()
        if row is None:
            raise UnknownDocumentError(f"no document with id {document_id} in {self.path}")
        return row[0]

    # -- events ------------------------------------------------------------------------------
    def events(self, entity: str | None = None, entity_id: str | int | None = None) -> list[dict[str, Any]]:
        """The append-only event log, oldest first, optionally for one entity."""
        where, args = [], []
        if entity:
            where.append("entity = ?")
            args.append(entity)
        if entity_id is not None:
            where.append("entity_id = ?")
            args.append(str(entity_id))
        rows = self.db["events"].rows_where(" AND ".join(where) or None, args, order_by="id")
        return [{**r, "before": json.loads(r["before"]) if r["before"] else None,
                 "after": json.loads(r["after"]) if r["after"] else None} for r in rows]

    def _log(self, user: str, action: str, entity: str, entity_id: Any, before: Any, after: Any) -> None:
        self.db["events"].insert({
            "at": now(), "user": user, "action": action, "entity": entity, "entity_id": str(entity_id),
            "before": None if before is None else json.dumps(before, ensure_ascii=False),
            "after": None if after is None else json.dumps(after, ensure_ascii=False)})

    def dump(self) -> str:
        """The whole database as SQL text: two equal dumps mean nothing changed."""
        return "\n".join(self.db.conn.iterdump())
