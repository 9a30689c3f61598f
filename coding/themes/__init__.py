"""Themes: coded segments clustered into challenges that cut across stakeholder groups, labelled for review.

`find_themes(segments, vectors)` returns a `ThemeRun` (themes, assignments, the theme x
stakeholder-group matrix, the steps with their parameters); `split`, `merge`, `move` and `relabel`
revise a run without changing it. See engine.py for the pipeline and its steps.
"""
from coding.themes.cluster import AUTO, COARSER, FINER, Agglomerative, Clusterer, Clustering
from coding.themes.engine import ThemeSteps, describe, features_of, find_themes, merge, move, relabel, split
from coding.themes.features import LemmaLSA, Lexical, NoLexical, NoReduction, PCAReduction, Reduction
from coding.themes.labels import CentralQuotes, CTfidfLabeller, Labeller, Representer
from coding.themes.model import Segment, StepRecord, Theme, ThemeError, ThemeMatrix, ThemeRun
from coding.themes.stakeholders import cross_stakeholder_score

__all__ = ["AUTO", "Agglomerative", "COARSER", "CTfidfLabeller", "CentralQuotes", "Clusterer", "Clustering", "FINER",
           "Labeller", "LemmaLSA", "Lexical", "NoLexical", "NoReduction", "PCAReduction", "Reduction", "Representer",
           "Segment", "StepRecord", "Theme", "ThemeError", "ThemeMatrix", "ThemeRun", "ThemeSteps",
           "cross_stakeholder_score", "describe", "features_of", "find_themes", "merge", "move", "relabel", "split"]
