"""Themes: clustering coded segments, keywords and quotes, the cross-stakeholder score, revisions, the CLI.

Fake vectors (well-separated blobs) and the hashing embedder: no model, seconds in all.
"""
from __future__ import annotations

import io
import json

import numpy as np
import pytest

from coding.cli import main
from coding.suggest.features import ANALYZER
from coding.themes import (Agglomerative, CentralQuotes, NoLexical, Segment, ThemeError, ThemeSteps,
                           cross_stakeholder_score, find_themes, merge, move, relabel, split)
from coding.themes.evaluate import best_matches, scores
from coding.themes.features import stop_lemmas

TOPICS = [["Wohnung", "Miete", "Vermieter", "Schufa"], ["Kita", "Sprachkurs", "Warteliste", "Kinderbetreuung"],
          ["Jobcenter", "Anerkennung", "Arbeitsmarkt", "Abschluss"],
          ["Brandschutz", "Haftung", "Versicherung", "Ehrenamt"], ["Müll", "Lärm", "Nachbarschaft", "Spielplatz"],
          ["Förderung", "Projekt", "Stelle", "Verstetigung"], ["Monitoring", "Strategie", "Haushalt", "Leistung"],
          ["Beteiligung", "Brückenperson", "Mehrsprachigkeit", "Sitzung"]]
GROUPS = ["Kommune", "Verband", "MSO", "Wohnungswirtschaft"]


def blobs(sizes, dim=48, noise=0.5, seed=0):
    """Vectors around one random centre per cluster, and each row's cluster."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(sizes), dim))
    labels = np.repeat(np.arange(len(sizes)), sizes)
    return centres[labels] + noise * rng.normal(size=(len(labels), dim)), labels


SHARED = ["Stadt", "Jahr", "Landkreis", "Verwaltung", "Menschen", "Familien"]


def segments_for(labels, groups=GROUPS, seed=0):
    """A German sentence per row: its cluster's words in random order, stop words and a word every cluster uses."""
    rng = np.random.default_rng(seed)
    out = []
    for i, c in enumerate(labels):
        a, b, d, e = rng.permutation(TOPICS[c % len(TOPICS)])
        out.append(Segment(f"s{i}", f"Also die {a} und {b} ist bei uns in der {rng.choice(SHARED)} auch mit {d} "
                                    f"und {e} ein Thema, ähm, sagt Person {i}.", f"H{c}", groups[i % len(groups)],
                           f"I{i % 7}"))
    return out


def partition(run, segments):
    return [run.assignments[s.id] for s in segments]


# -- the engine -----------------------------------------------------------------------------------

def test_the_same_input_and_seed_give_the_same_run():
    vectors, labels = blobs([15, 20, 12], noise=1.5)
    segments = segments_for(labels)
    one, two = find_themes(segments, vectors, seed=3), find_themes(segments, vectors, seed=3)
    assert json.dumps(one.as_dict()) == json.dumps(two.as_dict())
    assert one.params["seed"] == 3 and [s.name for s in one.steps] == [
        "reduce.pca.v1", "lexical.lemma_lsa.v1", "cluster.agglomerative.v1", "label.ctfidf_lemmas.v2",
        "represent.central_groups.v1"]


@pytest.mark.parametrize("sizes", [[20, 25], [12, 30, 18], [15, 9, 22, 30, 12], [10, 14, 18, 22, 10, 16, 12, 20]])
def test_the_automatic_number_of_themes_recovers_well_separated_clusters(sizes):
    vectors, labels = blobs(sizes, seed=len(sizes))
    segments = segments_for(labels)
    run = find_themes(segments, vectors)
    assert len(run.themes) == len(sizes)
    assert scores([str(x) for x in labels], partition(run, segments))["ari"] == 1.0
    assert run.params["clustering"]["knee"] == len(sizes)


