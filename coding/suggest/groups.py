"""Suggestions per group of alternative codes: a passage gets a theme *and* a statement type.

A codebook often codes one passage along several dimensions: in the demo study a thematic code
(H1-H12) and, on the same span, what kind of statement it is (A1 challenge, A2 approach, A3
demand). Ranked in one list, these compete although both are right, and learning from them as one
set of labels teaches the model that a housing passage is "not a challenge". So codes are grouped
by their parent: the codable codes at the top level form one group, the codable children of each
code another. Each group gets its own `Suggester`, learns from the codings of its own codes and
is calibrated on its own: a score is the chance that the code is the right one *of its group*.
A group of a single code has no alternative to rank and is not suggested for.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from coding.codebook import Codebook
from coding.embed.base import Embedder
from coding.suggest.base import Suggestion, SuggestError, as_examples
from coding.suggest.fuse import FusedSuggester
from coding.suggest.model import DEFAULT_K, Suggester


@dataclass(frozen=True)
class CodeGroup:
    """Codes that are alternatives to one another: the codable children of `parent` (None: top level)."""

    parent: str | None
    name: str
    codes: tuple[str, ...]


def code_groups(codebook: Codebook, codes: Sequence[str] | None = None) -> list[CodeGroup]:
    """The groups of alternative codes among `codes` (default: every codable code), in codebook order.

    Groups of one code are left out: there is nothing to rank it against.
    """
    known = {code.id: code for code in codebook.codes}
    if codes is None:
        codes = [code.id for code in codebook.codes if code.codable is not False]
    for code_id in codes:
        if code_id not in known:
            raise SuggestError(f"code {code_id!r} is not in the codebook {codebook.name!r}")
    by_parent: dict[str | None, list[str]] = {}
    for code_id in dict.fromkeys(codes):
        by_parent.setdefault(known[code_id].parent, []).append(code_id)
    groups = [CodeGroup(parent, known[parent].name if parent in known else "", tuple(members))
              for parent, members in by_parent.items() if len(members) >= 2]
    if not groups:
        raise SuggestError(f"the codebook {codebook.name!r} has no two codable codes with the same parent "
                           "to choose between, so there is nothing to suggest")
    return groups


class GroupedSuggester:
    """One `Suggester` per group of alternative codes; passages are embedded once for all of them.

    With a `tuned` model (`coding.suggest.adapt`), each group's suggester is a `FusedSuggester`: the
    hybrid on the tuned vectors fused with the hybrid on `embedder`'s. `self.embedder` is then the tuned
    model (its id, recorded with accepted suggestions, names the base model too); `self.embedders`
    are the models whose vectors suggestions need.
    """

    name = "suggest.grouped.v1"

    def __init__(self, codebook: Codebook, embedder: Embedder, *, codes: Sequence[str] | None = None,
                 tuned: Embedder | None = None, **options) -> None:
        self.codebook = codebook
        self.embedder = tuned or embedder
        self.embedders = (embedder,) if tuned is None else (embedder, tuned)
        self.groups = code_groups(codebook, codes)
        memo: dict[str, np.ndarray] = {}
        partner_memo: dict[str, np.ndarray] = {}
        self.members = [Suggester(codebook, embedder, codes=list(group.codes), memo=memo, **options)
                        if tuned is None else
                        FusedSuggester(codebook, tuned, embedder, codes=list(group.codes), memo=memo,
                                       partner_memo=partner_memo, **options)
                        for group in self.groups]
        self.codes = [code for group in self.groups for code in group.codes]
        self._group_of = {code: i for i, group in enumerate(self.groups) for code in group.codes}

    def fit(self, examples: Iterable, *, after: GroupedSuggester | None = None) -> GroupedSuggester:
        """Learn from these coded passages; each group learns from the codings of its own codes.

        `after`: the suggester this one replaces; each group keeps its pool weights and calibration while
        its codings have changed little (`Suggester.fit`).
        """
        same_groups = after is not None and after.groups == self.groups
        return self._learn(examples, "fit", after.members if same_groups else None)

    def add(self, examples: Iterable) -> GroupedSuggester:
        """Learn from more coded passages; only the groups they concern are refitted."""
        return self._learn(examples, "add")

    def _learn(self, examples: Iterable, how: str, earlier: list | None = None) -> GroupedSuggester:
        examples = as_examples(examples)
        per_group: list[list] = [[] for _ in self.groups]
        for i, example in enumerate(examples):
            if example.code not in self._group_of:
                where = f" ({example.id})" if example.id else ""
                raise SuggestError(f"coded example {i + 1}{where} has the code {example.code!r}, which is not "
                                   f"among the codes to suggest ({', '.join(self.codes)})")
            per_group[self._group_of[example.code]].append(example)
        for member, own, before in zip(self.members, per_group, earlier or [None] * len(self.members)):
            if how == "fit":
                member.fit(own, after=before)
            elif own:
                member.add(own)
        return self

    @property
    def examples(self) -> list:
        return [example for member in self.members for example in member.examples]

    def suggest_grouped(self, texts: Sequence[str], k: int = DEFAULT_K,
                        context: Sequence[str | None] | None = None) -> list[list[list[Suggestion]]]:
        """For each passage, each group's `k` best codes (groups in the order of `self.groups`)."""
        if isinstance(texts, str):
            raise SuggestError("suggest() takes a list of passages; wrap a single passage in a list")
        if k < 1:
            raise SuggestError(f"k must be at least 1, not {k}")
        passages = self.members[0].passages(texts, context)
        ranked = [member.rank(passages, k) for member in self.members]
        return [[group[row] for group in ranked] for row in range(len(passages))]

    def suggest(self, texts: Sequence[str], k: int = DEFAULT_K,
                context: Sequence[str | None] | None = None) -> list[list[Suggestion]]:
        """For each passage the `k` codes with the highest scores, whatever their group, best first."""
        merged = []
        for groups in self.suggest_grouped(texts, k, context):
            everything = [s for group in groups for s in group]
            merged.append(sorted(everything, key=lambda s: -s.score)[:k])
        return merged

    def record(self) -> dict:
        """What produced the suggestions: every group's suggester record."""
        return {"name": self.name, "embedder": {"model_id": self.embedder.model_id, "dim": self.embedder.dim},
                "groups": [{"parent": g.parent, "codes": list(g.codes), "suggester": m.record()}
                           for g, m in zip(self.groups, self.members)]}
