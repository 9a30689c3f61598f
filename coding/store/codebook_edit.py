"""Editing the project's codebook code by code: add, change, move, merge and delete (mixed into Project)."""
from __future__ import annotations

import dataclasses
import json
import re
import unicodedata
from typing import Any

from coding.codebook.model import Code, Codebook, tree_order, validate
from coding.errors import CodebookError, StoreError
from coding.store.database import now, write_transaction

EDITABLE = ("name", "color", "definition", "anchors", "include", "exclude", "memo", "codable")
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})
_MAX_ID_LENGTH = 40


def _row(code: Code, position: int) -> dict[str, Any]:
    return {"id": code.id, "name": code.name, "parent": code.parent, "color": code.color,
            "definition": code.definition, "anchors": json.dumps(code.anchors, ensure_ascii=False),
            "include": code.include, "exclude": code.exclude, "memo": code.memo, "codable": int(code.codable),
            "guid": code.guid, "position": position, "deleted_at": None}


class CodebookEditMixin:
    """One change to one code per call, each in its own transaction and logged with before and after."""

    # -- adding and changing codes -------------------------------------------------------------
    def add_code(self, code: Code, by: str) -> str:
        """Add a code at the end of its siblings; the same rules as a codebook file apply. Returns its id."""
        with write_transaction(self.db):
            self.ensure_user(by)
            clash = self.db.execute("SELECT deleted_at FROM codes WHERE id = ?", [code.id]).fetchone()
            if clash and clash[0]:
                raise StoreError(f"code {code.id}: the id belonged to a code deleted on {clash[0][:10]}; "
                                 f"ids stay with their history, choose another (e.g. {self.new_code_id(code.name)})")
            active = self.codebook().codes
            order = self._checked_order(active, active + [code])
            self.db["codes"].insert(_row(code, order.index(code.id)))
            self._log(by, "code.created", "code", code.id, None, self._code_row(code.id))
            self._store_order(order, by, code.id)
        return code.id

    def new_code_id(self, name: str) -> str:
        """A readable id for a code made in the app (from its name, e.g. an in-vivo quote), unique for good."""
        slug = unicodedata.normalize("NFKD", name.translate(_GERMAN)).encode("ascii", "ignore").decode()
        words = re.findall(r"[a-z0-9]+", slug.lower())
        base = ""
        for word in words:  # whole words only, so that a long in-vivo quote gives a readable id
            if base and len(base) + 1 + len(word) > _MAX_ID_LENGTH:
                break
            base = f"{base}-{word}" if base else word[:_MAX_ID_LENGTH]
        base = base or "code"
        taken = {row[0] for row in self.db.execute("SELECT id FROM codes")}  # deleted codes keep their ids
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    def update_code(self, code_id: str, by: str, **fields: Any) -> dict[str, Any]:
        """Change name, color, definition, anchors, include, exclude, memo or codable; the id stays."""
        unknown = sorted(set(fields) - set(EDITABLE))
        if unknown:
            hint = "; use move_code to give a code another parent" if "parent" in unknown else ""
            raise StoreError(f"code {code_id}: cannot change {', '.join(unknown)} "
                             f"(editable: {', '.join(EDITABLE)}){hint}")
        with write_transaction(self.db):
            self.ensure_user(by)
            before = self._code_row(code_id)
            active = self.codebook().codes
            changed = [dataclasses.replace(c, **fields) if c.id == code_id else c for c in active]
            self._checked_order(active, changed)
            row = _row(next(c for c in changed if c.id == code_id), before["position"])
            update = {k: v for k, v in row.items() if before[k] != v}
            if update:
                self.db["codes"].update(code_id, update)
                self._log(by, "code.updated", "code", code_id, before, self._code_row(code_id))
        return self._decoded(self._code_row(code_id))

    def move_code(self, code_id: str, new_parent: str | None, by: str, position: int | None = None) -> None:
        """Give a code another parent (None: top level), as its `position`-th sibling (None: the last)."""
        with write_transaction(self.db):
            self.ensure_user(by)
            before = self._code_row(code_id)
            if new_parent == code_id:
                raise StoreError(f"code {code_id} cannot be its own parent; choose another code or None (top level)")
            if new_parent is not None:
                self._code_row(new_parent)
                path = [c.id for c in self.codebook().path(new_parent)]
                if code_id in path:
                    chain = " > ".join(path[path.index(code_id):])
                    raise StoreError(f"code {code_id} cannot move under {new_parent}: {new_parent} is inside it "
                                     f"({chain}); a code cannot be its own sub-code")
            active = self.codebook().codes
            moving = next(c for c in active if c.id == code_id)
            rest = [c for c in active if c.id != code_id]
            siblings = [i for i, c in enumerate(rest) if c.parent == new_parent]
            at = len(rest) if position is None or position >= len(siblings) else siblings[max(position, 0)]
            moved = dataclasses.replace(moving, parent=new_parent)
            order = self._checked_order(active, rest[:at] + [moved] + rest[at:])
            self.db["codes"].update(code_id, {"parent": new_parent, "position": order.index(code_id)})
            after = self._code_row(code_id)
            if after != before:
                self._log(by, "code.moved", "code", code_id, before, after)
            self._store_order(order, by, code_id)

    # -- merging and deleting ------------------------------------------------------------------
    def merge_codes(self, source_id: str, target_id: str, by: str) -> int:
        """Move every active coding and sub-code of `source_id` to `target_id`, then delete the source.

        Returns how many codings now carry the target instead of the source; a coding that would
        duplicate one the target already has (same document, span and coder) is removed instead.
        """
        if source_id == target_id:
            raise StoreError(f"code {source_id} cannot be merged into itself; choose another target code")
        with write_transaction(self.db):
            self.ensure_user(by)
            source, target = self._code_row(source_id), self._code_row(target_id)
            if source_id in [c.id for c in self.codebook().path(target_id)]:
                raise StoreError(f"code {source_id} cannot be merged into its own sub-code {target_id}; "
                                 f"move {target_id} out of {source_id} first, or merge the other way round")
            stamp = now()
            seen = {(r["document_id"], r["start"], r["end"], r["coder"]) for r in self._active_codings(target_id)}
            moved = duplicates = 0
            for coding in self._active_codings(source_id):
                key = (coding["document_id"], coding["start"], coding["end"], coding["coder"])
                if key in seen:
                    update, action = {"removed_at": stamp, "removed_by": by}, "coding.removed"
                    duplicates += 1
                else:
                    update, action = {"code_id": target_id}, "coding.recoded"
                    seen.add(key)
                    moved += 1
                self.db["codings"].update(coding["id"], update)
                self._log(by, action, "coding", coding["id"], coding, {**coding, **update})
            active = self.codebook().codes
            children = [c.id for c in active if c.parent == source_id]
            rest = [dataclasses.replace(c, parent=target_id) if c.parent == source_id else c
                    for c in active if c.id != source_id]
            # Codebook order puts the adopted sub-codes after the target's own, in their old order.
            order = self._checked_order(active, [c for c in rest if c.id not in children]
                                        + [c for c in rest if c.id in children])
            for child in children:
                self.db["codes"].update(child, {"parent": target_id})
            self.db["codes"].update(source_id, {"deleted_at": stamp})
            after = {**self._code_row(source_id, include_deleted=True), "merged_into": target_id,
                     "target_name": target["name"], "codings_moved": moved, "duplicates_removed": duplicates,
                     "children_moved": children}
            self._log(by, "code.merged", "code", source_id, source, after)
            self._store_order(order, by, source_id)
        return moved

    def code_usage(self, code_id: str) -> dict[str, Any]:
        """What deleting a code would touch: its active codings, their documents and coders, its sub-codes."""
        code = self._code_row(code_id, include_deleted=True)
        codings = self._active_codings(code_id)
        doc_ids = sorted({c["document_id"] for c in codings})
        names = {r[0]: r[1] for r in self.db.execute("SELECT id, name FROM documents")}
        children = [{"id": c["id"], "name": c["name"]} for c in self.codes() if c["parent"] == code_id]
        return {"id": code_id, "name": code["name"], "codings": len(codings), "documents": len(doc_ids),
                "document_names": [names[d] for d in doc_ids], "coders": sorted({c["coder"] for c in codings}),
                "children": children}

    def delete_code(self, code_id: str, by: str) -> int:
        """Delete a code without sub-codes; its active codings are marked removed. Returns how many."""
        with write_transaction(self.db):
            self.ensure_user(by)
            before = self._code_row(code_id)
            children = [f"{c['id']} ({c['name']})" for c in self.codes() if c["parent"] == code_id]
            if children:
                raise StoreError(f"code {code_id} has {len(children)} sub-code(s): {', '.join(children)}; "
                                 "move or delete them first, or merge the code into another")
            stamp = now()
            codings = self._active_codings(code_id)
            for coding in codings:
                update = {"removed_at": stamp, "removed_by": by}
                self.db["codings"].update(coding["id"], update)
                self._log(by, "coding.removed", "coding", coding["id"], coding, {**coding, **update})
            self.db["codes"].update(code_id, {"deleted_at": stamp})
            self._log(by, "code.deleted", "code", code_id, before,
                      {**self._code_row(code_id, include_deleted=True), "codings_removed": len(codings)})
        return len(codings)

    def code_counts(self) -> dict[str, int]:
        """Active codings per code, for every code of the codebook (0 where a code is unused)."""
        counts = {c["id"]: 0 for c in self.codes()}
        for code_id, n in self.db.execute("SELECT code_id, count(*) FROM codings WHERE removed_at IS NULL "
                                          "GROUP BY code_id"):
            if code_id in counts:
                counts[code_id] = n
        return counts

    # -- helpers -------------------------------------------------------------------------------
    def _code_row(self, code_id: str, *, include_deleted: bool = False) -> dict[str, Any]:
        rows = list(self.db["codes"].rows_where("id = ?", [code_id]))
        if not rows:
            known = ", ".join(c["id"] for c in self.codes()[:12]) or "none yet"
            raise StoreError(f"no code '{code_id}' in the project (codes: {known})")
        if rows[0]["deleted_at"] and not include_deleted:
            raise StoreError(f"code {code_id} ({rows[0]['name']}) was deleted on {rows[0]['deleted_at'][:10]}")
        return rows[0]

    @staticmethod
    def _decoded(row: dict[str, Any]) -> dict[str, Any]:
        return {**row, "anchors": json.loads(row["anchors"] or "[]"), "codable": bool(row["codable"])}

    def _active_codings(self, code_id: str) -> list[dict[str, Any]]:
        return list(self.db["codings"].rows_where("code_id = ? AND removed_at IS NULL", [code_id],
                                                  order_by="document_id, start, id"))

    def _checked_order(self, before: list[Code], after: list[Code]) -> list[str]:
        """Ids of `after` in codebook order; CodebookError naming every problem the change brings in."""
        old = set(validate(Codebook(codes=before)))
        problems = [p for p in validate(Codebook(codes=after)) if p not in old]
        if problems:
            raise CodebookError(self.path, problems)
        return [after[i].id for i in tree_order(after)]

    def _store_order(self, order: list[str], by: str, cause: str) -> None:
        """Renumber positions to `order`; shifts of other codes are logged as one reordering."""
        current = {r[0]: r[1] for r in self.db.execute("SELECT id, position FROM codes WHERE deleted_at IS NULL")}
        shifted = {code_id: pos for pos, code_id in enumerate(order) if current.get(code_id) != pos}
        for code_id, pos in shifted.items():
            self.db["codes"].update(code_id, {"position": pos})
        others = {code_id: pos for code_id, pos in shifted.items() if code_id != cause}
        if others:
            self._log(by, "codebook.reordered", "codebook", cause,
                      {code_id: current[code_id] for code_id in others}, others)