def test_large_selections_cluster_micro_clusters_with_the_same_result_on_clear_data():
    vectors, labels = blobs([60, 80, 50, 70], noise=0.5, seed=9)
    segments = segments_for(labels)
    steps = ThemeSteps(clusterer=Agglomerative(direct_limit=100, micro=40))
    run = find_themes(segments, vectors, steps=steps)
    assert run.params["clustering"]["path"] == "micro-clusters" and run.params["clustering"]["units"] <= 40
    assert scores([str(x) for x in labels], partition(run, segments))["ari"] == 1.0
    assert find_themes(segments, vectors, steps=steps).as_dict() == run.as_dict()


def test_a_number_of_themes_asked_for_is_honoured_and_finer_is_finer():
    vectors, labels = blobs([20, 25, 30], noise=1.0)
    segments = segments_for(labels)
    for k in (1, 2, 5, 9):
        assert len(find_themes(segments, vectors, n_themes=k).themes) == k
    auto = len(find_themes(segments, vectors).themes)
    assert len(find_themes(segments, vectors, n_themes="finer").themes) > auto
    assert len(find_themes(segments, vectors, n_themes="coarser").themes) < auto
    with pytest.raises(ThemeError, match="auto, finer or coarser"):
        find_themes(segments, vectors, n_themes="many")


def test_every_segment_lands_in_exactly_one_theme_even_outliers():
    vectors, labels = blobs([30, 30], noise=0.3)
    vectors = np.vstack([vectors, 20 * np.eye(48)[:2]])  # two passages unlike anything else
    segments = segments_for(list(labels) + [0, 1])
    run = find_themes(segments, vectors)
    members = [m for t in run.themes for m in t.members]
    assert sorted(members) == sorted(s.id for s in segments) and len(run.themes) == 2


@pytest.mark.parametrize("texts", [["Die Miete."], ["Die Miete.", "Die Miete."], ["Miete", "Kita", "Job"]])
def test_a_handful_of_segments_or_identical_ones_still_give_themes(texts):
    from coding.embed import HashingEmbedder

    segments = [Segment(f"s{i}", t, "H1", "Kommune") for i, t in enumerate(texts)]
    run = find_themes(segments, HashingEmbedder().embed(texts))
    assert sorted(run.assignments) == sorted(s.id for s in segments) and 1 <= len(run.themes) <= len(texts)
    assert len(split(run, run.themes[0].id).themes) == 2 if len(texts) > 1 else True


def test_keywords_come_from_the_themes_own_texts_and_hold_no_stop_words():
    vectors, labels = blobs([20, 20, 20], noise=0.5)
    segments = segments_for(labels)
    run = find_themes(segments, vectors)
    stop = stop_lemmas()
    by_id = {s.id: s for s in segments}
    for theme in run.themes:
        own = {lemma for s in theme.members for lemma in ANALYZER([by_id[s].text])[0].split()}
        topic = {w.lower() for w in TOPICS[int(by_id[theme.members[0]].code[1:])]}
        assert theme.keywords and all(k.lower() in own for k in theme.keywords)
        assert not any(k.lower() in stop for k in theme.keywords)  # no "die", "und", "ähm", "also"
        assert {k.lower() for k in theme.keywords[:4]} == topic  # the theme's own words lead
        assert theme.keywords[0][0].isupper()  # German nouns keep their capital
        # The title is the most central passage (shortened, its spoken opener dropped), which is also
        # the first quote.
        assert theme.label.rstrip(" …")[1:] in by_id[theme.representatives[0]].text


def test_representative_quotes_cover_several_stakeholder_groups():
    rng = np.random.default_rng(1)
    centre = rng.normal(size=32)
    # Ten municipal passages sit right at the centre, the other groups further out, and four more
    # municipal passages on the theme's fringe.
    vectors = np.vstack([centre + 0.05 * rng.normal(size=(10, 32)), centre + 0.3 * rng.normal(size=(6, 32)),
                         centre + 1.0 * rng.normal(size=(4, 32))])
    groups = ["Kommune"] * 10 + ["Verband", "MSO"] * 3 + ["Wohnungswirtschaft"] * 4
    segments = [Segment(f"s{i}", f"Die Miete und der Vermieter, Fall {i}.", "H1", g) for i, g in enumerate(groups)]
    steps = ThemeSteps(lexical=NoLexical(), representer=CentralQuotes(n=4))
    run = find_themes(segments, vectors, n_themes=1, steps=steps)
    quotes = run.themes[0].representatives
    assert len(quotes) == 4 and quotes[0] in {f"s{i}" for i in range(10)}  # the most central comes first
    groups = [segments[int(q[1:])].stakeholder for q in quotes]
    assert set(groups[:3]) == {"Kommune", "Verband", "MSO"} and groups[3] == "Kommune"  # never the fringe


