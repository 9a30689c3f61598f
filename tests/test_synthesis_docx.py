"""The Word synthesis of a theme run, read back with python-docx: what a team lead sees when opening it.

A small project (five interviews in four stakeholder groups, three topics, two coders) is clustered
with the hashing embedder; a lead renames, describes and accepts one theme and discards another.
"""
from __future__ import annotations

import io
import re
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from docx import Document
from docx.oxml.ns import qn
from PIL import Image

from coding.codebook import Code, Codebook
from coding.embed.registry import get_embedder
from coding.errors import CodewerkError, ExportError
from coding.export.chart import BAR_COLOUR, PAD, ROW, stakeholder_chart
from coding.export.synthesis import default_theme_run, write_synthesis
from coding.export.wording import Wording
from coding.importing import import_paths
from coding.store import Project
from coding.themes.from_project import start_run
from coding.themes.model import ThemeError
from coding.timefmt import clock
from tests.test_theme_store import TOPICS  # the same three challenges, in the words of each interview

# name: (stakeholder group, level, whether the transcript carries timestamps, how the person opens answers)
INTERVIEWS = {"K01": ("Kommune", "kommunal", True, "Also"), "K02": ("Kommune", "kommunal", False, "Ehrlich gesagt"),
              "V01": ("Verband", "national", True, "Na ja"), "M01": ("MSO", "national", False, "Wissen Sie"),
              "W01": ("Wissenschaft", "national", True, "Nun")}
CODES = [Code(id="H1", name="Wohnen", definition="Zugang zu Wohnraum. Mieten und Vermieter.",
              anchors=["Die Schufa hat keiner."], include="Wohnungssuche", exclude="Nachbarschaft: H9"),
         Code(id="H2", name="Kinderbetreuung", definition="Kita und Schule, z. B. Wartelisten. Auch Sprachkurse."),
         Code(id="H3", name="Förderung", definition="Geld und Projektlaufzeiten."),
         Code(id="A", name="Art der Aussage", codable=False),
         Code(id="A1", name="Herausforderung", parent="A", definition="Ein Problem wird benannt.")]
LEAD_LABEL = "Wohnen <w:b/> & „Schufa“"
LEAD_TEXT = "Die Kommunen erleben den Wohnungsmarkt als verschlossen.\n\nZweiter Absatz <script>."
# A description pasted from elsewhere may carry control characters; Word files cannot hold them.
PASTED_TEXT = "Kurz\x07 gesagt:\x0b <b>Förderung</b> endet zu früh."


def interview_text(name: str) -> str:
    """Every topic sentence once as an answer; some interviews carry f4 timestamps at each turn's end."""
    _, _, stamped, opener = INTERVIEWS[name]
    lines, second = [f"Interview {name}", ""], 5
    for sentences in TOPICS.values():
        for sentence in sentences:
            for turn in ("I: Und weiter?", f"B: {opener}: {sentence}"):
                second += 37
                stamp = f" #00:{second // 60:02d}:{second % 60:02d}-0#" if stamped else ""
                lines += [turn + stamp, ""]
    return "\n".join(lines)


def make_project(folder: Path, *, attributes: bool = True) -> Path:
    """The project described above (without group and level attributes when `attributes` is False)."""
    path = folder / "studie.db"
    with Project.create(path) as project:
        project.ensure_user("setup", display_name="Sam Setup")
        project.ensure_user("zweite", display_name="Zoe Zweite")
        project.ensure_user("lead", role="lead", display_name="Lea Lead")
        for name, (group, level, _, _) in INTERVIEWS.items():
            (folder / f"{name}.txt").write_text(interview_text(name), encoding="utf-8")
            values = {"Interview": name, "Stakeholdergruppe": group, "Ebene": level} if attributes else {}
            import_paths(project, [folder / f"{name}.txt"], user="setup", attributes=values)
        project.save_codebook(Codebook(codes=CODES), "setup")
        for name, (_, _, _, opener) in INTERVIEWS.items():
            document = project.document(name)
            for code, sentences in TOPICS.items():
                for sentence in sentences:
                    answer = f"{opener}: {sentence}"
                    start = document["text"].index(answer)
                    memo = "Grenzfall zu H1" if (name, sentence) == ("K02", TOPICS["H3"][0]) else ""
                    project.add_coding(document["id"], start, start + len(answer), code, "setup", memo=memo)
                    if code == "H1":
                        project.add_coding(document["id"], start, start + len(answer), "A1", "setup")
                    if code == "H2" and name == "K01":
                        project.add_coding(document["id"], start, start + len(answer), code, "zweite")
    return path


