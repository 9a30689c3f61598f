"""Calibration on held-out folds of real data: a score of 0.8 means about 80% of such suggestions are right.

Uses the coded citizen contributions in ../shared (skipped, with the reason, where they are absent)
and the hashing embedder, so it needs no model: the calibration has to hold whatever the embedder, and
for suggestions fused from two models (a project's tuned model and the base model) as for one.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coding.codebook import load_codebook
from coding.embed import HashingEmbedder
from coding.suggest import Suggester
from coding.suggest.fuse import FusedSuggester
from coding.suggest.data import load_labelled
from coding.suggest.evaluate import (OutOfFold, calibration_table, cross_validate, examples_of, metrics, stratified_folds,
                                     stratified_subsample)

ROOT = Path(__file__).resolve().parents[1]
CYCLING = ROOT.parent / "shared" / "benchmarks" / "cycling_dialogues" / "dataset.csv"
CODEBOOK = ROOT / "bench" / "cycling_codebook.yaml"


SUGGESTERS = {"one model": lambda codebook: Suggester(codebook, HashingEmbedder()),
              "two models fused": lambda codebook: FusedSuggester(codebook, HashingEmbedder(384), HashingEmbedder())}


@pytest.fixture(scope="module", params=list(SUGGESTERS))
def held_out(request):
    if not CYCLING.exists():
        pytest.skip(f"the cycling dialogues are not at {CYCLING} (../shared is absent)")
    items = load_labelled(CYCLING, label="main_category_level1")
    rows = stratified_subsample(items, np.arange(len(items)), 700, seed=0)
    items = [items[i] for i in rows]
    codebook, make = load_codebook(CODEBOOK), SUGGESTERS[request.param]
    result = cross_validate(items, stratified_folds(items, 3, seed=0),
                            lambda train, test: make(codebook).fit(examples_of(train)))
    # The same held-out pooled scores before calibration: the ranking must not change.
    return result, OutOfFold(result.codes, result.items, result.raw, result.raw)


@pytest.mark.slow
def test_calibrated_scores_match_how_often_suggestions_are_right_on_held_out_folds(held_out):
    calibrated, raw = held_out
    table, ece = calibration_table(calibrated, k=3)
    assert ece <= 0.05, table
    for row in table:  # every well-filled bin: the mean score is close to the share that was right,
        if row.count >= 50:  # within 0.05 plus what 2.5 standard errors of sampling allow
            noise = 2.5 * np.sqrt(row.mean_score * (1 - row.mean_score) / row.count)
            assert abs(row.mean_score - row.share_correct) <= 0.05 + noise, row
    # Calibration renames the numbers, it does not reorder the codes: accuracy stays.
    assert metrics(calibrated)["accuracy"] == pytest.approx(metrics(raw)["accuracy"], abs=0.01)
