"""The review queue: uncoded passages with a confident suggestion, to accept or reject in bulk.

A team that has coded part of its interviews lets the suggester propose codes for the rest and
checks the proposals in a list instead of passage by passage. The queue holds respondents'
segments (interviewers' questions are not coded) that no coding of a group's codes touches yet,
each with the best code of that group that was not rejected for the passage before, when its score
reaches the chosen threshold. Accepting stores ordinary codings with origin "suggestion", the model
id and the segment's exact text as quote; both decisions are recorded as on the Code page, so a
rejected suggestion is not offered for that passage again.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from coding.embed.cache import text_hash
from coding.errors import StoreError, UnknownDocumentError
from coding.store import Project
from coding.suggest.base import Suggestion, SuggestError
from coding.suggest.groups import CodeGroup

# Suggestions looked at per group and passage: when the best one was rejected, the next may still qualify.
CANDIDATES = 3
# Passages scored per call into the suggester (a caller that locks a shared suggester holds it this long).
CHUNK = 64

Scores = dict[str, list[list[Suggestion]]]  # passage text -> each group's best suggestions


class GroupSuggester(Protocol):
    """What the queue needs of a suggester (a `GroupedSuggester`, or a wrapper that locks one)."""

    groups: list[CodeGroup]
    embedders: Sequence[Any]  # the models whose vectors it needs; only their model_id is read

    def suggest_grouped(self, texts: Sequence[str], k: int = ...) -> list[list[list[Suggestion]]]: ...


@dataclass(frozen=True)
class ReviewItem:
    """One suggestion to review: a segment of a document and the best code of one group for it."""

    document_id: int
    document: str
    start: int
    end: int
    text: str
    group: CodeGroup
    suggestion: Suggestion

    @property
    def code(self) -> str:
        return self.suggestion.code

    @property
    def score(self) -> float:
        return self.suggestion.score

    @property
    def key(self) -> str:
        """Names the item across page runs and queue changes: document, span and code."""
        return f"{self.document_id}:{self.start}:{self.end}:{self.code}"


def review_queue(project: Project, suggester: GroupSuggester, document_ids: Iterable[int] | None = None,
                 min_score: float = 0.6, group: CodeGroup | None = None, *, cached_only: bool = False,
                 memo: Scores | None = None) -> list[ReviewItem]:
    """The suggestions to review, in document order (document, then position, then group).

    Document order keeps the items of one interview together and in reading order, so a reviewer
    reads neighbouring passages one after another, and the rows stay put when the threshold moves.

    Args:
        document_ids: the documents to look at (default: the whole project).
        min_score: the lowest calibrated score (0..1) a suggestion needs to be listed.
        group: one of `suggester.groups` (default: every group; a segment may then be listed once
            per group, say with a theme and with a statement type).
        cached_only: leave out segments whose vector is not in the project's cache yet instead of
            embedding them (the app embeds them in the background).
        memo: passage text -> grouped suggestions, filled as passages are scored and reused on the
            next call; valid only for this suggester.

    The suggester should embed through the project's cache (`project_suggester`'s does), so a
    segment embedded once is never embedded again.
    """
    if not 0.0 <= min_score <= 1.0:
        raise SuggestError(f"the threshold must be a score between 0 and 1, not {min_score}")
    groups = _chosen_groups(suggester, group)
    open_segments = _open_segments(project, _documents(project, document_ids), groups)
    memo = {} if memo is None else memo
    _score(project, suggester, [segment["text"] for _, segment, _ in open_segments], memo, cached_only)
    items = []
    for document, segment, open_groups in open_segments:
        scored = memo.get(segment["text"])
        if scored is None:  # not embedded yet
            continue
        rejected: set[str] | None = None
        for index in open_groups:
            good = [s for s in scored[index] if s.score >= min_score]
            if not good:
                continue
            if rejected is None:
                rejected = project.rejected_codes(document["id"], segment["start"], segment["end"])
            best = next((s for s in good if s.code not in rejected), None)
            if best is not None:
                items.append(ReviewItem(document["id"], document["name"], segment["start"], segment["end"],
                                        segment["text"], suggester.groups[index], best))
    return items


def accept_suggestion(project: Project, document_id: int, start: int, end: int, code: str, user: str,
                      model_id: str | None, score: float, quote: str | None = None) -> int:
    """Code a passage with a suggested code (origin "suggestion", with the model id) and record the
    acceptance; returns the coding's id. The store refuses a coding `user` already has."""
    coding_id = project.add_coding(document_id, start, end, code, user, quote=quote, origin="suggestion",
                                   model_id=model_id)
    project.record_suggestion(document_id, start, end, code, user, "accepted", model_id, score)
    return coding_id