def reviewed_run(project: Project) -> int:
    """A run of four themes: the first renamed, described and accepted, the second discarded, the third
    described with pasted text."""
    run_id = start_run(project, get_embedder("hashing"), "lead", name="Alle Themen", codes=["H1", "H2", "H3"],
                       n_themes=4, seed=1)
    first, second, third = [t["id"] for t in project.theme_revision(run_id)["state"]["themes"]][:3]
    revision = project.rename_theme(run_id, 1, first, LEAD_LABEL, "lead")
    revision = project.describe_theme(run_id, revision, first, LEAD_TEXT, "lead")
    revision = project.accept_theme(run_id, revision, first, "lead")
    revision = project.discard_theme(run_id, revision, second, "lead")
    project.describe_theme(run_id, revision, third, PASTED_TEXT, "lead")
    return run_id


def copy_project(source: Path, folder: Path) -> Path:
    """A copy of a closed project file, so that each test starts from the same project without rebuilding it."""
    target = folder / source.name
    shutil.copyfile(source, target)
    return target


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """The project above, built once per test module (copy it before changing it)."""
    return make_project(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="module")
def study(template, tmp_path_factory):
    """(project, run id, the synthesis read back) for the reviewed run, German."""
    with Project(copy_project(template, tmp_path_factory.mktemp("synthesis"))) as project:
        run_id = reviewed_run(project)
        buffer = io.BytesIO()
        write_synthesis(project, run_id, buffer)
        yield project, run_id, Document(io.BytesIO(buffer.getvalue()))


def styled_paragraphs(doc) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in doc.paragraphs]


def headings(doc, level: int) -> list[str]:
    return [text for style, text in styled_paragraphs(doc) if style == f"Heading {level}"]


def kept_themes(project: Project, run_id: int) -> list[dict]:
    return [t for t in project.theme_revision(run_id)["state"]["themes"] if t["status"] != "discarded"]


def section(doc, title: str) -> list[tuple[str, str]]:
    """The paragraphs from the Heading 1 `title` up to the next Heading 1."""
    paragraphs = styled_paragraphs(doc)
    start = paragraphs.index(("Heading 1", title))
    end = next((i for i in range(start + 1, len(paragraphs)) if paragraphs[i][0] == "Heading 1"), len(paragraphs))
    return paragraphs[start + 1:end]


def table_starting(doc, first_cell: str):
    return next(t for t in doc.tables if t.rows[0].cells[0].text == first_cell)


# -- structure -------------------------------------------------------------------------------------
def test_title_page_then_chapters_in_word_heading_styles(study):
    project, run_id, doc = study
    assert doc.paragraphs[0].style.name == "Title" and doc.paragraphs[0].text == "Synthese: Alle Themen"
    paragraphs = styled_paragraphs(doc)
    title_page = [text for _, text in paragraphs[:[style for style, _ in paragraphs].index("TOC Heading")]]
    assert "Erstellt mit Codewerk" in title_page and "Projekt: studie" in title_page
    themes = kept_themes(project, run_id)
    chapters = headings(doc, 1)
    assert chapters[0] == "Methode" and chapters[-2:] == ["Themen × Stakeholdergruppen", "Anhang: Codebuch"]
    assert sorted(chapters[1:-2]) == sorted(t["label"] for t in themes)
    assert headings(doc, 2)[:5] == ["Korpus", "Codebuch (Kurzfassung)", "Codierung", "Intercoder-Übereinstimmung",
                                    "Themenbildung"]
    assert doc.core_properties.title == "Synthese: Alle Themen" and doc.core_properties.author == "Lea Lead"


