"""Codes and codings in the project database (mixed into Project; the SQL stays in the store)."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from coding.errors import StoreError
from coding.store.database import now, write_transaction

ORIGINS = ("human", "suggestion", "imported", "theme")

if TYPE_CHECKING:
    from coding.codebook.model import Codebook

_CODE_FIELDS = ("name", "parent", "color", "definition", "anchors", "include", "exclude", "memo", "codable", "guid")


class CodingsMixin:
    """Codes (the project's copy of the codebook) and codings (spans of documents linked to codes)."""

    def save_codebook(self, codebook: Codebook, user: str) -> int:
        """Insert or update every code of a codebook (ids are stable); returns how many changed."""
        changed = 0
        with write_transaction(self.db):
            self.ensure_user(user)
            existing = {row["id"]: row for row in self.db["codes"].rows}
            for position, code in enumerate(codebook.codes):
                row = {"id": code.id, "name": code.name, "parent": code.parent, "color": code.color,
                       "definition": code.definition, "anchors": json.dumps(code.anchors, ensure_ascii=False),
                       "include": code.include, "exclude": code.exclude, "memo": code.memo,
                       "codable": int(code.codable), "guid": code.guid, "position": position, "deleted_at": None}
                before = existing.get(code.id)
                if before == row:
                    continue
                self.db["codes"].upsert(row, pk="id")
                self._log(user, "code.created" if before is None else "code.updated", "code", code.id, before, row)
                changed += 1
        return changed

    def codes(self, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """The project's codes in codebook order, anchors as lists (deleted codes only on request)."""
        rows = list(self.db["codes"].rows_where(None if include_deleted else "deleted_at IS NULL",
                                                order_by="position, id"))
        for row in rows:
            row["anchors"] = json.loads(row["anchors"] or "[]")
            row["codable"] = bool(row["codable"])
        return rows

    def codebook(self) -> Codebook:
        """The project's codes as a Codebook, ready to save as YAML or export as REFI-QDA."""
        from coding.codebook.model import Code, Codebook

        codes = [Code(id=r["id"], name=r["name"], parent=r["parent"], color=r["color"],
                      definition=r["definition"] or "", anchors=r["anchors"], include=r["include"] or "",
                      exclude=r["exclude"] or "", memo=r["memo"] or "", codable=r["codable"], guid=r["guid"])
                 for r in self.codes()]
        return Codebook(name=self.path.stem, codes=codes)

    def add_coding(self, document_id: int, start: int, end: int, code_id: str, coder: str, *,
                   memo: str = "", origin: str = "human", quote: str | None = None,
                   model_id: str | None = None) -> int:
        """Code the span [start, end) of a document; the quote is stored with it.

        When the caller passes the quote it saw, it must match the stored text at those offsets
        (catches a client that counted positions differently).
        """
        return self.add_codings([{"document_id": document_id, "start": start, "end": end, "code_id": code_id,
                                  "memo": memo, "origin": origin, "quote": quote, "model_id": model_id}], coder)[0]

    def add_codings(self, codings: list[dict[str, Any]], coder: str) -> list[int]:
        """Several codings by one coder in one transaction: all are stored, or none (see add_coding)."""
        ids = []
        with write_transaction(self.db):
            self.ensure_user(coder)
            known_codes = {row[0] for row in self.db.execute("SELECT id FROM codes WHERE deleted_at IS NULL")}
            texts: dict[int, str] = {}
            for c in codings:
                doc_id, start, end = c["document_id"], c["start"], c["end"]
                origin = c.get("origin") or "human"
                if origin not in ORIGINS:
                    raise StoreError(f"unknown coding origin '{origin}' (one of {', '.join(ORIGINS)})")
                if doc_id not in texts:
                    texts[doc_id] = self._text(doc_id)
                text = texts[doc_id]
                if not (0 <= start < end <= len(text)):
                    raise StoreError(f"span {start}-{end} is outside the document (0-{len(text)})")
                actual = text[start:end]
                if c.get("quote") is not None and c["quote"] != actual:
                    raise StoreError(f"the selected text does not match the document at {start}-{end}: "
                                     f"expected {actual[:40]!r}, got {c['quote'][:40]!r}; reload the document")
                if c["code_id"] not in known_codes:
                    raise StoreError(f"unknown code '{c['code_id']}'")
                duplicate = self.db.execute(
                    'SELECT id FROM codings WHERE document_id = ? AND start = ? AND "end" = ? AND code_id = ? '
                    "AND coder = ? AND removed_at IS NULL", [doc_id, start, end, c["code_id"], coder]).fetchone()
                if duplicate:
                    raise StoreError(f"this passage is already coded with {c['code_id']} by {coder}")
                row = {"document_id": doc_id, "start": start, "end": end, "quote": actual, "code_id": c["code_id"],
                       "coder": coder, "created_at": now(), "memo": c.get("memo") or "", "origin": origin,
                       "model_id": c.get("model_id")}
                coding_id = self.db["codings"].insert(row).last_pk
                self._log(coder, "coding.added", "coding", coding_id, None, row)
                ids.append(coding_id)
        return ids

    def remove_coding(self, coding_id: int, user: str) -> None:
        """Mark a coding removed; it stays in the database and the log for audit and undo."""
        with write_transaction(self.db):
            self.ensure_user(user)
            rows = list(self.db["codings"].rows_where("id = ?", [coding_id]))
            if not rows or rows[0]["removed_at"]:
                raise StoreError(f"no coding {coding_id} to remove")
            update = {"removed_at": now(), "removed_by": user}
            self.db["codings"].update(coding_id, update)
            self._log(user, "coding.removed", "coding", coding_id, rows[0], {**rows[0], **update})

    def set_coding_memo(self, coding_id: int, memo: str, user: str) -> None:
        """Write or change the memo of a coding (logged with the old memo)."""
        with write_transaction(self.db):
            self.ensure_user(user)
            rows = list(self.db["codings"].rows_where("id = ? AND removed_at IS NULL", [coding_id]))
            if not rows:
                raise StoreError(f"no coding {coding_id}")
            if rows[0]["memo"] == memo:
                return
            self.db["codings"].update(coding_id, {"memo": memo})
            self._log(user, "coding.memo", "coding", coding_id, {"memo": rows[0]["memo"]}, {"memo": memo})

    def codings(self, document_id: int | None = None, *, include_removed: bool = False) -> list[dict[str, Any]]:
        """Codings, in document order; removed ones only on request."""
        where, args = [], []
        if document_id is not None:
            where.append("document_id = ?")
            args.append(document_id)
        if not include_removed:
            where.append("removed_at IS NULL")
        return list(self.db["codings"].rows_where(" AND ".join(where) or None, args,
                                                  order_by="document_id, start, id"))
