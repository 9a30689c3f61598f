"""Speaker turns -> segments, the units that suggestions and themes work on.

A turn of up to about 120 words is one segment; a longer turn is cut between sentences into groups
of at most about 120 words, balanced so that no tiny remainder is left at the end. Sentences come
from spaCy's blank German tokenizer with its rule-based sentencizer (no model download).
"""
from __future__ import annotations

import math
from functools import lru_cache

from coding.transcripts.model import Segment, Transcript, Turn

MAX_WORDS = 120


@lru_cache(maxsize=1)
def _nlp():
    import spacy  # imported on first use: it takes a second

    nlp = spacy.blank("de")
    nlp.add_pipe("sentencizer")
    return nlp


def split_segments(transcript: Transcript, max_words: int = MAX_WORDS) -> list[Segment]:
    """Segments of every turn, with exact offsets into `transcript.text`."""
    text = transcript.text
    long_turns = [(i, t) for i, t in enumerate(transcript.turns) if len(text[t.start:t.end].split()) > max_words]
    docs = dict(zip((i for i, _ in long_turns),
                    _nlp().pipe((text[t.start:t.end] for _, t in long_turns), batch_size=64)))
    segments: list[Segment] = []
    for i, turn in enumerate(transcript.turns):
        if i in docs:
            segments.extend(_sentence_groups(i, turn, docs[i], max_words))
        else:
            segments.append(Segment(i, turn.start, turn.end))
    return segments


def _sentence_groups(index: int, turn: Turn, doc, max_words: int) -> list[Segment]:
    content = doc.text
    # spaCy hangs punctuation after a full stop on the sentence before ("Wohnung. (" | "lacht)"); a
    # boundary must fall on white space, so move such a boundary back to the space before it.
    starts = []
    for sentence in doc.sents:
        start = sentence.start_char
        while 0 < start and not content[start - 1].isspace() and (not starts or start > starts[-1]):
            start -= 1
        if not starts or start > starts[-1]:
            starts.append(start)
    bounds = starts[1:] + [len(content)]
    sentences = [(a, b, len(content[a:b].split())) for a, b in zip(starts, bounds) if content[a:b].strip()]
    groups = _balanced_groups(sentences, max_words)
    if not groups:
        return [Segment(index, turn.start, turn.end)]
    result = []
    for group in groups:
        start, end = group[0][0], group[-1][1]
        while start < end and content[start].isspace():
            start += 1
        while end > start and content[end - 1].isspace():
            end -= 1
        result.append(Segment(index, turn.start + start, turn.start + end))
    return result


def _balanced_groups(sentences: list[tuple[int, int, int]], max_words: int) -> list[list[tuple[int, int, int]]]:
    """Consecutive sentences in n groups of about equal word count, n as small as the limit allows.

    Each sentence goes to the group its middle word falls into; if a group still exceeds the limit
    (long sentences), one more group is tried. A single sentence longer than the limit stays whole.
    """
    total = sum(words for _, _, words in sentences)
    if total == 0:
        return [sentences] if sentences else []
    n = max(1, math.ceil(total / max_words))
    while True:
        target = total / n
        groups: list[list[tuple[int, int, int]]] = [[] for _ in range(n)]
        before = 0
        for sentence in sentences:
            groups[min(n - 1, int((before + sentence[2] / 2) / target))].append(sentence)
            before += sentence[2]
        groups = [g for g in groups if g]
        too_big = any(len(g) > 1 and sum(w for _, _, w in g) > max_words for g in groups)
        if not too_big or n >= len(sentences):
            return groups
        n += 1