def test_accepted_theme_first_then_by_cross_stakeholder_reach_and_discarded_left_out(study):
    project, run_id, doc = study
    state = project.theme_revision(run_id)["state"]["themes"]
    by_label = {t["label"]: t for t in state}
    chapters = headings(doc, 1)[1:-2]
    assert by_label[chapters[0]]["status"] == "accepted" and chapters[0] == LEAD_LABEL
    reach = [by_label[label]["cross_stakeholder"] for label in chapters[1:]]
    assert reach == sorted(reach, reverse=True)
    (discarded,) = [t for t in state if t["status"] == "discarded"]
    assert discarded["label"] not in {text for _, text in styled_paragraphs(doc)}


def test_each_theme_has_its_description_who_raised_it_a_chart_quotes_and_codes(study):
    project, run_id, doc = study
    run = project.theme_run(run_id)
    passages = {p["id"]: p for p in run["segments"]}
    for theme in kept_themes(project, run_id):
        paragraphs = section(doc, theme["label"])
        texts = [text for _, text in paragraphs]
        if theme["label"] == LEAD_LABEL:
            assert "Die Kommunen erleben den Wohnungsmarkt als verschlossen." in texts
            assert "Zweiter Absatz <script>." in texts  # the lead's text as written, never read as markup
            assert any("in das Codebuch übernommen" in t for t in texts)
        elif theme["description"]:
            assert "Kurz gesagt: <b>Förderung</b> endet zu früh." in texts  # control characters dropped
        else:
            assert "Die Projektleitung hat dieses Thema noch nicht beschrieben." in texts
        interviews = {passages[m]["document"] for m in theme["members"]}
        (mentioned,) = [t for t in texts if t.startswith("Genannt")]
        assert mentioned.endswith(f"({len(interviews)} Interviews).")
        by_group = Counter(group for group, _ in {(passages[m]["stakeholder"], passages[m]["document"])
                                                  for m in theme["members"]})
        if by_group["Kommune"]:
            assert f"{by_group['Kommune']} Kommune" in mentioned
        assert ("Heading 3", "Ausgewählte Zitate") in paragraphs and ("Heading 3", "Beteiligte Codes") in paragraphs
        bullets = [text for style, text in paragraphs if style == "List Bullet"]
        assert len(bullets) == len(theme["codes"])
        most_first = sorted(theme["codes"].items(), key=lambda kv: (-kv[1], kv[0]))
        for bullet, (code, n) in zip(bullets, most_first):
            assert bullet.startswith(f"{code} ") and bullet.endswith(f": {n} Stelle" if n == 1 else f": {n} Stellen")
        assert next(text for style, text in paragraphs if style == "Caption").startswith("Abbildung")


def expected_source(project: Project, passage: dict) -> str:
    """"— K01, Kommune, 00:03:05" from the passage's turn, or "… Abs. N" when the transcript has no times."""
    turn = next(t for t in project.turns(passage["document_id"]) if t["start"] <= passage["start"] < t["end"])
    where = clock(turn["timestamp"]) if turn["timestamp"] is not None else f"Abs. {passage['line']}"
    return f"— {passage['document']}, {passage['stakeholder']}, {where}"


def test_representative_quotes_are_set_as_quotes_followed_by_their_source(study):
    project, run_id, doc = study
    passages = {p["id"]: p for p in project.theme_run(run_id)["segments"]}
    paragraphs = styled_paragraphs(doc)
    quotes = {text: i for i, (style, text) in enumerate(paragraphs) if style == "Quote"}
    for theme in kept_themes(project, run_id):
        for passage_id in theme["representatives"]:
            passage = passages[passage_id]
            index = quotes[passage["text"]]
            assert paragraphs[index + 1] == ("Quote Source", expected_source(project, passage))


