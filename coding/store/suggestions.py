"""What researchers did with code suggestions: accepted or rejected, by whom, from which model."""
from __future__ import annotations

from typing import Any

from coding.errors import StoreError
from coding.store.database import now, write_transaction

DECISIONS = ("accepted", "rejected")


class SuggestionsMixin:
    """Feedback on suggestions (mixed into Project): rejected ones are not shown again for a passage."""

    def record_suggestion(self, document_id: int, start: int, end: int, code_id: str, user: str, decision: str,
                          model_id: str, score: float) -> int:
        """Remember that `user` accepted or rejected suggesting `code_id` for a passage."""
        if decision not in DECISIONS:
            raise StoreError(f"unknown decision '{decision}' (one of {', '.join(DECISIONS)})")
        with write_transaction(self.db):
            self.ensure_user(user)
            row = {"document_id": document_id, "start": start, "end": end, "code_id": code_id, "user": user,
                   "decision": decision, "model_id": model_id, "score": float(score), "at": now()}
            feedback_id = self.db["suggestion_feedback"].insert(row).last_pk
            self._log(user, f"suggestion.{decision}", "suggestion", feedback_id, None, row)
        return feedback_id

    def rejected_codes(self, document_id: int, start: int, end: int) -> set[str]:
        """Codes someone rejected for exactly this passage."""
        rows = self.db.execute(
            'SELECT code_id FROM suggestion_feedback WHERE document_id = ? AND start = ? AND "end" = ? '
            "AND decision = 'rejected'", [document_id, start, end])
        return {row[0] for row in rows}

    def suggestion_rates(self) -> list[dict[str, Any]]:
        """Per code: how often a suggestion was accepted or rejected, and the acceptance rate."""
        rows = self.db.execute(
            "SELECT code_id, sum(decision = 'accepted'), sum(decision = 'rejected') FROM suggestion_feedback "
            "GROUP BY code_id ORDER BY code_id").fetchall()
        return [{"code_id": code, "accepted": acc, "rejected": rej, "rate": acc / (acc + rej) if acc + rej else None}
                for code, acc, rej in rows]
