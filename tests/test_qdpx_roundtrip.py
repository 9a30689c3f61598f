"""Export a project as .qdpx and import it into a fresh project: everything a team made comes back exactly."""
from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coding.codebook import Codebook
from coding.export.qdpx import export_qdpx, import_qdpx
from coding.store import NewDocument, Project, backup
from coding.transcripts import read_transcript
from coding.transcripts.segments import split_segments
from tests.test_codebook_yaml import codebooks, texts
from tests.test_qdpx_export import demo_export, valid_qde  # noqa: F401  (demo_export is a fixture)

TOKENS = ["Wohnung", "Größe", "Straße", "Quartiersbüro", "übers", "Ämter", "ß", "weiß", "😀", "🎉", "👍🏽",
          "e\u0301", "Miete,", "nicht.", "Kita?", "–", "„so“", "40", "Öztürk", "und", "die", "a"]
SPEAKERS = ["I", "B", "B2", "Frau Öztürk", None]
CODERS = ["anna", "bernd", "Çiğdem Yılmaz"]
KEYS = ["Stakeholdergruppe", "Ebene", "Ortsgröße", "Memo"]  # a document memo is the attribute Memo

lines = st.tuples(st.sampled_from(SPEAKERS), st.lists(st.sampled_from(TOKENS), min_size=1, max_size=9)) \
    .map(lambda line: (f"{line[0]}: " if line[0] else "") + " ".join(line[1]))
documents = st.lists(lines, min_size=1, max_size=5).map("\n".join)
attributes = st.dictionaries(st.sampled_from(KEYS), st.lists(st.sampled_from(TOKENS[:6]), min_size=1, max_size=3)
                             .map(" ".join), max_size=3)
codings = st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 40), st.integers(0, 7), st.sampled_from(CODERS),
                             texts.map(lambda memo: memo if memo.strip() else "")), max_size=8)


def _store(folder: Path, codebook: Codebook, docs: list[tuple[str, dict[str, str]]], raw: list) -> Project:
    """A project with this codebook, these documents (text, attributes) and codings drawn over them."""
    project = Project.create(folder / "a.db")
    project.save_codebook(codebook, "lead")
    new = []
    for i, (text, attrs) in enumerate(docs):
        path = folder / f"K{i:02d}.txt"
        path.write_text(text, encoding="utf-8")
        transcript = read_transcript(path)
        new.append(NewDocument(path.stem, path.name, transcript, split_segments(transcript), attrs))
    ids = project.add_documents(new, "lead")
    seen = set()
    for n, (at, length, code, coder, memo) in enumerate(raw):
        document = ids[n % len(ids)]
        text = project.document(document)["text"]
        start = at % len(text)
        end = min(start + length, len(text))
        key = (document, start, end, codebook.codes[code % len(codebook.codes)].id, coder)
        if key not in seen:
            seen.add(key)
            project.add_coding(document, start, end, key[3], coder, memo=memo)
    return project


def _content(project: Project) -> dict:
    """What a researcher sees of a project: texts, attributes, codes and codings (by document name)."""
    names = {d["id"]: d["name"] for d in project.documents()}
    return {
        "documents": {d["name"]: (project.document(d["id"])["text"], d["attributes"]) for d in project.documents()},
        "codes": [(c["id"], c["name"], c["parent"], c["color"], c["definition"], c["anchors"], c["include"],
                   c["exclude"], c["memo"], c["codable"], c["guid"]) for c in project.codes()],
        "codings": sorted((names[c["document_id"]], c["start"], c["end"], c["quote"], c["code_id"], c["coder"],
                           c["memo"]) for c in project.codings()),
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(codebook=codebooks(), raw=codings,
       docs=st.lists(st.tuples(documents, attributes), min_size=1, max_size=3, unique_by=lambda d: d[0]))
def test_a_generated_project_comes_back_exactly(codebook, docs, raw):
    with tempfile.TemporaryDirectory() as folder:
        original = _store(Path(folder), codebook, docs, raw)
        archive = io.BytesIO()
        export_qdpx(original, archive)
        valid_qde(archive.getvalue())
        (Path(folder) / "p.qdpx").write_bytes(archive.getvalue())
        copy = Project.create(Path(folder) / "b.db")
        result = import_qdpx(copy, Path(folder) / "p.qdpx", user="importer")
        expected, got = _content(original), _content(copy)
        assert got["documents"] == expected["documents"]
        assert got["codes"] == expected["codes"]
        assert got["codings"] == expected["codings"]
        assert {c["origin"] for c in copy.codings()} <= {"imported"}
        assert result.position_units == {name: "code points" for name in expected["documents"]}
        memos = sum(1 for c in expected["codes"] if c[8]) + sum(1 for c in expected["codings"] if c[6]) + \
            sum(1 for _, attrs in expected["documents"].values() if "Memo" in attrs)
        values = sum(len(attrs) - ("Memo" in attrs) for _, attrs in expected["documents"].values())
        assert (result.documents, result.codes, result.codings, result.memos, result.variables) == \
            (len(docs), len(codebook.codes), len(expected["codings"]), memos, values)
        assert result.users == len({c[5] for c in expected["codings"]}) and result.warnings == []
        original.close()
        copy.close()


def test_the_demo_project_comes_back_exactly_and_quickly(demo_export, tmp_path):  # noqa: F811
    path, archive, export_seconds = demo_export
    (tmp_path / "demo.qdpx").write_bytes(archive)
    with Project(path) as original, Project.create(tmp_path / "copy.db") as copy:
        started = time.perf_counter()
        result = import_qdpx(copy, tmp_path / "demo.qdpx", user="importer")
        import_seconds = time.perf_counter() - started
        print(f"demo project: export {export_seconds:.2f} s, import {import_seconds:.2f} s")
        expected, got = _content(original), _content(copy)
        assert got == expected
        assert result.codings == len(expected["codings"]) and result.warnings == []
        assert import_seconds < 30


def test_an_export_coming_back_to_its_own_project_adds_nothing(demo_export, tmp_path):  # noqa: F811
    path, archive, _ = demo_export
    (tmp_path / "demo.qdpx").write_bytes(archive)
    with Project(path) as demo:
        backup(demo.db, tmp_path / "copy.db")
    with Project(tmp_path / "copy.db") as project:
        before = _content(project)
        result = import_qdpx(project, tmp_path / "demo.qdpx", user="importer")
        # Word and WebVTT interviews come back as plain text: matched by their text, not their file.
        assert _content(project) == before
        assert (result.documents, result.codings, result.matched_codes) == (0, 0, len(before["codes"]))
        assert sum("schon als Dokument" in w for w in result.warnings) == len(before["documents"])
        assert any(f"{len(before['codings'])} Kodierung(en) waren schon im Projekt" in w for w in result.warnings)
        assert not any("doppelt" in w for w in result.warnings)