def test_quotes_from_transcripts_without_times_name_their_paragraph(template, tmp_path):
    with Project(copy_project(template, tmp_path)) as project:
        run_id = start_run(project, get_embedder("hashing"), "lead", name="Ohne Zeiten", codes=["H1", "H3"],
                           attributes={"Interview": ["K02", "M01"]}, n_themes=2)
        buffer = io.BytesIO()
        write_synthesis(project, run_id, buffer)
        paragraphs = styled_paragraphs(Document(buffer))
        passages = {p["text"]: p for p in project.theme_run(run_id)["segments"]}
        sources = [paragraphs[i + 1][1] for i, (style, text) in enumerate(paragraphs) if style == "Quote"]
        assert sources and all(re.fullmatch(r"— (K02, Kommune|M01, MSO), Abs\. \d+", s) for s in sources)
        for i, (style, text) in enumerate(paragraphs):
            if style == "Quote":
                assert paragraphs[i + 1][1] == expected_source(project, passages[text])


def test_one_png_chart_per_theme_wide_enough_to_read(study):
    project, run_id, doc = study
    assert len(doc.inline_shapes) == len(kept_themes(project, run_id))
    for shape in doc.inline_shapes:
        blip = shape._inline.graphic.graphicData.pic.blipFill.blip
        image = Image.open(io.BytesIO(doc.part.related_parts[blip.embed].blob))
        assert image.format == "PNG" and image.width >= 1200
        assert round(shape.width.cm) == 15


def test_the_chart_draws_each_group_s_share_of_its_interviews():
    png = stakeholder_chart([("Kommune", 2, 2), ("Verband", 1, 2), ("Wissenschaft", 0, 3)])
    image = Image.open(io.BytesIO(png)).convert("RGB")
    pixels = image.load()
    bars = []
    for row in range(3):
        y = PAD + ROW * row + ROW // 2  # the middle of the row
        bars.append(sum(1 for x in range(image.width) if pixels[x, y] == BAR_COLOUR))
    assert bars[0] > 0 and bars[2] == 0
    assert abs(bars[1] / bars[0] - 0.5) < 0.02


def test_the_matrix_table_holds_the_run_s_counts_per_theme_and_group(study):
    project, run_id, doc = study
    passages = {p["id"]: p for p in project.theme_run(run_id)["segments"]}
    expected = {t["label"]: Counter(passages[m]["stakeholder"] for m in t["members"])
                for t in kept_themes(project, run_id)}
    table = table_starting(doc, "Thema")
    header = [c.text for c in table.rows[0].cells]
    groups = header[1:-1]
    assert sorted(groups) == sorted({p["stakeholder"] for p in passages.values()}) and header[-1] == "Summe"
    body = [[c.text for c in row.cells] for row in table.rows[1:]]
    assert [row[0] for row in body[:-1]] == headings(doc, 1)[1:-2]
    for row in body[:-1]:
        assert [int(v) for v in row[1:-1]] == [expected[row[0]][g] for g in groups]
        assert int(row[-1]) == sum(expected[row[0]].values())
    assert body[-1][0] == "Summe"
    assert [int(v) for v in body[-1][1:-1]] == [sum(c[g] for c in expected.values()) for g in groups]


def test_method_names_corpus_coders_agreement_model_and_parameters(study):
    project, run_id, doc = study
    corpus = table_starting(doc, "Stakeholdergruppe")
    header = [c.text for c in corpus.rows[0].cells]
    assert header == ["Stakeholdergruppe", "kommunal", "national", "Summe"]
    rows = {row.cells[0].text: [int(c.text) for c in row.cells[1:]] for row in corpus.rows[1:]}
    levels = defaultdict(Counter)
    for group, level, _, _ in INTERVIEWS.values():
        levels[group][level] += 1
    for group, counts in levels.items():
        assert rows[group] == [counts["kommunal"], counts["national"], sum(counts.values())]
    assert rows["Summe"][-1] == len(INTERVIEWS)
    coders = table_starting(doc, "Person")
    made = Counter(c["coder"] for c in project.codings() if c["origin"] != "theme")
    names = {u["name"]: u["display_name"] for u in project.users()}
    assert {r.cells[0].text: int(r.cells[1].text) for r in coders.rows[1:]} == {names[k]: n for k, n in made.items()}
    method = [text for _, text in section(doc, "Methode")]
    assert method[method.index("Intercoder-Übereinstimmung") + 1] == "Nicht berechnet."
    settings = table_starting(doc, "Angabe")
    values = {r.cells[0].text: r.cells[1].text for r in settings.rows[1:]}
    run = project.theme_run(run_id)
    assert values["Einbettungsmodell"] == run["embedder"] and values["Zufallsstartwert"] == str(run["seed"])
    assert values["Themenzahl (gewünscht / gewählt)"].startswith("4 /")
    steps = table_starting(doc, "Schritt")
    assert [r.cells[0].text for r in steps.rows[1:]] == [s["name"] for s in run["steps"]["steps"]]
    brief = table_starting(doc, "Code")
    assert [r.cells[0].text for r in brief.rows[1:]] == [c["id"] for c in project.codes() if not c["parent"]]
    # The codebook in brief gives each code's first sentence, not fooled by abbreviations.
    assert [r.cells[2].text for r in brief.rows[1:3]] == ["Zugang zu Wohnraum.", "Kita und Schule, z. B. Wartelisten."]


