"""Codes and codings in the project database (mixed into Project; the SQL stays in the store)."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from coding.errors import StoreError
from coding.store.database import now, write_transaction

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
                       "codable": int(code.codable), "guid": code.guid, "position": position}
                before = existing.get(code.id)
                if before == row:
                    continue
                self.db["codes"].upsert(row, pk="id")
                self._log(user, "code.created" if before is None else "code.updated", "code", code.id, before, row)
                changed += 1
        return changed

    def codes(self) -> list[dict[str, Any]]:
        """The project's codes in codebook order, anchors as lists."""
        rows = list(self.db["codes"].rows_where(order_by="position, id"))
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
                   memo: str = "", origin: str = "human", quote: str | None = None) -> int:
        """Code the span [start, end) of a document; the quote is stored with it.

        When the caller passes the quote it saw, it must match the stored text at those offsets
        (catches a client that counted positions differently).
        """
        if origin not in ("human", "suggestion", "imported"):
            raise StoreError(f"unknown coding origin '{origin}'")
        with write_transaction(self.db):
            self.ensure_user(coder)
            text = self._text(document_id)
            if not (0 <= start < end <= len(text)):
                raise StoreError(f"span {start}-{end} is outside the document (0-{len(text)})")
            actual = text[start:end]
            if quote is not None and quote != actual:
                raise StoreError(f"the selected text does not match the document at {start}-{end}: "
                                 f"expected {actual[:40]!r}, got {quote[:40]!r}; reload the document")
            if not self.db["codes"].count_where("id = ?", [code_id]):
                raise StoreError(f"unknown code '{code_id}'")
            row = {"document_id": document_id, "start": start, "end": end, "quote": actual, "code_id": code_id,
                   "coder": coder, "created_at": now(), "memo": memo, "origin": origin}
            coding_id = self.db["codings"].insert(row).last_pk
            self._log(coder, "coding.added", "coding", coding_id, None, row)
        return coding_id

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