def test_themes_voiced_by_many_groups_come_before_larger_one_group_themes():
    vectors, labels = blobs([12, 30], noise=0.4)
    segments = segments_for(labels)
    segments = [Segment(s.id, s.text, s.code, GROUPS[i % 4] if labels[i] == 0 else "Kommune", s.document)
                for i, s in enumerate(segments)]
    run = find_themes(segments, vectors)
    first, second = run.themes
    assert first.size == 12 and second.size == 30  # smaller, but every group raises it
    assert first.cross_stakeholder > 0.9 and second.cross_stakeholder < first.cross_stakeholder
    assert first.groups_reached == 4 and second.groups_reached == 1
    assert [t.id for t in run.themes] == ["T01", "T02"]


def test_the_cross_stakeholder_score_weighs_groups_by_their_size():
    run_segments = [Segment(f"k{i}", "x", None, "Kommune", f"K{i}") for i in range(15)] + \
                   [Segment(f"b{i}", "x", None, "Bund", f"B{i}") for i in range(2)]
    totals = {"Kommune": 15, "Bund": 2}
    # A theme raised by a third of the municipalities and half of the federal interviews ...
    even = run_segments[:5] + run_segments[15:16]
    assert cross_stakeholder_score(even, totals, "interviews") > 0.95
    # ... against one raised by municipalities only, and by one voice of each group.
    assert cross_stakeholder_score(run_segments[:8], totals, "interviews") == 0.0
    lopsided = run_segments[:1] + run_segments[15:17]
    assert 0 < cross_stakeholder_score(lopsided, totals, "interviews") < 0.5
    # One long interview counts once.
    chatty = [Segment(f"x{i}", "x", None, "Kommune", "K0") for i in range(20)] + run_segments[15:16]
    assert cross_stakeholder_score(chatty, totals, "interviews") > 0.4


def test_the_matrix_counts_each_theme_per_group_and_its_cells_hold_the_segments():
    vectors, labels = blobs([10, 14], noise=0.4)
    segments = [Segment(s.id, s.text, s.code, "Kommune" if i < 9 else s.stakeholder, s.document)
                for i, s in enumerate(segments_for(labels))]
    run = find_themes(segments, vectors)
    matrix = run.matrix()
    assert matrix.groups == ["Kommune", "MSO", "Verband", "Wohnungswirtschaft"]  # most segments first, then name
    assert matrix.counts.sum() == len(segments)
    for i, theme in enumerate(run.themes):
        for j, group in enumerate(matrix.groups):
            cell = matrix.cells.get((theme.id, group), [])
            assert len(cell) == matrix.counts[i, j] == theme.stakeholders.get(group, 0)


# -- revisions ------------------------------------------------------------------------------------

def test_merge_joins_themes_under_the_first_id_and_leaves_the_old_run_alone():
    vectors, labels = blobs([12, 14, 16], noise=0.4)
    segments = segments_for(labels)
    run = find_themes(segments, vectors)
    before = json.dumps(run.as_dict())
    a, b, c = (t.id for t in run.themes)
    merged = merge(run, [b, c])
    assert json.dumps(run.as_dict()) == before
    assert sorted(t.id for t in merged.themes) == sorted([a, b])
    assert set(merged.theme(b).members) == set(run.theme(b).members) | set(run.theme(c).members)
    assert merged.history[-1] == {"op": "merge", "themes": [b, c], "into": [b]}
    with pytest.raises(ThemeError, match="no theme 'T99'"):
        merge(run, [a, "T99"])