def test_the_appendix_holds_the_codebook_with_anchors_and_rules(study):
    _, _, doc = study
    appendix = section(doc, "Anhang: Codebuch")
    assert ("Heading 3", "H1 Wohnen") in appendix and ("Heading 4", "A1 Herausforderung") in appendix
    assert not [text for style, text in appendix if style in ("Heading 1", "Heading 2")]  # the contents stay short
    assert ("List Bullet", "Die Schufa hat keiner.") in appendix
    assert ("Normal", "Einschluss: Wohnungssuche") in appendix
    assert ("Normal", "Ausschluss: Nachbarschaft: H9") in appendix


def test_a_real_toc_field_that_word_updates_on_opening(study):
    project, run_id, doc = study
    body = doc.element.body
    instructions = [i.text for i in body.iter(qn("w:instrText"))]
    assert ' TOC \\o "1-2" \\h \\z \\u ' in instructions
    kinds = [f.get(qn("w:fldCharType")) for f in body.iter(qn("w:fldChar"))]
    assert kinds == ["begin", "separate", "end"]
    update = doc.settings.element.find(qn("w:updateFields"))
    assert update is not None and update.get(qn("w:val")) == "true"
    shown = [text for style, text in styled_paragraphs(doc) if style == "toc 1"]
    assert kept_themes(project, run_id)[0]["label"] in shown and "Methode" in shown
    assert any("Felder aktualisieren" in text for _, text in styled_paragraphs(doc))


# -- options and outputs ---------------------------------------------------------------------------
def test_english_headings_on_request(study, tmp_path):
    project, run_id, _ = study
    write_synthesis(project, run_id, tmp_path / "synthesis.docx", language="en", title="Workshop Berlin")
    doc = Document(tmp_path / "synthesis.docx")
    chapters = headings(doc, 1)
    assert chapters[0] == "Method" and chapters[-2:] == ["Themes × stakeholder groups", "Appendix: codebook"]
    assert headings(doc, 2)[:2] == ["Corpus", "Codebook in brief"]
    texts = [p.text for p in doc.paragraphs]
    assert doc.paragraphs[0].text == "Workshop Berlin"
    assert any(t.startswith("Mentioned in") for t in texts) and not any(t.startswith("Genannt") for t in texts)
    assert "Methode" not in texts
    with pytest.raises(CodewerkError, match="fr"):
        write_synthesis(project, run_id, io.BytesIO(), language="fr")


def test_a_path_is_written_whole_and_a_missing_folder_is_named(study, tmp_path):
    project, run_id, _ = study
    target = tmp_path / "out.docx"
    write_synthesis(project, run_id, target)
    assert len(headings(Document(target), 1)) >= 4
    assert [p.name for p in tmp_path.iterdir()] == ["out.docx"]  # no partial file left behind
    with pytest.raises(ExportError, match="does not exist"):
        write_synthesis(project, run_id, tmp_path / "nirgends" / "out.docx")