def reject_suggestion(project: Project, document_id: int, start: int, end: int, code: str, user: str,
                      model_id: str | None, score: float) -> None:
    """Record that `user` rejected a suggested code for a passage; it is not offered there again."""
    project.record_suggestion(document_id, start, end, code, user, "rejected", model_id, score)


def accept_all(project: Project, items: Iterable[ReviewItem], user: str, model_id: str) -> int:
    """Code each item's segment with its suggested code as `user` and record the acceptance; return how
    many codings were made.

    A coding `user` already has (same span, same code) is left alone and not counted, so accepting
    the same items twice changes nothing; nothing is overwritten or removed. The quote is the
    segment's text, which the store checks against the document.
    """
    items = list(items)
    have = _codings_of(project, user, {item.document_id for item in items})
    made = 0
    for item in items:
        key = (item.document_id, item.start, item.end, item.code)
        if key in have:
            continue
        try:
            accept_suggestion(project, item.document_id, item.start, item.end, item.code, user, model_id,
                              item.score, quote=item.text)
        except StoreError:
            if key not in _codings_of(project, user, {item.document_id}):
                raise
            have.add(key)  # the same coding was stored meanwhile (another tab, a double click)
            continue
        have.add(key)
        made += 1
    return made


def reject_all(project: Project, items: Iterable[ReviewItem], user: str, model_id: str) -> int:
    """Record that `user` rejected each item's suggestion, so neither the queue nor the Code page offers
    it for that passage again; return how many were newly rejected (a rejection is recorded once)."""
    made = 0
    for item in items:
        if item.code in project.rejected_codes(item.document_id, item.start, item.end):
            continue
        reject_suggestion(project, item.document_id, item.start, item.end, item.code, user, model_id, item.score)
        made += 1
    return made


def _chosen_groups(suggester: GroupSuggester, group: CodeGroup | None) -> list[tuple[int, CodeGroup]]:
    """(position in suggester.groups, group) of the group asked for, or of every group."""
    if group is None:
        return list(enumerate(suggester.groups))
    if group not in suggester.groups:
        known = "; ".join(", ".join(g.codes) for g in suggester.groups)
        raise SuggestError(f"the suggester has no group of the codes {', '.join(group.codes)} "
                           f"(its groups: {known}); the codebook changed, reload the page")
    return [(suggester.groups.index(group), group)]


def _documents(project: Project, document_ids: Iterable[int] | None) -> list[dict[str, Any]]:
    """The documents asked for, in the project's order."""
    documents = project.documents()
    if document_ids is None:
        return documents
    wanted = set(document_ids)
    missing = sorted(wanted - {d["id"] for d in documents})
    if missing:
        raise UnknownDocumentError(f"no document with id {missing[0]} in {project.path}")
    return [d for d in documents if d["id"] in wanted]


def _open_segments(project: Project, documents: list[dict[str, Any]], groups: list[tuple[int, CodeGroup]]
                   ) -> list[tuple[dict[str, Any], dict[str, Any], list[int]]]:
    """(document, segment, the groups it is still open for) of every respondent segment that some
    chosen group has no coding on yet, whoever coded it."""
    found = []
    for document in documents:
        interviewer = {turn["id"] for turn in project.turns(document["id"]) if turn["role"] == "interviewer"}
        codings = project.codings(document["id"])
        for segment in project.segments(document["id"]):
            if segment["turn_id"] in interviewer or not segment["text"].strip():
                continue
            touching = {c["code_id"] for c in codings if c["start"] < segment["end"] and segment["start"] < c["end"]}
            open_groups = [index for index, group in groups if not touching.intersection(group.codes)]
            if open_groups:
                found.append((document, segment, open_groups))
    return found


def _score(project: Project, suggester: GroupSuggester, texts: list[str], memo: Scores, cached_only: bool) -> None:
    """Put the grouped suggestions of every text not yet in `memo` there (with `cached_only`: only of
    texts whose vector is cached)."""
    wanted = [text for text in dict.fromkeys(texts) if text not in memo]
    if cached_only and wanted:
        hashes = {text: text_hash(text) for text in wanted}
        for embedder in suggester.embedders:
            cached = project.cached_vectors(embedder.model_id, [hashes[text] for text in wanted])
            wanted = [text for text in wanted if hashes[text] in cached]
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start:start + CHUNK]
        memo.update(zip(chunk, suggester.suggest_grouped(chunk, k=CANDIDATES)))


def _codings_of(project: Project, user: str, document_ids: Iterable[int]) -> set[tuple[int, int, int, str]]:
    """(document, start, end, code) of the active codings `user` has in these documents."""
    return {(c["document_id"], c["start"], c["end"], c["code_id"])
            for doc_id in document_ids for c in project.codings(doc_id) if c["coder"] == user}
