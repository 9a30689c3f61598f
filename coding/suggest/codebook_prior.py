"""Suggestions from the codebook alone: names, definitions, inclusion rules, anchor examples.

This is what a team gets on day one, before anybody has coded anything. Every code is described by
pieces of evidence, each embedded once:
- its name with its definition ("definition"),
- each clause of its inclusion rule ("include"),
- each anchor example ("anchor"),
- clauses of *other* codes' exclusion rules that send a passage here ("Wohnungen, die als
  Quartiersbüro dienen: H8" is evidence for H8).
A passage's similarity to a code is, per kind of evidence, the best match; the kinds are compared
across codes as z-scores and added with weights, together with a lexical match over lemmas.
A passage that matches a code's own exclusion clause better than anything that speaks for the code
is pushed down.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from coding.codebook import Codebook
from coding.embed.base import Embedder
from coding.suggest.base import Passages, Reason, softmax
from coding.suggest.features import ANALYZER
from coding.suggest.learners import zscores

KINDS = ("definition", "include", "anchor", "pointer")
_CLAUSE = re.compile(r"(?<=[.;!?])\s+(?=[A-ZÄÖÜ„\"(])|;\s*")


@dataclass
class CodeProfile:
    """The codebook's evidence for one code, as texts by kind."""

    code: str
    name: str
    definition: str
    includes: list[str] = field(default_factory=list)
    anchors: list[str] = field(default_factory=list)
    pointers: list[str] = field(default_factory=list)  # other codes' exclusion clauses naming this code
    excludes: list[str] = field(default_factory=list)  # own exclusion clauses

    def evidence(self) -> list[tuple[str, str]]:
        described = f"{self.name}: {self.definition}" if self.definition else self.name
        return ([("definition", described)] + [("include", t) for t in self.includes]
                + [("anchor", t) for t in self.anchors] + [("pointer", t) for t in self.pointers])

    def document(self) -> str:
        """All the code's positive text in one, for the lexical match."""
        return " ".join([self.name, self.definition, *self.includes, *self.anchors, *self.pointers])


def clauses(rule: str) -> list[str]:
    """A coding rule cut into its sentences and semicolon-separated parts (at least 3 words each)."""
    parts = [p.strip(" .;") for p in _CLAUSE.split(rule or "")]
    return [p for p in parts if len(p.split()) >= 3]


def code_profiles(codebook: Codebook, codes: list[str]) -> list[CodeProfile]:
    """One profile per suggestible code; exclusion clauses that name another code point to it."""
    profiles = {c: CodeProfile(c, codebook.code(c).name, codebook.code(c).definition) for c in codes}
    ids = sorted((code.id for code in codebook.codes), key=len, reverse=True)
    naming = re.compile(r"(?<![\w-])(" + "|".join(re.escape(i) for i in ids) + r")(?![\w-])") if ids else None
    for code_id, profile in profiles.items():
        code = codebook.code(code_id)
        profile.includes = clauses(code.include)
        profile.anchors = [a for a in code.anchors if a.strip()]
        for clause in clauses(code.exclude):
            profile.excludes.append(clause)
            named = set(naming.findall(clause)) if naming else set()
            text = naming.sub("", clause).strip(" :,.()–-") if naming else clause
            for other in named - {code_id}:
                if other in profiles and len(text.split()) >= 3:
                    profiles[other].pointers.append(text)
    return [profiles[c] for c in codes]