def test_split_recovers_the_two_groups_inside_a_theme_with_new_ids():
    vectors, labels = blobs([15, 15, 20], noise=0.4, seed=4)
    segments = segments_for(labels)
    run = find_themes(segments, vectors)
    joined = merge(run, [run.themes[0].id, run.themes[1].id])
    target = joined.themes[-1].id if joined.themes[-1].size == 30 else joined.themes[0].id
    parts = split(joined, target)
    assert len(parts.themes) == 3 and target not in {t.id for t in parts.themes}
    new = parts.history[-1]["into"]
    assert len(new) == 2 and not set(new) & {t.id for t in run.themes}  # ids are never reused
    assert scores([str(x) for x in labels], partition(parts, segments))["ari"] == 1.0
    assert split(joined, target) .as_dict() == parts.as_dict()  # deterministic
    assert len(split(joined, target, n=3).themes) == 4


def test_move_and_relabel_follow_the_members():
    vectors, labels = blobs([12, 12], noise=0.4)
    segments = segments_for(labels)
    run = find_themes(segments, vectors)
    source, target = run.themes
    moved = move(run, source.members, target.id)
    assert [t.id for t in moved.themes] == [target.id] and moved.theme(target.id).size == 24
    assert relabel(moved).as_dict()["themes"] == moved.as_dict()["themes"]


def test_a_stored_runs_steps_can_be_rebuilt():
    steps = ThemeSteps(lexical=NoLexical())
    vectors, labels = blobs([10, 10])
    run = find_themes(segments_for(labels), vectors, steps=steps)
    rebuilt = ThemeSteps.from_records(run.steps)
    assert [s.as_dict() for s in rebuilt.records()] == [s.as_dict() for s in run.steps]


def test_best_matches_give_precision_and_recall_per_gold_label():
    match = best_matches(["a", "a", "a", "b", "b"], ["x", "x", "y", "y", "y"])
    assert match["a"]["theme"] == "x" and match["a"]["precision"] == 1.0
    assert match["a"]["recall"] == pytest.approx(2 / 3)
    assert match["b"] == {"theme": "y", "precision": pytest.approx(2 / 3), "recall": 1.0, "f1": pytest.approx(0.8)}


# -- the command line -----------------------------------------------------------------------------

def coded_lines(n_per_topic=8, topics=3):
    lines = []
    for c in range(topics):
        for j in range(n_per_topic):
            words = TOPICS[c]
            text = f"{words[j % 4]} {words[(j + 1) % 4]} {words[(j + 2) % 4]}"
            lines.append(json.dumps({"id": f"{c}-{j}", "text": text, "code": f"H{c}", "stakeholder": GROUPS[j % 3],
                                     "document": f"I{j % 5}"}, ensure_ascii=False))
    return lines


