"""Theme runs and their revisions (mixed into Project): each review action appends the run's whole state.

A theme run keeps what made it (the selection, the embedder's model id, the seed, the engine's steps),
the coded passages it clustered and the feature rows they were clustered in. Every action of a team
lead (create, rename, describe, merge, split, move, discard, accept, undo) appends a revision that
holds the complete state afterwards (themes with their lead-written description and status, the
assignments), so any revision can be shown again and nothing is ever overwritten.

An action names the revision it was computed from. When another lead's revision came in meanwhile,
the action is refused with `ThemeConflict` and nothing is stored: the lead sees the other change first.

Undo appends a revision restoring the state the undone action started from. Each revision stores
`undo_to`, the revision an undo of it returns to, so repeated undo walks back step by step.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from coding.codebook.model import without_control_characters
from coding.errors import StoreError
from coding.store.database import now, write_transaction

ACTIONS = ("create", "rename", "describe", "merge", "split", "move", "discard", "accept", "undo")
ACTIVE, DISCARDED, ACCEPTED = "active", "discarded", "accepted"
THEMES_PARENT = "Themen"  # the non-codable code that accepted themes go under
THEME_ORIGIN = "theme"  # the origin of codings made by accepting a theme


class ThemeConflict(StoreError):
    """Another lead changed the theme run after the revision an action was computed from; nothing was stored."""


class ThemeLocked(StoreError):
    """The theme was accepted into the codebook or discarded; it cannot be changed before an undo."""


def theme_of(state: dict[str, Any], theme_id: str) -> dict[str, Any]:
    """The theme `theme_id` of a revision's state (StoreError naming the run's themes when absent)."""
    for theme in state["themes"]:
        if theme["id"] == theme_id:
            return theme
    known = ", ".join(t["id"] for t in state["themes"]) or "none"
    raise StoreError(f"there is no theme {theme_id!r} in this revision (its themes: {known})")


def require_active(state: dict[str, Any], theme_ids: Sequence[str]) -> None:
    """ThemeLocked unless every theme named is still open for review (neither accepted nor discarded)."""
    for theme_id in theme_ids:
        theme = theme_of(state, theme_id)
        if theme["status"] == ACCEPTED:
            raise ThemeLocked(f"theme {theme_id} ({theme['label']}) is in the codebook as code {theme['code_id']}; "
                              "undo the acceptance to change it")
        if theme["status"] == DISCARDED:
            raise ThemeLocked(f"theme {theme_id} ({theme['label']}) was discarded; undo the discarding to change it")


def _maker(revisions: list[dict[str, Any]], number: int) -> int:
    """The revision whose action made the state of revision `number`: an undo only restores a state, so
    follow it to the revision it restored (an undo's state may itself be restored by an undo)."""
    revision = revisions[number - 1]
    while revision["action"] == "undo":
        revision = revisions[revision["details"]["restores"] - 1]
    return revision["number"]


def _with_theme(state: dict[str, Any], theme_id: str, **changes: Any) -> dict[str, Any]:
    """A copy of `state` with one theme's fields changed."""
    return {**state, "themes": [{**t, **changes} if t["id"] == theme_id else t for t in state["themes"]]}


class ThemesMixin:
    """Store, read and revise theme runs; every write is one transaction, logged in `events`."""

    # -- runs --------------------------------------------------------------------------------------
    def create_theme_run(self, name: str, user: str, *, selection: dict[str, Any], embedder: str | None, seed: int,
                         steps: dict[str, Any], segments: list[dict[str, Any]], features: np.ndarray,
                         state: dict[str, Any], layout: np.ndarray | None = None) -> int:
        """Store a new run with its first revision ("create"); returns the run's id.

        `segments` are the coded passages in the order of the rows of `features`; `steps` the engine's
        record (steps, parameters); `state` the themes and assignments as first proposed; `layout` the
        passages' 2-D map coordinates.
        """
        name = name.strip()
        if not name:
            raise StoreError("a theme run needs a name")
        features = np.asarray(features, dtype="<f4")
        if features.ndim != 2 or features.shape[0] != len(segments):
            raise StoreError(f"need one feature row per segment: {len(segments)} segments, "
                             f"features of shape {features.shape}")
        if layout is not None:
            layout = np.asarray(layout, dtype="<f4")
            if layout.shape != (len(segments), 2):
                raise StoreError(f"need one map point (x, y) per segment: {len(segments)} segments, "
                                 f"layout of shape {layout.shape}")
        with write_transaction(self.db):
            self.ensure_user(user)
            stamp = now()
            run_id = self.db["theme_runs"].insert({
                "name": name, "created_at": stamp, "created_by": user,
                "selection": json.dumps(selection, ensure_ascii=False), "embedder": embedder, "seed": seed,
                "steps": json.dumps(steps, ensure_ascii=False), "segments": json.dumps(segments, ensure_ascii=False),
                "features": features.tobytes(), "feature_rows": features.shape[0],
                "feature_dims": features.shape[1],
                "layout": None if layout is None else layout.tobytes()}).last_pk
            details = {"themes": len(state["themes"]), "segments": len(segments)}
            self._append_revision(run_id, 1, "create", details, state, None, user, stamp)
            self._log(user, "theme_run.created", "theme_run", run_id, None,
                      {"name": name, "selection": selection, "embedder": embedder, "seed": seed, **details})
        return run_id

    def theme_runs(self) -> list[dict[str, Any]]:
        """Every theme run, newest first, with its selection and its latest revision (without the state)."""
        rows = self.db.query("""
            SELECT r.id, r.name, r.created_at, r.created_by, r.selection, r.embedder, r.seed,
                   r.feature_rows AS segments, h.number AS revision, h.action, h.at AS changed_at, h.user AS changed_by
            FROM theme_runs r JOIN theme_revisions h ON h.run_id = r.id
            WHERE h.number = (SELECT max(number) FROM theme_revisions WHERE run_id = r.id)
            ORDER BY r.id DESC""")
        return [{**row, "selection": json.loads(row["selection"])} for row in rows]

    def theme_run(self, run_id: int) -> dict[str, Any]:
        """One run: what made it, its segments (list of dicts), its feature rows (float32 array) and its
        map layout (float32 array of x/y, None for runs made before maps were stored)."""
        rows = list(self.db["theme_runs"].rows_where("id = ?", [run_id]))
        if not rows:
            known = ", ".join(str(r[0]) for r in self.db.execute("SELECT id FROM theme_runs ORDER BY id")) or "none yet"
            raise StoreError(f"no theme run {run_id} in {self.path} (runs: {known})")
        row = rows[0]
        features = np.frombuffer(row.pop("features"), dtype="<f4").reshape(row["feature_rows"], row["feature_dims"])
        layout = row.pop("layout", None)
        row["layout"] = None if layout is None else np.frombuffer(layout, dtype="<f4").reshape(-1, 2)
        return {**row, "selection": json.loads(row["selection"]), "steps": json.loads(row["steps"]),
                "segments": json.loads(row["segments"]), "features": features}

    # -- revisions ---------------------------------------------------------------------------------
    def theme_revision(self, run_id: int, number: int | None = None) -> dict[str, Any]:
        """A revision with its state (default: the latest)."""
        if number is None:
            number = self._theme_head(run_id)
        rows = list(self.db["theme_revisions"].rows_where("run_id = ? AND number = ?", [run_id, number]))
        if not rows:
            raise StoreError(f"theme run {run_id} has no revision {number}")
        return self._decoded_revision(rows[0], with_state=True)

    def theme_revisions(self, run_id: int) -> list[dict[str, Any]]:
        """The run's revisions, oldest first, without their states (the run's history for display)."""
        self._theme_head(run_id)
        rows = self.db.query("SELECT id, run_id, number, action, details, undo_to, user, at FROM theme_revisions "
                             "WHERE run_id = ? ORDER BY number", [run_id])
        return [self._decoded_revision(row, with_state=False) for row in rows]

    def undoable(self, run_id: int) -> dict[str, Any] | None:
        """The revision whose action an undo now would take back (None when there is nothing to undo)."""
        head = self.theme_revision(run_id)
        if head["undo_to"] is None:
            return None
        rows = self.theme_revisions(run_id)
        return rows[_maker(rows, head["number"]) - 1]

    def revise_themes(self, run_id: int, base: int, action: str, details: dict[str, Any], state: dict[str, Any],
                      user: str) -> int:
        """Append a revision computed from revision `base`; returns its number.

        ThemeConflict (nothing stored) when the run has moved past `base` meanwhile. Used for the
        revisions the theme engine computes (merge, split, move); the other actions have their own methods.
        """
        if action not in ("merge", "split", "move"):
            raise StoreError(f"unknown theme action {action!r} here (merge, split or move; "
                             "rename, describe, discard, accept and undo have their own methods)")
        with write_transaction(self.db):
            head = self._check_base(run_id, base, user)
            return self._append_revision(run_id, head["number"] + 1, action, details, state, head["number"], user)

    def rename_theme(self, run_id: int, base: int, theme_id: str, label: str, user: str) -> int:
        """Give a theme the lead's own title (kept when later revisions recompute the draft titles)."""
        label = " ".join(without_control_characters(label).split())
        if not label:
            raise StoreError(f"theme {theme_id}: a title cannot be empty")
        return self._simple_action(run_id, base, theme_id, user, "rename", {"theme": theme_id, "label": label},
                                   label=label, renamed=True)

    def describe_theme(self, run_id: int, base: int, theme_id: str, description: str, user: str) -> int:
        """Write or change a theme's description (it becomes the code's definition on acceptance)."""
        # A pasted description may carry control characters; it becomes a code's definition on acceptance,
        # which a codebook cannot hold, so they go here.
        description = without_control_characters(description).strip()
        return self._simple_action(run_id, base, theme_id, user, "describe",
                                   {"theme": theme_id, "description": description}, description=description)

    def discard_theme(self, run_id: int, base: int, theme_id: str, user: str) -> int:
        """Set a theme aside; its segments stay where they are, and an undo brings it back."""
        return self._simple_action(run_id, base, theme_id, user, "discard", {"theme": theme_id}, status=DISCARDED)

    def _simple_action(self, run_id: int, base: int, theme_id: str, user: str, action: str,
                       details: dict[str, Any], **changes: Any) -> int:
        with write_transaction(self.db):
            head = self._check_base(run_id, base, user)
            require_active(head["state"], [theme_id])
            state = _with_theme(head["state"], theme_id, **changes)
            return self._append_revision(run_id, head["number"] + 1, action, details, state, head["number"], user)

    def accept_theme(self, run_id: int, base: int, theme_id: str, user: str) -> int:
        """Take a theme into the codebook: a code under "Themen" (made if absent), named by the theme's title
        and defined by its description, and a coding of each of its passages by `user` (origin "theme").
        Returns the revision's number."""
        from coding.codebook.model import Code

        with write_transaction(self.db):
            head = self._check_base(run_id, base, user)
            require_active(head["state"], [theme_id])
            theme = theme_of(head["state"], theme_id)
            run = self.theme_run(run_id)
            parent = self._themes_parent(user)
            code_id = self.new_code_id(theme["label"])
            self.add_code(Code(id=code_id, name=theme["label"], parent=parent, definition=theme["description"],
                               memo=f"Thema {theme_id} aus Themenlauf {run_id} ({run['name']})"), user)
            coding_ids = self._code_members(run["segments"], theme["members"], code_id, user)
            state = _with_theme(head["state"], theme_id, status=ACCEPTED, code_id=code_id, codings=coding_ids)
            details = {"theme": theme_id, "code_id": code_id, "codings": len(coding_ids)}
            return self._append_revision(run_id, head["number"] + 1, "accept", details, state, head["number"], user)

    def undo_themes(self, run_id: int, base: int, user: str) -> int:
        """Take back the last action not yet undone: append a revision restoring the state it started from.

        Undoing an acceptance removes the codings it made (marked removed, as always) and deletes its
        code unless something else uses it by now.
        """
        with write_transaction(self.db):
            head = self._check_base(run_id, base, user)
            if head["undo_to"] is None:
                raise StoreError(f"theme run {run_id}: nothing to undo (revision {head['number']} is where it began)")
            revisions = self.theme_revisions(run_id)
            undone = _maker(revisions, head["number"])
            target = self.theme_revision(run_id, head["undo_to"])
            accepted_before = {t["id"]: t for t in target["state"]["themes"] if t["status"] == ACCEPTED}
            for theme in head["state"]["themes"]:
                if theme["status"] == ACCEPTED and theme["id"] not in accepted_before:
                    self._withdraw_acceptance(theme, user)
            details = {"undid": undone, "action": revisions[undone - 1]["action"],
                       "restores": target["number"]}
            return self._append_revision(run_id, head["number"] + 1, "undo", details, target["state"],
                                         target["undo_to"], user)

    # -- helpers -----------------------------------------------------------------------------------
    def _theme_head(self, run_id: int) -> int:
        row = self.db.execute("SELECT max(number) FROM theme_revisions WHERE run_id = ?", [run_id]).fetchone()
        if row[0] is None:
            self.theme_run(run_id)  # names the known runs
            raise StoreError(f"theme run {run_id} has no revisions")
        return row[0]

    def _check_base(self, run_id: int, base: int, user: str) -> dict[str, Any]:
        """The run's latest revision, when it is `base`; else ThemeConflict naming who changed what."""
        self.ensure_user(user)
        head = self.theme_revision(run_id)
        if head["number"] != base:
            if base > head["number"] or base < 1:
                raise StoreError(f"theme run {run_id} has no revision {base} (latest: {head['number']})")
            later = [r for r in self.theme_revisions(run_id) if r["number"] > base]
            who = ", ".join(f"{r['user']}: {r['action']} (revision {r['number']})" for r in later)
            raise ThemeConflict(f"theme run {run_id} changed while you were working from revision {base}: {who}; "
                                "nothing was stored, look at the current themes and do it again")
        return head

    def _append_revision(self, run_id: int, number: int, action: str, details: dict[str, Any],
                         state: dict[str, Any], undo_to: int | None, user: str, at: str | None = None) -> int:
        if action not in ACTIONS:
            raise StoreError(f"unknown theme action {action!r} (one of {', '.join(ACTIONS)})")
        self.db["theme_revisions"].insert({
            "run_id": run_id, "number": number, "action": action, "details": json.dumps(details, ensure_ascii=False),
            "state": json.dumps(state, ensure_ascii=False), "undo_to": undo_to, "user": user, "at": at or now()})
        if action != "create":
            self._log(user, f"theme.{action}", "theme_run", run_id, {"revision": number - 1},
                      {"revision": number, **details})
        return number

    @staticmethod
    def _decoded_revision(row: dict[str, Any], *, with_state: bool) -> dict[str, Any]:
        decoded = {**row, "details": json.loads(row["details"])}
        if with_state:
            decoded["state"] = json.loads(row["state"])
        return decoded

    def _themes_parent(self, user: str) -> str:
        """The id of the non-codable top-level code "Themen", made now if the codebook lacks it."""
        from coding.codebook.model import Code

        for code in self.codes():
            if code["name"] == THEMES_PARENT and code["parent"] is None:
                return code["id"]
        return self.add_code(Code(id=self.new_code_id(THEMES_PARENT), name=THEMES_PARENT, codable=False,
                                  definition="Themen, die die Projektleitung aus Themenläufen ins Codebuch "
                                             "übernommen hat."), user)

    def _code_members(self, segments: list[dict[str, Any]], members: list[str], code_id: str,
                      user: str) -> list[int]:
        """Code the span of each member passage with `code_id` (a span coded twice in the run: once)."""
        by_id = {s["id"]: s for s in segments}
        spans = dict.fromkeys((by_id[m]["document_id"], by_id[m]["start"], by_id[m]["end"]) for m in members)
        return self.add_codings([{"document_id": document_id, "start": start, "end": end, "code_id": code_id,
                                  "origin": THEME_ORIGIN} for document_id, start, end in spans], user)

    def _withdraw_acceptance(self, theme: dict[str, Any], user: str) -> None:
        """Remove the codings an acceptance made, and its code unless other codings or sub-codes use it."""
        stamp = now()
        for coding_id in theme.get("codings", []):
            rows = list(self.db["codings"].rows_where("id = ? AND removed_at IS NULL", [coding_id]))
            if rows:
                update = {"removed_at": stamp, "removed_by": user}
                self.db["codings"].update(coding_id, update)
                self._log(user, "coding.removed", "coding", coding_id, rows[0], {**rows[0], **update})
        code_id = theme["code_id"]
        used = self.db.execute("SELECT count(*) FROM codings WHERE code_id = ? AND removed_at IS NULL",
                               [code_id]).fetchone()[0]
        children = self.db.execute("SELECT count(*) FROM codes WHERE parent = ? AND deleted_at IS NULL",
                                   [code_id]).fetchone()[0]
        gone = self.db.execute("SELECT deleted_at FROM codes WHERE id = ?", [code_id]).fetchone()
        if not used and not children and gone is not None and gone[0] is None:
            self.delete_code(code_id, user)
