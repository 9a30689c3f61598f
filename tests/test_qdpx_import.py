"""REFI-QDA project import (.qdpx, .qde): real exports of other programs, odd offsets, hostile archives."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from coding.codebook import Code, Codebook, refi_guid
from coding.errors import InputError, StoreError
from coding.export.qdpx import QdpxImportResult, import_qdpx
from coding.export.qdpx.positions import UTF16, Alignment, Offsets, Reading, at_word_boundary, place
from coding.store import Project
from tests.conftest import SHARED

SAMPLES = SHARED / "refi" / "samples"
Q = "{urn:QDA-XML:project:1.0}"
G = [f"5067d381-1dc9-4816-81dd-ae1dbfea2a{i:02d}" for i in range(40)]  # GUIDs for hand-made files


def qde(body: str) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" name="Test" '
            f'origin="Handarbeit">{body}</Project>').encode()


def qdpx(path: Path, project: bytes, files: dict[str, bytes] | None = None, folder: str = "sources") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", project)
        for name, data in (files or {}).items():
            archive.writestr(f"{folder}/{name}", data)
    return path


def utf16(text: str, index: int) -> int:
    return len(text[:index].encode("utf-16-le")) // 2


CODES = (f'<CodeBook><Codes><Code guid="{G[1]}" name="Wohnen" isCodable="true" color="#FF0000">'
         f'<Description>Alles zum Wohnungsmarkt.</Description><NoteRef targetGUID="{G[30]}"/>'
         f'<Code guid="{G[2]}" name="Größe" isCodable="true"/></Code></Codes></CodeBook>')
USERS = f'<Users><User guid="{G[5]}" name="Gergő"/><User guid="{G[6]}" id="FS" name=""/></Users>'


def selection(guid: str, start: int, end: int, code: str, *, user: str = G[5], inner: str = "", name: str = "") -> str:
    return (f'<PlainTextSelection guid="{guid}" name="{name}" startPosition="{start}" endPosition="{end}" '
            f'creatingUser="{user}">{inner}<Coding guid="{guid[:-2]}ff" creatingUser="{user}">'
            f'<CodeRef targetGUID="{code}"/></Coding></PlainTextSelection>')


def source(guid: str, name: str, selections: str, *, extra: str = "", path: str | None = None) -> str:
    return (f'<TextSource guid="{guid}" name="{name}" plainTextPath="{path or f"internal://{guid}.txt"}">'
            f'{selections}{extra}</TextSource>')


def imported(project: Project, path: Path) -> tuple[QdpxImportResult, dict[str, list[dict]]]:
    result = import_qdpx(project, path, user="importer")
    by_document: dict[str, list[dict]] = {}
    for document in project.documents():
        by_document[document["name"]] = project.codings(document["id"])
    return result, by_document


# -- offsets ---------------------------------------------------------------------------------------
NVIVO_TEXT = "Grüße 😀😀 aus Köln, sagt sie.\r\nZweite Zeile 🎉: Wörter und mehr Wörter.\r\nDritte 👍🏽 Zeile.\r\n"
WORDS = ["Köln", "Wörter und mehr", "Dritte", "Zeile."]


def test_nvivo_counts_utf16_units_and_crlf_as_two_and_the_quotes_still_fit(project, tmp_path):
    text = NVIVO_TEXT
    spans = [(text.index(w), text.index(w) + len(w)) for w in WORDS[:2]] + \
            [(text.rindex(w), text.rindex(w) + len(w)) for w in WORDS[2:]]
    selections = "".join(selection(G[10 + i], utf16(text, a), utf16(text, b), G[1]) for i, (a, b) in enumerate(spans))
    path = qdpx(tmp_path / "nvivo.qdpx", qde(USERS + CODES + f"<Sources>{source(G[3], 'Interview A', selections)}"
                                                      "</Sources>"),
                {f"{G[3]}.txt": b"\xef\xbb\xbf" + text.encode("utf-8")}, folder="Sources")
    result, codings = imported(project, path)
    assert [c["quote"] for c in codings["Interview A"]] == WORDS
    assert result.position_units == {"Interview A": "UTF-16"}
    assert {c["coder"] for c in codings["Interview A"]} == {"Gergő"} and result.users == 1
    stored = project.document(project.documents()[0]["id"])["text"]
    assert "\r" not in stored and not stored.startswith("\ufeff")


def test_offsets_of_a_tool_that_counts_crlf_once_are_recognised(project, tmp_path):
    text = NVIVO_TEXT
    flat = text.replace("\r\n", "\n")
    spans = [(flat.rindex(w), flat.rindex(w) + len(w)) for w in WORDS]
    selections = "".join(selection(G[10 + i], a, b, G[2]) for i, (a, b) in enumerate(spans))
    path = qdpx(tmp_path / "p.qdpx", qde(CODES + f"<Sources>{source(G[3], 'B.txt', selections)}</Sources>"),
                {f"{G[3]}.txt": text.encode("utf-8")})
    result, codings = imported(project, path)
    assert [c["quote"] for c in codings["B"]] == WORDS
    assert {c["coder"] for c in codings["B"]} == {"importer"}  # no users in the file: the importer codes
    assert result.position_units == {"B": "code points, CRLF = 1"}


def test_quotes_stay_exact_when_the_stored_text_loses_timestamps_and_decomposed_umlauts(project, tmp_path):
    text = ("I: Wie ist die Lage? #00:00:07-3#   \n"
            "B: Die Gro\u0308ße der Wohnungen passt nicht. #00:01:02-5# Und die Miete auch nicht.\n")
    wanted = ["Die Gro\u0308ße der Wohnungen", "Und die Miete"]
    spans = [(text.index(w), text.index(w) + len(w)) for w in wanted]
    selections = "".join(selection(G[10 + i], a, b, G[1], name=w) for i, ((a, b), w) in enumerate(zip(spans, wanted)))
    path = qdpx(tmp_path / "p.qdpx", qde(CODES + f"<Sources>{source(G[3], 'T01', selections)}</Sources>"),
                {f"{G[3]}.txt": text.encode("utf-8")})
    _, codings = imported(project, path)
    stored = project.document(project.documents()[0]["id"])["text"]
    assert "#00:" not in stored
    assert [c["quote"] for c in codings["T01"]] == ["Die Größe der Wohnungen", "Und die Miete"]


def test_a_word_source_without_plain_text_is_read_with_the_docx_reader(project, tmp_path):
    import docx

    document = docx.Document()
    for line in ("I: Wie finden Menschen eine Wohnung?", "B: Meist über Bekannte, selten über Makler."):
        document.add_paragraph(line)
    data = io.BytesIO()
    document.save(data)
    text = "I: Wie finden Menschen eine Wohnung?\nB: Meist über Bekannte, selten über Makler."
    start = text.index("über Bekannte")
    body = (f'<TextSource guid="{G[3]}" name="Interview.docx" richTextPath="internal://{G[3]}.docx">'
            f'{selection(G[10], start, start + len("über Bekannte"), G[1])}</TextSource>')
    path = qdpx(tmp_path / "p.qdpx", qde(CODES + f"<Sources>{body}</Sources>"), {f"{G[3]}.docx": data.getvalue()})
    result, codings = imported(project, path)
    assert [c["quote"] for c in codings["Interview"]] == ["über Bekannte"]
    assert project.documents()[0]["format"] == "docx" and result.documents == 1


def test_offsets_between_surrogate_halves_are_refused_and_changed_line_counts_still_align():
    text = "Kopf\r\nI: Frage 😀?\r\nB: Antwort mit Wörtern.\r\n"
    utf = Offsets(text, Reading(UTF16))
    emoji = text.index("😀")
    assert utf.index(utf16(text, emoji) + 1) is None  # inside the emoji's two UTF-16 units
    assert utf.index(utf16(text, emoji) + 2) == emoji + 1
    stored = "I: Frage 😀?\nB: Antwort mit Wörtern."  # a header line less than the source
    at = text.index("Wörtern")
    start, end = place(Alignment(text, stored), at, at + len("Wörtern"))
    assert stored[start:end] == "Wörtern"


# -- memos, variables, codes -----------------------------------------------------------------------
def test_memos_variables_and_a_bare_qde_with_inline_text(project, tmp_path):
    text = "B: Das Quartiersbüro ist eine Andockstelle geworden."
    start = text.index("Andockstelle")
    notes = (f'<Notes><Note guid="{G[30]}" name="Code-Memo"><PlainTextContent>Mit dem Team klären.</PlainTextContent>'
             f'</Note><Note guid="{G[31]}"><PlainTextContent>Schönes Zitat.</PlainTextContent></Note>'
             f'<Note guid="{G[32]}"><PlainTextContent>Projektnotiz ohne Bezug</PlainTextContent></Note></Notes>')
    variables = (f'<Variables><Variable guid="{G[20]}" name="Stakeholdergruppe" typeOfVariable="Text"/>'
                 f'<Variable guid="{G[21]}" name="Ebene" typeOfVariable="Text"/>'
                 f'<Variable guid="{G[22]}" name="Interviews" typeOfVariable="Integer"/></Variables>')

    def value(variable: str, element: str, text: str) -> str:
        return f'<VariableValue><VariableRef targetGUID="{variable}"/><{element}>{text}</{element}></VariableValue>'

    cases = (f'<Cases><Case guid="{G[25]}" name="Stadt A">{value(G[20], "TextValue", "Kommune")}'
             f'{value(G[22], "IntegerValue", "3")}{value(G[21], "TextValue", "national")}'
             f'<SourceRef targetGUID="{G[3]}"/></Case></Cases>')
    inner = "<Description>Wichtig für den Workshop.</Description>"
    body = (f'<TextSource guid="{G[3]}" name="K01"><Description>Interview im Rathaus.</Description>'
            f'<PlainTextContent>{text}</PlainTextContent>'
            + selection(G[10], start, start + len("Andockstelle"), G[2], inner=inner)[:-len("</PlainTextSelection>")]
            + f'<NoteRef targetGUID="{G[31]}"/></PlainTextSelection>{value(G[21], "TextValue", "kommunal")}'
            f'</TextSource>')
    path = tmp_path / "projekt.qde"
    path.write_bytes(qde(USERS + CODES + variables + cases + f"<Sources>{body}</Sources>" + notes))
    result, codings = imported(project, path)
    (coding,) = codings["K01"]
    assert coding["memo"] == "Wichtig für den Workshop.\n\nSchönes Zitat." and coding["origin"] == "imported"
    attributes = project.documents()[0]["attributes"]
    # The source's own value wins over the case's; the conflict is reported.
    assert attributes == {"Ebene": "kommunal", "Stakeholdergruppe": "Kommune", "Interviews": "3",
                          "Memo": "Interview im Rathaus."}
    assert any("national" in w for w in result.warnings)
    wohnen = next(c for c in project.codes() if c["name"] == "Wohnen")
    assert wohnen["memo"] == "Mit dem Team klären." and wohnen["definition"] == "Alles zum Wohnungsmarkt."
    assert wohnen["color"] == "#FF0000" and wohnen["guid"] == G[1]
    assert next(c for c in project.codes() if c["name"] == "Größe")["parent"] == wohnen["id"]
    assert (result.memos, result.variables, result.codes) == (3, 3, 2)
    assert any("1 Notiz" in w for w in result.warnings)  # the project note belongs to nothing


def test_codes_the_project_has_are_matched_by_guid_and_left_unchanged(project, tmp_path):
    project.save_codebook(Codebook(codes=[Code("H1", "Wohnen (unser Name)", color="#123456")]), "lead")
    ours = refi_guid(project.codebook().code("H1")).upper()
    text = "B: Die Miete ist zu hoch."
    start = text.index("Miete")
    codes = (f'<CodeBook><Codes><Code guid="{{{ours}}}" name="Housing" isCodable="true"/>'
             f'<Code guid="{G[2]}" name="Neu &amp; Anders" isCodable="true"/></Codes></CodeBook>')
    sels = selection(G[10], start, start + 5, "{" + ours + "}") + selection(G[11], start, start + 5, G[2])
    path = qdpx(tmp_path / "p.qdpx", qde(codes + f"<Sources>{source(G[3], 'K01', sels)}</Sources>"),
                {f"{G[3]}.txt": text.encode()})
    result, codings = imported(project, path)
    assert [c["name"] for c in project.codes()] == ["Wohnen (unser Name)", "Neu & Anders"]
    assert sorted(c["code_id"] for c in codings["K01"]) == ["H1", "neu-anders"]
    assert (result.codes, result.matched_codes) == (2, 1)


def test_importing_the_same_file_twice_adds_nothing_the_second_time(project, tmp_path):
    text = "B: Die Miete ist zu hoch."
    sels = selection(G[10], 3, 12, G[1]) + selection(G[11], 3, 12, G[1])  # the same coding twice
    path = qdpx(tmp_path / "p.qdpx", qde(USERS + CODES + f"<Sources>{source(G[3], 'K01', sels)}</Sources>"),
                {f"{G[3]}.txt": text.encode()})
    first = import_qdpx(project, path, user="importer")
    assert (first.documents, first.codings) == (1, 1) and any("doppelt" in w for w in first.warnings)
    second = import_qdpx(project, path, user="importer")
    assert (second.documents, second.codings) == (0, 0)
    assert any("schon als Dokument" in w for w in second.warnings)
    assert any("waren schon im Projekt" in w for w in second.warnings), second.warnings
    assert len(project.documents()) == 1 and len(project.codings()) == 1 and len(project.codes()) == 2


def test_what_cannot_be_imported_is_counted_in_warnings(project, tmp_path):
    text = "B: Die Miete ist zu hoch."
    at = text.index("Miete")
    present = source(G[3], "Da", selection(G[10], at, at + 5, G[1]) + selection(G[11], at, at + 5, G[9])
                     + selection(G[12], 50, 60, G[1])
                     + f'<PlainTextSelection guid="{G[13]}" startPosition="0" endPosition="2"/>',
                     extra=f'<Coding guid="{G[14]}"><CodeRef targetGUID="{G[1]}"/></Coding>')
    missing = source(G[4], "Weg", selection(G[15], 0, 3, G[1]) + selection(G[16], 3, 5, G[1]))
    empty = source(G[7], "Leer", selection(G[17], 0, 3, G[1]))
    picture = f'<PictureSource guid="{G[8]}" name="Foto" path="internal://x.jpg"/>'
    path = qdpx(tmp_path / "p.qdpx", qde(CODES + f"<Sources>{present}{missing}{empty}{picture}</Sources>"),
                {f"{G[3]}.txt": text.encode(), f"{G[7]}.txt": b"\r\n"})
    result, codings = imported(project, path)
    assert [c["quote"] for c in codings["Da"]] == ["Miete"] and result.documents == 1
    english = result.summary("en")
    for expected in ("'Weg'", "2 selection(s) not imported", "'Leer' is empty", "1 selection(s) could not be placed",
                     "1 coding(s) refer to codes", "1 selection(s) without a code", "1 coding(s) of whole sources",
                     "1 source(s) of other kinds"):
        assert expected in english
    assert len(result.summary("de").splitlines()) == 6 + len(result.warnings)


# -- hostile or broken files -----------------------------------------------------------------------
def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _lying_about_size(path: Path) -> Path:
    """A small archive whose central directory claims a member of 9 GB."""
    _zip(path, {"project.qde": qde(""), "sources/a.txt": b"x" * 100})
    data = bytearray(path.read_bytes())
    at = data.rindex(b"PK\x01\x02")  # the last central directory entry: sources/a.txt
    data[at + 24:at + 28] = (0xFFFFFFF0).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
                  b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]>'
                  b'<Project xmlns="urn:QDA-XML:project:1.0" name="&lol3;"/>')

HOSTILE = {
    "path traversal": (lambda p: _zip(p, {"project.qde": qde(""), "../../etc/evil.txt": b"x"}), "'..'"),
    "absolute path": (lambda p: _zip(p, {"project.qde": qde(""), "/etc/evil.txt": b"x"}), "absolute path"),
    "zip bomb": (lambda p: _zip(p, {"project.qde": qde(""), "sources/a.txt": b"\0" * (20 * 1024 * 1024)}),
                 "decompression bomb"),
    "declared size": (_lying_about_size, "decompression bomb"),
    "entity expansion in archive": (lambda p: _zip(p, {"project.qde": BILLION_LAUGHS}), "entities"),
    "entity expansion bare": (lambda p: _write(p, BILLION_LAUGHS), "entities"),
    "not a zip": (lambda p: _write(p, b"%PDF-1.7 this is a pdf"), "neither a REFI-QDA project archive"),
    "zip without qde": (lambda p: _zip(p, {"sources/a.txt": b"Hallo"}), "no project file"),
    "codebook instead": (lambda p: _write(p, b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"/>'),
                         "not a REFI-QDA project"),
    "broken xml": (lambda p: _zip(p, {"project.qde": b"<Project><Users>"}), "not well-formed"),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_or_broken_files_are_refused_and_change_nothing(project, tmp_path, case):
    make, message = HOSTILE[case]
    path = make(tmp_path / "angriff.qdpx")
    before = project.dump()
    with pytest.raises(InputError, match=message) as error:
        import_qdpx(project, path, user="importer")
    assert "angriff.qdpx" in str(error.value)
    assert project.dump() == before


def test_a_failure_while_storing_rolls_back_everything(project, tmp_path, monkeypatch):
    text = "B: Die Miete ist zu hoch."
    path = qdpx(tmp_path / "p.qdpx", qde(USERS + CODES + f"<Sources>{source(G[3], 'K01', selection(G[10], 3, 8, G[1]))}"
                                                      "</Sources>"), {f"{G[3]}.txt": text.encode()})
    before = project.dump()

    def broken(*args, **kwargs):
        raise StoreError("disk full")

    monkeypatch.setattr(Project, "add_codings", broken)
    with pytest.raises(StoreError):
        import_qdpx(project, path, user="importer")
    assert project.dump() == before


# -- real exports of other programs ----------------------------------------------------------------
def _expected(path: Path) -> dict:
    """Counts computed straight from the file's XML (independently of the importer)."""
    files: dict[str, bytes] = {}
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            files = {name.lower(): archive.read(name) for name in archive.namelist()}
        xml = next(data for name, data in files.items() if name.endswith(".qde"))
    else:
        xml = path.read_bytes()
    root = ET.fromstring(xml)
    users = {u.get("guid").lower(): u.get("name") for u in root.iter(f"{Q}User")}
    present, absent, pairs, coders, memos = [], [], [], set(), 0
    for src in root.iter(f"{Q}TextSource"):
        ref = (src.get("plainTextPath") or "").split("://")[-1].lower()
        data = files.get(f"sources/{ref}", b"")
        if not data.strip(b"\xef\xbb\xbf \r\n"):
            absent.append(src.get("name"))
            continue
        present.append(src.get("name"))
        for sel in src.findall(f"{Q}PlainTextSelection"):
            has_memo = (sel.findtext(f"{Q}Description") or "").strip() or sel.find(f"{Q}NoteRef") is not None
            for coding in sel.findall(f"{Q}Coding"):
                user = (coding.get("creatingUser") or sel.get("creatingUser") or "").lower()
                pairs.append((src.get("guid"), sel.get("startPosition"), sel.get("endPosition"),
                              coding.find(f"{Q}CodeRef").get("targetGUID").lower(), user))
                coders.add(users.get(user, "importer"))
                memos += bool(has_memo or coding.find(f"{Q}NoteRef") is not None)
    referenced = {ref.get("targetGUID").lower() for ref in root.iter(f"{Q}NoteRef")}
    notes = [n for n in root.iter(f"{Q}Note") if n.get("guid").lower() not in referenced]
    code_memos = sum(1 for c in root.iter(f"{Q}Code") if c.find(f"{Q}NoteRef") is not None)
    return {"codes": len(list(root.iter(f"{Q}Code"))), "present": present, "absent": absent,
            "codings": len(set(pairs)), "duplicates": len(pairs) - len(set(pairs)), "users": coders - {"importer"},
            "unattached notes": len(notes), "memos": memos + code_memos,
            "variables": len(list(root.iter(f"{Q}VariableValue")))}