def run_themes(capsys, monkeypatch, lines, *args):
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    code = main(["themes", "--embedder", "hashing", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_themes_contract(capsys, monkeypatch):
    lines = coded_lines()
    code, out, err = run_themes(capsys, monkeypatch, lines)
    assert code == 0, err
    result = json.loads(out)
    assert list(result)[:2] == ["themes", "assignments"]
    ids = [json.loads(line)["id"] for line in lines]
    assert list(result["assignments"]) == ids  # every input id, in input order
    theme_ids = [t["id"] for t in result["themes"]]
    assert len(set(theme_ids)) == len(theme_ids) and set(result["assignments"].values()) == set(theme_ids)
    for theme in result["themes"]:
        assert list(theme)[:7] == ["id", "label", "keywords", "codes", "stakeholders", "members", "representatives"]
        assert theme["members"] == [i for i in ids if result["assignments"][i] == theme["id"]]
        assert set(theme["representatives"]) <= set(theme["members"])
        assert sum(theme["codes"].values()) == sum(theme["stakeholders"].values()) == len(theme["members"])
    assert result["run"]["params"]["embedder"] == "hashing-v1-256"
    code, out, _ = run_themes(capsys, monkeypatch, lines, "--n-themes", "5")
    assert code == 0 and len(json.loads(out)["themes"]) == 5


def test_cli_themes_with_no_input_gives_no_themes(capsys, monkeypatch):
    code, out, _ = run_themes(capsys, monkeypatch, [])
    assert code == 0 and json.loads(out)["themes"] == [] and json.loads(out)["assignments"] == {}


@pytest.mark.parametrize("bad, message", [
    ('{"id": "x", "text": "kaputt"', "line 2: not valid JSON"),
    ('{"id": "x", "text": "Miete", "code": "H1"}', "line 2: the field 'stakeholder' is missing"),
    ('{"id": "x", "text": "Miete", "code": 1, "stakeholder": "MSO"}', "line 2: the field 'code' must be a string"),
    ('{"id": "a", "text": "Miete", "code": "H1", "stakeholder": "MSO"}',
     "line 2: the id 'a' was already used on line 1"),
    ('{"id": "x", "text": "  ", "code": "H1", "stakeholder": "MSO"}', "line 2: the text is empty"),
])
def test_cli_themes_names_the_bad_line_and_writes_nothing(capsys, monkeypatch, bad, message):
    lines = ['{"id": "a", "text": "Die Miete.", "code": "H1", "stakeholder": "Kommune"}', bad]
    code, out, err = run_themes(capsys, monkeypatch, lines)
    assert code == 1 and out == ""
    assert err.startswith("codewerk: error: <stdin>:") and message in err and "Traceback" not in err


def test_cli_themes_refuses_a_bad_number_of_themes(capsys, monkeypatch):
    code, out, err = run_themes(capsys, monkeypatch, coded_lines(), "--n-themes", "zero")
    assert code == 1 and out == "" and "--n-themes" in err


def test_cli_eval_themes_prints_ari_and_nmi_per_group(capsys, tmp_path):
    data = tmp_path / "gold.csv"
    rows = ["id,title,text,area,level2_a,level2_b,level2_c"]
    for i in range(36):
        c = i % 3
        words = TOPICS[c]
        one_hot = ",".join("1" if j == c else "0" for j in range(3))
        rows.append(f"r{i},{words[i % 4]},{words[(i + 1) % 4]} {words[(i + 2) % 4]},{'AB'[i % 2]},{one_hot}")
    rows.append("r99,Titel,ohne Kategorie,A,0,0,0")  # no label: left out and counted
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code = main(["eval", "themes", "--data", str(data), "--label", "level2_*", "--group-by", "area",
                 "--text", "title,text", "--embedder", "hashing", "--n-themes", "3", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    report = json.loads(out)
    assert report["passages"] == 36 and report["skipped"] == 1
    assert list(report["groups"]) == ["A", "B", "(all)"]
    whole = report["groups"]["(all)"]
    assert whole["gold_labels"] == 3 and whole["engine"]["ari"] == 1.0 and whole["engine"]["nmi"] == 1.0
    code = main(["eval", "themes", "--data", str(data), "--label", "level2_*", "--embedder", "hashing"])
    out, _ = capsys.readouterr()
    assert code == 0 and "ARI" in out and "NMI" in out and "baseline" in out and "(all)" in out


def test_cli_eval_themes_names_a_missing_field(capsys, tmp_path):
    data = tmp_path / "gold.jsonl"
    data.write_text('{"text": "Miete", "code": "H1"}\n', encoding="utf-8")
    code = main(["eval", "themes", "--data", str(data), "--label", "challenge", "--embedder", "hashing"])
    _, err = capsys.readouterr()
    assert code == 1 and "gold.jsonl: has no field 'challenge'" in err


def test_a_draft_title_drops_the_spoken_openers_of_its_passage():
    from coding.themes import CTfidfLabeller

    title = CTfidfLabeller().title
    texts = ["Aber die Vorbereitungsklasse ist voll.", "Und dann, Stichwort Projektende: Im Herbst ist Schluss.",
             "Da haben wir klassisch eine Lücke.", "Ehrlich gesagt, ähm, das Jobcenter sieht die Leute nicht.",
             "Also."]
    assert [title(texts, [i]) for i in range(len(texts))] == [
        "Die Vorbereitungsklasse ist voll.", "Projektende: Im Herbst ist Schluss.",
        "Da haben wir klassisch eine Lücke.", "Das Jobcenter sieht die Leute nicht.", "Also."]
