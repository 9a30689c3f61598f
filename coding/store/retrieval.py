"""Reading codings back: coded segments with context, code-by-group matrices, coding progress (mixed into Project)."""
from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from coding.errors import StoreError
from coding.transcripts.model import INTERVIEWER

NO_VALUE = "–"  # the group of documents that lack the attribute


def context_before(text: str, start: int, size: int) -> str:
    """Up to `size` characters before `start`, beginning at a word boundary."""
    cut = max(0, start - size)
    if cut > 0 and not text[cut - 1].isspace():
        gaps = [i for i in range(cut, start) if text[i].isspace()]
        cut = gaps[0] if gaps else start
    return text[cut:start].lstrip()


def context_after(text: str, end: int, size: int) -> str:
    """Up to `size` characters after `end`, ending at a word boundary."""
    cut = min(len(text), end + size)
    if cut < len(text) and not text[cut].isspace():
        gaps = [i for i in range(cut - 1, end - 1, -1) if text[i].isspace()]
        cut = gaps[0] if gaps else end
    return text[end:cut].rstrip()


def covered(spans: Iterable[tuple[int, int]], regions: list[tuple[int, int]]) -> int:
    """Characters of `regions` (disjoint, sorted) inside at least one span; overlapping spans count once."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    total = 0
    for start, end in merged:
        for r_start, r_end in regions:
            total += max(0, min(end, r_end) - max(start, r_start))
    return total


def _group_key(value: str) -> tuple[bool, str]:
    return value == NO_VALUE, value.casefold()


class RetrievalMixin:
    """What the Retrieve and Documents pages show; reads only."""

    def coded_segments(self, codes: Iterable[str] | None = None,
                       attributes: Mapping[str, str | Iterable[str]] | None = None,
                       coders: Iterable[str] | None = None, context: int = 80) -> list[dict[str, Any]]:
        """Active codings with their code, turn and context, by document then position.

        Args:
            codes: code ids; a parent brings its sub-codes along. None: every code.
            attributes: e.g. {"Stakeholdergruppe": ["Kommune", "MSO"]}: a document must have one of the
                values of every key given ("–" matches documents without the attribute).
            coders: user names. None: everybody.
            context: at most this many characters of text before and after each quote.
        """
        where, args = ["c.removed_at IS NULL"], []
        if codes is not None:
            ids = self._with_descendants(codes)
            where.append(f"c.code_id IN ({', '.join('?' * len(ids))})")
            args += ids
        if attributes:
            doc_ids = self._documents_with(attributes)
            where.append(f"c.document_id IN ({', '.join('?' * len(doc_ids))})")
            args += doc_ids
        if coders is not None:
            coders = [coders] if isinstance(coders, str) else list(coders)
            where.append(f"c.coder IN ({', '.join('?' * len(coders))})")
            args += coders
        rows = list(self.db.query(f"""
            SELECT c.id, c.document_id, d.name AS document, c.start, c."end", c.quote, c.code_id,
                   k.name AS code, k.color, c.coder, c.created_at, c.memo, c.origin
            FROM codings c JOIN documents d ON d.id = c.document_id JOIN codes k ON k.id = c.code_id
            WHERE {' AND '.join(where)} ORDER BY c.document_id, c.start, c."end", c.id""", args))
        texts: dict[int, str] = {}
        turns: dict[int, list[dict[str, Any]]] = {}
        for row in rows:
            doc_id = row["document_id"]
            if doc_id not in texts:
                texts[doc_id] = self._text(doc_id)
                turns[doc_id] = list(self.db["turns"].rows_where("document_id = ?", [doc_id], order_by="start"))
            turn = _turn_at(turns[doc_id], row["start"], row["end"])
            row["speaker"] = turn["speaker"] if turn else None
            row["role"] = turn["role"] if turn else None
            row["timestamp"] = turn["timestamp"] if turn else None
            row["before"] = context_before(texts[doc_id], row["start"], context)
            row["after"] = context_after(texts[doc_id], row["end"], context)
        return rows

    def code_attribute_matrix(self, attribute: str = "Stakeholdergruppe",
                              codes: Iterable[str] | None = None) -> dict[str, Any]:
        """Per code and attribute value: coded segments, and the share of that group's interviews using it.

        Counts a code's own codings (not its sub-codes'). Returns {"attribute", "groups" (sorted, "–"
        last), "sizes" {group: documents}, "rows": [{"code_id", "code", "color", "segments" {group: n},
        "documents" {group: n}, "share" {group: 0..1}}]} with rows in codebook order.
        """
        values = self._all_attributes()
        group_of = {doc_id: values.get(doc_id, {}).get(attribute) or NO_VALUE
                    for (doc_id,) in self.db.execute("SELECT id FROM documents")}
        sizes: dict[str, int] = defaultdict(int)
        for group in group_of.values():
            sizes[group] += 1
        groups = sorted(sizes, key=_group_key)
        all_codes = self.codes()
        if codes is not None:
            wanted = {codes} if isinstance(codes, str) else set(codes)
            self._require_codes(wanted)
            all_codes = [c for c in all_codes if c["id"] in wanted]
        segments: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        documents: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
        for code_id, doc_id in self.db.execute("SELECT code_id, document_id FROM codings WHERE removed_at IS NULL"):
            segments[code_id][group_of[doc_id]] += 1
            documents[code_id][group_of[doc_id]].add(doc_id)
        rows = []
        for code in all_codes:
            used = {g: len(documents[code["id"]][g]) for g in groups}
            rows.append({"code_id": code["id"], "code": code["name"], "color": code["color"],
                         "segments": {g: segments[code["id"]][g] for g in groups}, "documents": used,
                         "share": {g: used[g] / sizes[g] for g in groups}})
        return {"attribute": attribute, "groups": groups, "sizes": {g: sizes[g] for g in groups}, "rows": rows}

    def progress(self) -> list[dict[str, Any]]:
        """Per document, how much of what respondents said is coded, overall and per coder.

        Respondent text is every turn whose role is not interviewer; coverage is the share of its
        characters inside at least one active coding (overlaps count once), so it runs from 0 to 1.
        """
        regions: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for doc_id, start, end, role in self.db.execute(
                'SELECT document_id, start, "end", role FROM turns ORDER BY document_id, start'):
            if role != INTERVIEWER:
                regions[doc_id].append((start, end))
        spans: dict[int, dict[str, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
        last: dict[int, str] = {}
        for doc_id, start, end, coder, created_at in self.db.execute(
                'SELECT document_id, start, "end", coder, created_at FROM codings WHERE removed_at IS NULL'):
            spans[doc_id][coder].append((start, end))
            last[doc_id] = max(last.get(doc_id, ""), created_at or "")
        result = []
        for doc_id, name, text in self.db.execute("SELECT id, name, text FROM documents ORDER BY id"):
            mine, by_coder = regions[doc_id], spans[doc_id]
            size = sum(end - start for start, end in mine) or 1  # no respondent text: nothing to cover
            everyone = [span for coder_spans in by_coder.values() for span in coder_spans]
            result.append({
                "document_id": doc_id, "document": name,
                "respondent_words": sum(len(text[start:end].split()) for start, end in mine),
                "coverage": covered(everyone, mine) / size,
                "coverage_by_coder": {coder: covered(s, mine) / size for coder, s in sorted(by_coder.items())},
                "codings_by_coder": {coder: len(s) for coder, s in sorted(by_coder.items())},
                "codings": sum(len(s) for s in by_coder.values()),
                "last_coded_at": last.get(doc_id) or None})
        return result

    # -- helpers -------------------------------------------------------------------------------
    def _require_codes(self, code_ids: set[str]) -> None:
        unknown = sorted(code_ids - {c["id"] for c in self.codes()})
        if unknown:
            raise StoreError(f"no code {', '.join(map(repr, unknown))} in the codebook; "
                             "choose codes from the project's codebook")

    def _with_descendants(self, code_ids: Iterable[str]) -> list[str]:
        chosen = {code_ids} if isinstance(code_ids, str) else set(code_ids)
        self._require_codes(chosen)
        children: dict[str, list[str]] = defaultdict(list)
        for code in self.codes():
            children[code["parent"]].append(code["id"])
        result, stack = set(), list(chosen)
        while stack:
            code_id = stack.pop()
            if code_id not in result:
                result.add(code_id)
                stack.extend(children[code_id])
        return sorted(result)

    def _documents_with(self, attributes: Mapping[str, str | Iterable[str]]) -> list[int]:
        wanted = {key: {values} if isinstance(values, str) else set(values) for key, values in attributes.items()}
        values = self._all_attributes()
        return [doc_id for (doc_id,) in self.db.execute("SELECT id FROM documents ORDER BY id")
                if all((values.get(doc_id, {}).get(key) or NO_VALUE) in allowed for key, allowed in wanted.items())]


def _turn_at(turns: list[dict[str, Any]], start: int, end: int) -> dict[str, Any] | None:
    """The turn a coding starts in; for a coding starting on a speaker label, the first turn it reaches."""
    i = bisect.bisect_right(turns, start, key=lambda t: t["start"]) - 1
    if i >= 0 and turns[i]["end"] > start:
        return turns[i]
    following = turns[i + 1] if i + 1 < len(turns) else None
    return following if following and following["start"] < end else None