SAMPLE_FILES = sorted(p.name for p in SAMPLES.glob("*") if p.suffix in (".qdpx", ".qde")) if SAMPLES.is_dir() else []


@pytest.fixture(scope="module")
def sample_imports(tmp_path_factory):
    """Each sample imported once into a fresh project (NVivo 12.6 takes a few seconds to segment)."""
    cache: dict[str, tuple[Path, QdpxImportResult]] = {}

    def load(name: str) -> tuple[Path, QdpxImportResult]:
        if name not in cache:
            path = tmp_path_factory.mktemp("sample") / "project.db"
            with Project.create(path) as project:
                cache[name] = (path, import_qdpx(project, SAMPLES / name, user="importer"))
        return cache[name]

    return load


@pytest.mark.skipif(not SAMPLE_FILES, reason=f"{SAMPLES} is absent: the samples come from the shared folder")
@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_every_sample_imports_with_the_counts_its_xml_has(sample_imports, name):
    expected = _expected(SAMPLES / name)
    path, result = sample_imports(name)
    assert result.codes == expected["codes"]
    assert result.documents == len(expected["present"])
    assert result.codings == expected["codings"]
    assert result.users == len(expected["users"])
    assert (result.memos, result.variables) == (expected["memos"], expected["variables"])
    for missing in expected["absent"]:
        assert any(f"„{missing}“" in warning for warning in result.warnings)
    if expected["duplicates"]:
        assert any(f"{expected['duplicates']} Kodierung" in w for w in result.warnings)
    if expected["unattached notes"]:
        assert any(f"{expected['unattached notes']} Notiz" in w for w in result.warnings)
    with Project(path) as project:
        assert len(project.codes()) == expected["codes"]
        assert len(project.codings()) == expected["codings"]
        assert {c["origin"] for c in project.codings()} <= {"imported"}


@pytest.mark.skipif(not (SAMPLES / "nvivo-win-12.6__oltas0517.qdpx").exists(), reason="the NVivo 12.6 sample is absent")
def test_nvivo_offsets_are_read_as_utf16_and_codings_land_on_word_boundaries(sample_imports):
    path, result = sample_imports("nvivo-win-12.6__oltas0517.qdpx")
    with Project(path) as project:
        codings = project.codings()
        texts = {d["id"]: project.document(d["id"])["text"] for d in project.documents()}
    on_boundaries = [at_word_boundary(texts[c["document_id"]], c["start"])
                     and at_word_boundary(texts[c["document_id"]], c["end"]) for c in codings]
    share = sum(on_boundaries) / len(on_boundaries)
    print(f"NVivo 12.6: {sum(on_boundaries)} of {len(on_boundaries)} codings on word boundaries ({share:.1%})")
    assert share >= 0.95
    # The source with selections is detected as UTF-16; the other has none to tell, so code points.
    assert result.position_units == {"videos_10_selected": "UTF-16", "videos_selection": "code points"}
