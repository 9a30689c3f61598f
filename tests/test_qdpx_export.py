"""REFI-QDA project export (.qdpx): what a MAXQDA, ATLAS.ti, NVivo or QualCoder user opens from us."""
from __future__ import annotations

import functools
import io
import time
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from coding.codebook import Code, Codebook
from coding.export.qdpx import export_qdpx
from coding.store import NewDocument, Project
from coding.transcripts import read_transcript
from coding.transcripts.segments import split_segments
from tests.conftest import SHARED, shared_path

NS = {"q": "urn:QDA-XML:project:1.0"}


@functools.cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SHARED / "refi" / "xsd" / "Project.xsd")))


def valid_qde(archive: bytes) -> etree._Element:
    """The project.qde of an export, after checking it against the official Project.xsd."""
    shared_path("refi", "xsd", "Project.xsd")
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        root = etree.fromstring(z.read("project.qde"))
    assert _schema().validate(root), _schema().error_log
    return root


def sources_of(archive: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        return {name: z.read(name) for name in z.namelist() if name.startswith("sources/")}


def exported(project: Project) -> bytes:
    out = io.BytesIO()
    export_qdpx(project, out)
    return out.getvalue()


def add_document(project: Project, folder: Path, name: str, text: str, attributes: dict[str, str] | None = None,
                 user: str = "anna") -> int:
    """Store a text as a document the way an import would (read, normalised, segmented)."""
    path = folder / f"{name}.txt"
    path.write_text(text, encoding="utf-8")
    transcript = read_transcript(path)
    document = NewDocument(name=name, filename=path.name, transcript=transcript,
                           segments=split_segments(transcript), attributes=attributes or {})
    return project.add_documents([document], user)[0]


def code_at(project: Project, document_id: int, phrase: str, code: str, coder: str = "anna",
            memo: str | None = None) -> int:
    text = project.document(document_id)["text"]
    start = text.index(phrase)
    return project.add_coding(document_id, start, start + len(phrase), code, coder, memo=memo, quote=phrase)


CODEBOOK = Codebook(codes=[
    Code("H1", "Wohnen", color="#1F77B4", definition="Zugang zu Wohnraum.", memo="Mit Team klären."),
    Code("H1.1", "Schrottimmobilien", parent="H1", color="#abc", anchors=["Da wohnen 40 Leute."]),
    Code("A", "Art der Aussage", codable=False),
    Code("A1", "Herausforderung 😀", parent="A"),
])
TEXT = ("I: Wie finden Neuzugewanderte eine Wohnung?\n\n"
        "B: Über Bekannte 😀, fast nie über Makler. Die Größe der Wohnungen passt nicht.\n\n"
        "I: Und die Schrottimmobilien?\n\nB: Da wohnen 40 Leute in sechs Wohnungen. Straße für Straße.\n")


@pytest.fixture
def small(project, tmp_path) -> Project:
    project.save_codebook(CODEBOOK, "lead")
    doc = add_document(project, tmp_path, "K01", TEXT, {"Stakeholdergruppe": "Kommune", "Ebene": "kommunal"})
    add_document(project, tmp_path, "N01", "B: Wir fördern Quartiersbüros.\n",
                 {"Stakeholdergruppe": "Verband", "Memo": "Zweitgespräch geplant."})
    code_at(project, doc, "Die Größe der Wohnungen passt nicht.", "H1", memo="Typisch für Großstädte.")
    code_at(project, doc, "Die Größe der Wohnungen passt nicht.", "A1", coder="bernd")
    code_at(project, doc, "Da wohnen 40 Leute", "H1.1")
    return project


@pytest.fixture(scope="session")
def demo_export(tmp_path_factory) -> tuple[Path, bytes, float]:
    """The demo project (30 interviews, half coded), exported once: its path, the .qdpx and the seconds taken."""
    from coding.demo import ensure_demo_project

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    assert ensure_demo_project(path)
    with Project(path) as project:
        started = time.perf_counter()
        archive = exported(project)
        return path, archive, time.perf_counter() - started


def test_demo_project_export_validates_and_carries_every_coding_and_attribute(demo_export):
    path, archive, seconds = demo_export
    root = valid_qde(archive)
    files = sources_of(archive)
    with Project(path) as project:
        documents = project.documents()
        codings = project.codings()
        sources = root.findall("q:Sources/q:TextSource", NS)
        assert sorted(s.get("name") for s in sources) == sorted(d["name"] for d in documents)
        assert len(root.findall(".//q:PlainTextSelection/q:Coding", NS)) == len(codings)
        assert len(root.findall("q:CodeBook//q:Code", NS)) == len(project.codes())
        by_name = {d["name"]: d for d in documents}
        for source in sources:
            assert source.get("plainTextPath").startswith("internal://")
            data = files["sources/" + source.get("plainTextPath")[len("internal://"):]]
            assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data
            text = data.decode("utf-8")
            assert text == project.document(by_name[source.get("name")]["id"])["text"]
            for selection in source.findall("q:PlainTextSelection", NS):
                start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
                assert text[start:end] == selection.get("name")
    variables = {v.get("guid"): v.get("name") for v in root.findall("q:Variables/q:Variable", NS)}
    assert {"Stakeholdergruppe", "Ebene"} <= set(variables.values())
    guid_of_source = {s.get("guid"): s.get("name") for s in sources}

    def values(element):
        return {variables[v.find("q:VariableRef", NS).get("targetGUID")]: v.find("q:TextValue", NS).text
                for v in element.findall("q:VariableValue", NS)}

    for case in root.findall("q:Cases/q:Case", NS):
        (ref,) = case.findall("q:SourceRef", NS)
        assert values(case) == by_name[guid_of_source[ref.get("targetGUID")]]["attributes"]
    for source in sources:  # QualCoder drops case links, so each source carries its variables too
        assert values(source) == by_name[source.get("name")]["attributes"]
    assert seconds < 10


def test_codes_nest_with_colours_descriptions_and_memos(small):
    root = valid_qde(exported(small))
    wohnen = root.find("q:CodeBook/q:Codes/q:Code[@name='Wohnen']", NS)
    assert wohnen.get("color") == "#1F77B4" and wohnen.get("isCodable") == "true"
    assert [c.get("name") for c in wohnen.findall("q:Code", NS)] == ["Schrottimmobilien"]
    description = wohnen.find("q:Description", NS).text
    assert "Zugang zu Wohnraum." in description and description.endswith("Codewerk-ID: H1")
    art = root.find("q:CodeBook/q:Codes/q:Code[@name='Art der Aussage']", NS)
    assert art.get("isCodable") == "false" and art.get("color") is None
    notes = {n.get("guid"): n.find("q:PlainTextContent", NS).text for n in root.findall("q:Notes/q:Note", NS)}
    (ref,) = wohnen.findall("q:NoteRef", NS)
    assert notes[ref.get("targetGUID")] == "Mit Team klären."


def test_coding_memos_travel_as_description_and_note_and_coders_as_users(small):
    root = valid_qde(exported(small))
    users = {u.get("guid"): u.get("name") for u in root.findall("q:Users/q:User", NS)}
    assert {"anna", "bernd"} <= set(users.values()) and "lead" not in users.values()
    notes = {n.get("guid"): n.find("q:PlainTextContent", NS).text for n in root.findall("q:Notes/q:Note", NS)}
    selections = root.findall(".//q:PlainTextSelection", NS)
    with_memo = [s for s in selections if s.find("q:Description", NS) is not None]
    assert len(selections) == 3 and len(with_memo) == 1
    assert with_memo[0].find("q:Description", NS).text == "Typisch für Großstädte."
    coding = with_memo[0].find("q:Coding", NS)
    assert notes[coding.find("q:NoteRef", NS).get("targetGUID")] == "Typisch für Großstädte."
    assert users[coding.get("creatingUser")] == "anna"
    coders = sorted(users[s.find("q:Coding", NS).get("creatingUser")] for s in selections)
    assert coders == ["anna", "anna", "bernd"]


def test_a_document_memo_is_the_sources_description(small):
    root = valid_qde(exported(small))
    n01, k01 = (root.find(f"q:Sources/q:TextSource[@name='{name}']", NS) for name in ("N01", "K01"))
    assert n01.find("q:Description", NS).text == "Zweitgespräch geplant."
    assert k01.find("q:Description", NS) is None


def test_offsets_count_code_points_so_an_emoji_counts_once(small):
    root = valid_qde(exported(small))
    source = root.find("q:Sources/q:TextSource[@name='K01']", NS)
    phrase = "Die Größe der Wohnungen passt nicht."
    selection = source.find(f"q:PlainTextSelection[@name='{phrase}']", NS)
    text = small.document(small.documents()[0]["id"])["text"]
    start = text.index(phrase)
    utf16_start = len(text[:start].encode("utf-16-le")) // 2
    assert utf16_start == start + 1  # the emoji before the phrase: one code point, two UTF-16 units
    assert (int(selection.get("startPosition")), int(selection.get("endPosition"))) == (start, start + len(phrase))


def test_removed_codings_are_not_exported(small):
    before = len(valid_qde(exported(small)).findall(".//q:Coding", NS))
    small.remove_coding(small.codings()[0]["id"], "lead")
    assert len(valid_qde(exported(small)).findall(".//q:Coding", NS)) == before - 1


def test_a_re_export_is_byte_identical_and_new_work_keeps_old_guids(small, tmp_path):
    first, second = exported(small), exported(small)
    assert first == second

    def guids(archive):
        return {e.get("guid") for e in valid_qde(archive).iter() if e.get("guid")}

    doc = small.documents()[1]["id"]
    code_at(small, doc, "Quartiersbüros", "H1")
    assert guids(first) < guids(exported(small))


def test_export_to_a_path_leaves_no_partial_file(small, tmp_path):
    out = tmp_path / "projekt.qdpx"
    export_qdpx(small, out)
    assert out.read_bytes() == exported(small)
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


def test_a_project_without_codes_or_codings_still_validates(project, tmp_path):
    add_document(project, tmp_path, "leer", "B: Nur ein Satz.\n")
    root = valid_qde(exported(project))
    assert root.find("q:CodeBook", NS) is None and root.find("q:Notes", NS) is None
    assert len(root.findall("q:Sources/q:TextSource", NS)) == 1
    empty = Project.create(tmp_path / "empty.db")
    valid_qde(exported(empty))
    empty.close()
