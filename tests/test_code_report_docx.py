"""The per-code Word report, read back with python-docx: a chapter per code, its passages by interview."""
from __future__ import annotations

import io

import pytest
from docx import Document
from docx.oxml.ns import qn

from coding.errors import ExportError
from coding.export.code_report import write_code_report
from coding.export.docx_parts import code_path
from coding.store import Project
from coding.timefmt import clock
from tests.test_synthesis_docx import copy_project, make_project, section, styled_paragraphs


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return make_project(tmp_path_factory.mktemp("report"))


@pytest.fixture
def project(template, tmp_path):
    with Project(copy_project(template, tmp_path)) as project:
        yield project


def report(project: Project, **options) -> Document:
    buffer = io.BytesIO()
    write_code_report(project, buffer, **options)
    return Document(io.BytesIO(buffer.getvalue()))


def chapters(doc) -> list[str]:
    return [text for style, text in styled_paragraphs(doc) if style == "Heading 1"]


def test_one_chapter_per_code_named_by_its_path_in_codebook_order(project):
    doc = report(project)
    codes = {c["id"]: c for c in project.codes()}
    used = {c["code_id"] for c in project.codings()}
    expected = [code_path(codes, c["id"]) for c in project.codes() if c["codable"] or c["id"] in used]
    assert chapters(doc) == expected
    assert "Art der Aussage > Herausforderung" in expected and "Art der Aussage" not in expected
    assert doc.paragraphs[0].style.name == "Title"
    toc = [i.text for i in doc.element.body.iter(qn("w:instrText"))]
    assert toc == [' TOC \\o "1-1" \\h \\z \\u ']
    assert [text for style, text in styled_paragraphs(doc) if style == "toc 1"] == expected


def test_every_coding_is_a_quote_with_its_source_and_coder_under_its_interview(project):
    doc = report(project)
    codes = {c["id"]: c for c in project.codes()}
    names = {u["name"]: u["display_name"] for u in project.users()}
    for code in ("H1", "H2", "A1"):
        paragraphs = section(doc, code_path(codes, code))
        expected = [c for c in project.codings() if c["code_id"] == code]
        quotes = [(i, text) for i, (style, text) in enumerate(paragraphs) if style == "Quote"]
        assert sorted(text for _, text in quotes) == sorted(c["quote"] for c in expected)
        interview = None
        for i, (style, text) in enumerate(paragraphs):
            if style == "Heading 2":
                interview = text.split(" · ")[0]
            if style == "Quote":
                source = paragraphs[i + 1]
                assert source[0] == "Quote Source" and source[1].startswith(f"— {interview}, ")
        coders = {names[c["coder"]] for c in expected}
        assert {p[1].rsplit("codiert von ", 1)[1] for p in paragraphs if p[0] == "Quote Source"} == coders
    # H2 is coded twice in K01 (by two people): both codings are there, each with its coder.
    k01 = section(doc, "Kinderbetreuung")
    assert sum("K01" in t and "Zoe Zweite" in t for _, t in k01) == 3


def test_interviews_in_document_order_and_sources_with_time_or_paragraph(project):
    doc = report(project, codes=["H3"])
    paragraphs = section(doc, "Förderung")
    order = [d["name"] for d in project.documents()]
    groups = {d["name"]: d["attributes"]["Stakeholdergruppe"] for d in project.documents()}
    assert [t for s, t in paragraphs if s == "Heading 2"] == [f"{name} · {groups[name]}" for name in order]
    for coding in (c for c in project.codings() if c["code_id"] == "H3"):
        document = project.document(coding["document_id"])
        turn = next(t for t in project.turns(document["id"]) if t["start"] <= coding["start"] < t["end"])
        where = (clock(turn["timestamp"]) if turn["timestamp"] is not None
                 else f"Abs. {document['text'].count(chr(10), 0, coding['start']) + 1}")
        index = paragraphs.index(("Quote", coding["quote"]))
        assert paragraphs[index + 1][1] == (f"— {document['name']}, {groups[document['name']]}, {where}, "
                                            "codiert von Sam Setup")


def test_memos_are_shown_and_removed_codings_are_not(project):
    first = next(c for c in project.codings() if c["code_id"] == "H3" and not c["memo"])
    project.remove_coding(first["id"], "setup")
    paragraphs = section(report(project, codes=["H3"]), "Förderung")
    memo = next(c for c in project.codings() if c["memo"])
    index = paragraphs.index(("Quote", memo["quote"]))
    assert paragraphs[index + 2] == ("Normal", f"Memo: {memo['memo']}")
    assert ("Quote", first["quote"]) not in paragraphs
    remaining = sum(1 for c in project.codings() if c["code_id"] == "H3")
    assert f"{remaining} codierte Stellen in 5 Interviews." in [t for _, t in paragraphs]


def test_chosen_codes_in_the_order_given_and_unknown_codes_named(project):
    doc = report(project, codes=["H3", "H1", "H3"])
    assert chapters(doc) == ["Förderung", "Wohnen"]
    with pytest.raises(ExportError, match="'H99'"):
        report(project, codes=["H1", "H99"])


def test_a_code_without_codings_says_so(project):
    paragraphs = section(report(project, codes=["A"]), "Art der Aussage")
    assert ("Normal", "Zu diesem Code gibt es keine codierten Stellen.") in paragraphs
    assert not [p for p in paragraphs if p[0] == "Quote"]


def test_english_report_written_to_a_path(project, tmp_path):
    target = tmp_path / "codes.docx"
    write_code_report(project, target, codes=["H1"], language="en")
    doc = Document(target)
    texts = [p.text for p in doc.paragraphs]
    assert "Contents" in texts and doc.paragraphs[0].text.startswith("Code report")
    sources = [p.text for p in doc.paragraphs if p.style.name == "Quote Source"]
    assert sources and all("coded by Sam Setup" in s for s in sources)
    assert any("para." in s for s in sources) and not any("Abs." in s for s in sources)
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")]