class CodebookPrior:
    """Zero-shot code scores from the codebook: embedding matches per kind of evidence, plus lemmas."""

    name = "suggest.codebook_prior.v1"

    def __init__(self, codebook: Codebook, embedder: Embedder, codes: list[str], *,
                 weights: dict[str, float] | None = None, lexical: float = 0.5, exclude: float = 1.0,
                 sharpness: float = 1.0, context_weight: float = 0.3) -> None:
        self.codebook, self.embedder, self.codes = codebook, embedder, list(codes)
        self.weights = {"definition": 1.0, "include": 0.5, "anchor": 1.0, "pointer": 0.25, **(weights or {})}
        self.lexical, self.exclude, self.sharpness, self.context_weight = lexical, exclude, sharpness, context_weight
        self.profiles = code_profiles(codebook, self.codes)
        self._evidence: list[tuple[int, str, str]] = []  # (code position, kind, text)
        self._vectors: np.ndarray | None = None
        self._exclusions: list[tuple[int, str]] = []
        self._exclusion_vectors: np.ndarray | None = None
        self._lexicon = None
        self._documents = None

    def params(self) -> dict:
        return {"weights": self.weights, "lexical": self.lexical, "exclude": self.exclude,
                "sharpness": self.sharpness, "context_weight": self.context_weight,
                "evidence": {kind: sum(1 for _, k, _ in self._prepared() if k == kind) for kind in KINDS}}

    def _prepared(self) -> list[tuple[int, str, str]]:
        """Embed the codebook's evidence once (the first time it is needed)."""
        if self._vectors is None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            self._evidence = [(i, kind, text) for i, p in enumerate(self.profiles) for kind, text in p.evidence()]
            self._exclusions = [(i, text) for i, p in enumerate(self.profiles) for text in p.excludes]
            texts = [text for _, _, text in self._evidence] + [text for _, text in self._exclusions]
            vectors = self.embedder.embed(texts) if texts else np.zeros((0, self.embedder.dim), np.float32)
            self._vectors = vectors[:len(self._evidence)]
            self._exclusion_vectors = vectors[len(self._evidence):]
            self._lexicon = TfidfVectorizer(analyzer="word", token_pattern=r"\S+", sublinear_tf=True,
                                            lowercase=False)
            self._documents = self._lexicon.fit_transform(ANALYZER([p.document() for p in self.profiles]))
        return self._evidence

    def fit(self, passages: Passages, labels: np.ndarray, codes: list[str]) -> CodebookPrior:
        """Nothing to learn: the codebook is all this step knows (coded examples go to other steps)."""
        self._prepared()
        return self

    def matches(self, passages: Passages) -> dict[str, np.ndarray]:
        """Per kind of evidence, each passage's best similarity to each code (NaN: no such evidence)."""
        evidence = self._prepared()
        vectors = passages.mixed(self.context_weight)
        sims = vectors @ self._vectors.T if len(evidence) else np.zeros((len(passages), 0))
        out = {}
        for kind in KINDS:
            table = np.full((len(passages), len(self.codes)), np.nan)
            for j, (i, k, _) in enumerate(evidence):
                if k == kind:
                    table[:, i] = np.fmax(table[:, i], sims[:, j])
            out[kind] = table
        excluded = np.full((len(passages), len(self.codes)), np.nan)
        if self._exclusions:
            esims = vectors @ self._exclusion_vectors.T
            for j, (i, _) in enumerate(self._exclusions):
                excluded[:, i] = np.fmax(excluded[:, i], esims[:, j])
        out["exclude"] = excluded
        words = self._lexicon.transform(passages.lemmas)
        out["lexical"] = np.asarray((words @ self._documents.T).todense())
        return out

    def logits(self, passages: Passages) -> np.ndarray:
        found = self.matches(passages)
        total = np.zeros((len(passages), len(self.codes)))
        for kind in KINDS:
            table = found[kind]
            if np.all(np.isnan(table)) or not self.weights.get(kind):
                continue
            # A code without this kind of evidence counts as average for it, not as a mismatch.
            z = zscores(np.where(np.isnan(table), np.nanmean(table, axis=1, keepdims=True), table))
            total += self.weights[kind] * z
        if self.lexical:
            total += self.lexical * zscores(found["lexical"])
        if self.exclude and not np.all(np.isnan(found["exclude"])):
            support = np.fmax(found["definition"], np.fmax(found["include"], found["anchor"]))
            spread = np.nanstd(support, axis=1, keepdims=True)
            over = np.nan_to_num(found["exclude"] - support, nan=0.0).clip(min=0)
            total -= self.exclude * over / np.where(spread < 1e-9, 1, spread)
        return total

    def scores(self, passages: Passages) -> np.ndarray:
        return softmax(self.sharpness * self.logits(passages) / max(sum(self.weights.values()) ** 0.5, 1e-9))

    def reasons(self, passages: Passages, row: int, code_positions: list[int]) -> list[Reason]:
        """For one passage: the anchor example or definition of each given code that it matches best."""
        evidence = self._prepared()
        vector = passages.mixed(self.context_weight)[row]
        sims = self._vectors @ vector if len(evidence) else np.zeros(0)
        out = []
        for position in code_positions:
            best = None
            for j, (i, kind, text) in enumerate(evidence):
                if i == position and kind in ("definition", "anchor") and (best is None or sims[j] > best[0]):
                    best = (float(sims[j]), kind, text)
            if best is None:
                best = (0.0, "definition", self.profiles[position].name)
            out.append(Reason(best[1], best[2], best[0]))
        return out
