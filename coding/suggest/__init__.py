"""Code suggestions: rank a codebook's codes for a selected passage, with a calibrated score and a reason.

`Suggester(codebook, embedder).fit(coded_examples).suggest(texts, k=3)`; see model.py.
`GroupedSuggester` (groups.py) runs one Suggester per group of alternative codes. Every step is
recorded by its versioned name and parameters (`Suggester.record()`).
"""
from coding.suggest.base import Example, Passages, Reason, Step, Suggestion, SuggestError
from coding.suggest.calibrate import (Calibrator, IsotonicCalibration, NoCalibration, PlattCalibration,
                                      calibrator_for, reliability)
from coding.suggest.codebook_prior import CodebookPrior, code_profiles
from coding.suggest.features import LemmaAnalyzer, LemmaClassifier
from coding.suggest.groups import CodeGroup, GroupedSuggester, code_groups
from coding.suggest.learners import EmbeddingClassifier, Neighbours
from coding.suggest.model import DEFAULT_K, Suggester, default_steps
from coding.suggest.pool import LogLinearPool

__all__ = ["Calibrator", "CodeGroup", "CodebookPrior", "DEFAULT_K", "EmbeddingClassifier", "Example", "GroupedSuggester",
           "IsotonicCalibration",
           "LemmaAnalyzer", "LemmaClassifier", "LogLinearPool", "Neighbours", "NoCalibration", "Passages",
           "PlattCalibration", "Reason", "Step", "SuggestError", "Suggester", "Suggestion", "calibrator_for",
           "code_groups", "code_profiles", "default_steps", "reliability"]