def test_an_earlier_revision_shows_the_theme_discarded_later(study):
    project, run_id, _ = study
    (discarding,) = [r for r in project.theme_revisions(run_id) if r["action"] == "discard"]
    before = project.theme_revision(run_id, discarding["number"] - 1)["state"]["themes"]
    buffer = io.BytesIO()
    write_synthesis(project, run_id, buffer, revision=discarding["number"] - 1)
    assert sorted(headings(Document(buffer), 1)[1:-2]) == sorted(t["label"] for t in before)


def test_a_run_without_themes_is_refused_by_name(template, tmp_path):
    with Project(copy_project(template, tmp_path)) as project:
        run_id = project.create_theme_run("Leer", "lead", selection={}, embedder="hashing", seed=0,
                                          steps={"steps": [], "params": {}}, segments=[],
                                          features=np.zeros((0, 2)),
                                          state={"themes": [], "assignments": {}, "history": []})
        with pytest.raises(ThemeError, match=f"theme run {run_id} \\(Leer\\) has no themes"):
            write_synthesis(project, run_id, io.BytesIO())
        other = start_run(project, get_embedder("hashing"), "lead", name="Zwei", codes=["H1"], n_themes=2, seed=0)
        revision = 1
        for theme in project.theme_revision(other)["state"]["themes"]:
            revision = project.discard_theme(other, revision, theme["id"], "lead")
        with pytest.raises(ThemeError, match="every theme .* is discarded"):
            write_synthesis(project, other, io.BytesIO())


def test_default_run_is_the_latest_with_an_accepted_theme(template, tmp_path):
    with Project(copy_project(template, tmp_path)) as project:
        assert default_theme_run(project) is None
        first = start_run(project, get_embedder("hashing"), "lead", name="Eins", codes=["H1", "H2"], n_themes=2)
        second = start_run(project, get_embedder("hashing"), "lead", name="Zwei", codes=["H2", "H3"], n_themes=2)
        assert default_theme_run(project) == second
        theme = project.theme_revision(first)["state"]["themes"][0]["id"]
        project.accept_theme(first, 1, theme, "lead")
        assert default_theme_run(project) == first


def test_a_project_without_group_and_level_attributes_still_gets_a_synthesis(tmp_path):
    with Project(make_project(tmp_path, attributes=False)) as project:
        run_id = start_run(project, get_embedder("hashing"), "lead", name="Ohne", codes=["H1", "H2"], n_themes=2)
        buffer = io.BytesIO()
        write_synthesis(project, run_id, buffer)
        doc = Document(buffer)
        passages = len(project.theme_run(run_id)["segments"])
    corpus = table_starting(doc, "Stakeholdergruppe")
    assert [[c.text for c in row.cells] for row in corpus.rows] == [
        ["Stakeholdergruppe", "Interviews"], ["ohne Angabe", str(len(INTERVIEWS))], ["Summe", str(len(INTERVIEWS))]]
    assert any(re.match(r"Genannt in \d+ Interviews: ohne Angabe \d+\.", p.text) for p in doc.paragraphs)
    matrix = table_starting(doc, "Thema")
    assert [c.text for c in matrix.rows[0].cells] == ["Thema", "ohne Angabe", "Summe"]
    assert [c.text for c in matrix.rows[-1].cells] == ["Summe", str(passages), str(passages)]


def test_who_raised_a_theme_reads_as_a_sentence():
    de, en = Wording("de"), Wording("en")
    assert de.mentioned_by({"Kommune": 9, "Verband": 2, "MSO": 2}) == (
        "Genannt von 9 Kommunen, 2 Verbänden und 2 Migrant*innenorganisationen (13 Interviews).")
    assert de.mentioned_by({"Kommune": 1}) == "Genannt von 1 Kommune (1 Interview)."
    assert (de.count(1, "passage"), de.count(2, "passage"), en.count(1, "passage")) == ("1 Stelle", "2 Stellen",
                                                                                         "1 passage")
    # A group the wording does not know keeps its name rather than a wrong plural.
    assert de.mentioned_by({"Jugendhilfe": 2, "Kommune": 1}) == "Genannt in 3 Interviews: Jugendhilfe 2 und Kommune 1."
    assert en.mentioned_by({"Kommune": 9, "MSO": 2}) == "Mentioned in 11 interviews: Kommune 9 and MSO 2."
