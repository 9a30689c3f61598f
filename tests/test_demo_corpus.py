"""The study material Codewerk ships: 30 fictitious expert interviews, their gold coding and the codebook."""
from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict

import pytest

from coding import load_codebook
from coding.demo import DEMO_CODEBOOK, DEMO_CODED, DEMO_CORPUS, DEMO_USER, ensure_demo_project
from coding.store import Project

THEMATIC = [f"H{i}" for i in range(1, 13)]
FACETS = ["A1", "A2", "A3"]
GROUPS = {"Kommune": 15, "Bundesministerium": 2, "Landesministerium": 3, "Verband": 3,
          "Wohnungswirtschaft": 3, "MSO": 2, "Wissenschaft": 2}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    assert ensure_demo_project(path)
    with Project(path) as project:
        yield project


@pytest.fixture(scope="module")
def gold():
    return [json.loads(line) for line in (DEMO_CORPUS / "coding.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]


def test_thirty_interviews_in_the_study_design(demo):
    documents = demo.documents()
    assert len(documents) == 30
    groups = Counter(d["attributes"]["Stakeholdergruppe"] for d in documents)
    assert groups == GROUPS
    sizes = Counter(d["attributes"].get("Ortsgröße") for d in documents if d["name"].startswith("K"))
    assert sizes == {"Großstadt": 5, "Mittelstadt": 5, "Kleinstadt": 5}
    assert {d["attributes"]["Ebene"] for d in documents if d["name"].startswith("N")} == {"national"}
    formats = Counter(d["format"] for d in documents)
    assert formats["docx"] > 15 and formats["txt"] >= 3 and formats["vtt"] >= 3
    assert all(1500 <= d["word_count"] <= 3000 for d in documents), [(d["name"], d["word_count"]) for d in documents]


def test_every_interview_has_an_interviewer_and_one_respondent(demo):
    for d in demo.documents():
        roles = {(t["speaker"], t["role"]) for t in demo.turns(d["id"])}
        assert {r for _, r in roles} == {"interviewer", "respondent"}, (d["name"], roles)
        assert len(roles) == 2, (d["name"], roles)


def test_the_codebook_validates_and_every_code_is_fully_described():
    codebook = load_codebook(DEMO_CODEBOOK)
    ids = [c.id for c in codebook.codes]
    assert set(THEMATIC + FACETS) <= set(ids)
    for code in codebook.codes:
        if not code.codable:
            continue
        assert len(code.definition.split(". ")) >= 3, code.id
        assert len(code.anchors) >= 2 and code.include and code.exclude, code.id
    colours = [c.color for c in codebook.codes if c.id in THEMATIC]
    assert len(set(colours)) == 12


def test_every_anchor_and_gold_quote_is_found_verbatim_exactly_once(demo, gold):
    texts = {d["name"]: demo.document(d["id"])["text"] for d in demo.documents()}
    for record in gold:
        assert texts[record["interview"]].count(record["quote"]) == 1, record
    for code in load_codebook(DEMO_CODEBOOK).codes:
        for anchor in code.anchors:
            hits = [name for name, text in texts.items() for _ in range(text.count(anchor))]
            assert len(hits) == 1, (code.id, anchor[:60], hits)


def test_the_gold_coding_is_large_and_spread_across_groups(gold):
    assert len(gold) >= 600
    group = {row["Interview"]: row["Stakeholdergruppe"]
             for row in csv.DictReader((DEMO_CORPUS / "metadata.csv").open(encoding="utf-8"))}
    per_code = Counter(r["code"] for r in gold)
    groups_per_code = defaultdict(set)
    for r in gold:
        groups_per_code[r["code"]].add(group[r["interview"]])
    for code in THEMATIC:
        assert per_code[code] >= 30 and len(groups_per_code[code]) >= 3, code
    assert {r["facet"] for r in gold} == set(FACETS)
    assert {r["interview"] for r in gold} == set(group)


def test_the_demo_project_opens_in_progress_with_half_the_gold_coding(demo, gold):
    codings = demo.codings()
    expected = len({(r["interview"], r["quote"], code) for r in gold if r["interview"] in DEMO_CODED
                    for code in (r["code"], r.get("facet")) if code})
    assert len(codings) == expected and {c["coder"] for c in codings} == {DEMO_USER}
    coded_documents = {c["document_id"] for c in codings}
    assert len(coded_documents) == len(DEMO_CODED) < 30
    by_id = {d["id"]: demo.document(d["id"])["text"] for d in demo.documents()}
    assert all(by_id[c["document_id"]][c["start"]:c["end"]] == c["quote"] for c in codings)
