"""REFI-QDA codebooks (.qdc): what MAXQDA, ATLAS.ti or NVivo users get from us, and what we take from them."""
from __future__ import annotations

import functools
import re
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given
from lxml import etree

from coding.codebook import (Code, Codebook, CodeSet, dump_codebook, export_qdc, import_qdc, load_codebook,
                             parse_codebook, refi_guid, save_codebook)
from coding.codebook.refi import code_description, parse_code_description
from coding.errors import CodebookError, InputError

from tests.test_codebook_yaml import FIXTURE, ROUND_TRIP, codebooks

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
ATLAS = SHARED / "refi" / "samples" / "atlasti-win-23.4__codebook__from-requal-test.qdc"
NS = {"c": "urn:QDA-XML:codebook:1.0"}


@functools.cache
def _load_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SHARED / "refi" / "xsd" / "Codebook.xsd")))


def _valid(qdc: bytes) -> etree._Element:
    """The parsed export, after checking it against the official Codebook.xsd."""
    if not SHARED.is_dir():
        pytest.skip("../shared is absent: REFI schemas and samples come from the shared folder")
    root = etree.fromstring(qdc)
    assert _load_schema().validate(root), _load_schema().error_log
    return root


def _import(qdc: bytes, name: str = "codebook.qdc") -> Codebook:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(qdc)
        return import_qdc(path)


def test_export_validates_and_nests_codes_like_the_tree() -> None:
    root = _valid(export_qdc(load_codebook(FIXTURE)))
    schrott = root.find(".//c:Code[@name='Wohnen und Wohnungsmarkt']/c:Code", NS)
    assert schrott.get("name") == "Schrottimmobilien" and schrott.get("color") == "#abc"
    art = root.find("c:Codes/c:Code[@name='Art der Aussage']", NS)
    assert art.get("isCodable") == "false" and art.get("color") is None
    assert [code.get("name") for code in art.findall("c:Code", NS)] == ["Herausforderung", "Gelingensbedingung 😀"]
    assert root.find(".//c:Code[@name='Gelingensbedingung 😀']", NS).get("guid") == \
        "{1FF58B12-6F6F-4B0C-8BE5-BBDC91F55294}"
    members = root.findall("c:Sets/c:Set/c:MemberCode", NS)
    assert [m.get("guid") for m in members] == [refi_guid(load_codebook(FIXTURE).code(i)) for i in ("H1", "A1")]


def test_description_is_readable_in_another_program() -> None:
    description = code_description(load_codebook(FIXTURE).code("H1"))
    assert description.startswith("Definition:\nAussagen über den Zugang")
    assert "Ankerbeispiele:\n- Die Leute finden hier schlicht keine Wohnung.\n- Wir haben Häuser," in description
    assert "\n  Das Amt weiß das.\n" in description
    assert "Kodierregel – einschließen:\nWohnungssuche" in description
    assert "Kodierregel – ausschließen:\nNachbarschaftskonflikte: siehe H3." in description
    assert description.endswith("Memo:\nMit H3 abgleichen, wenn es um Lärm geht.\n\nCodewerk-ID: H1")


def test_texts_that_look_like_headings_survive() -> None:
    code = Code("H1", "x", definition="Memo:\n\\Memo:\n\nCodewerk-ID: X", anchors=["- a\nMemo:", "  Memo:", ""],
                memo="Definition:")
    fields, code_id = parse_code_description(code_description(code))
    assert code_id == "H1"
    assert Code(code_id, "x", **fields) == code


def test_sets_are_left_out_when_there_are_none() -> None:
    root = _valid(export_qdc(Codebook(codes=[Code("H1", "Wohnen")])))
    assert root.find("c:Sets", NS) is None


def test_reexport_keeps_every_guid_even_after_renames() -> None:
    codebook = load_codebook(FIXTURE)
    first = etree.fromstring(export_qdc(codebook))
    codebook.code("H1").name = "Wohnen"
    codebook.sets[0].name = "Workshop Berlin"
    again = etree.fromstring(export_qdc(_import(export_qdc(codebook))))
    guids = [element.get("guid") for element in first.iter("{*}Code", "{*}Set")]
    assert guids == [element.get("guid") for element in again.iter("{*}Code", "{*}Set")]
    assert len(set(guids)) == len(guids)


def test_codebook_without_codes_is_refused() -> None:
    with pytest.raises(CodebookError, match="at least one code"):
        export_qdc(Codebook(name="leer"))


@ROUND_TRIP
@given(codebooks())
def test_yaml_to_qdc_to_yaml_is_identical(codebook: Codebook) -> None:
    yaml_text = dump_codebook(codebook)
    qdc = export_qdc(parse_codebook(yaml_text))
    _valid(qdc)
    imported = _import(qdc)
    assert imported == codebook
    assert dump_codebook(imported) == yaml_text


def test_atlas_ti_codebook_imports_and_reexports_valid() -> None:
    if not ATLAS.is_file():
        pytest.skip("../shared is absent: REFI schemas and samples come from the shared folder")
    codebook = load_codebook(ATLAS)
    code = codebook.code("code1")
    assert (code.name, code.color, code.definition) == ("code1", "#46AA00", "description")
    assert code.guid == "1FF58B12-6F6F-4B0C-8BE5-BBDC91F55294"
    [code_set] = codebook.sets
    assert (code_set.name, code_set.description, code_set.codes) == ("code group 1", "kategorie 1", ["code1"])
    root = _valid(export_qdc(codebook))
    # ATLAS.ti recognises its own code and group again by their GUIDs.
    assert root.find(".//c:Code", NS).get("guid") == "1FF58B12-6F6F-4B0C-8BE5-BBDC91F55294"
    assert root.find(".//c:Set", NS).get("guid") == "ECA18D76-2B8B-4F26-BC1D-19ECA19FB3F0"
    assert _import(export_qdc(codebook)) == codebook


FOREIGN = """<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="MAXQDA 2024">
  <Codes>
    <Code guid="{AAAAAAAA-0000-4000-8000-000000000001}" name="Wohnen &amp; Arbeit" isCodable="true">
      <Description>Alles zu Wohnen.
Memo:
zweite Zeile</Description>
      <Code guid="aaaaaaaa-0000-4000-8000-000000000002" name="Wohnen – Arbeit" isCodable="false"/>
    </Code>
    <Code guid="AAAAAAAA-0000-4000-8000-000000000003" name="Öffentlicher Raum" isCodable="1"/>
  </Codes>
  <Sets>
    <Set guid="BBBBBBBB-0000-4000-8000-000000000001" name="Gruppe">
      <MemberCode guid="aaaaaaaa-0000-4000-8000-000000000001"/>
      <MemberCode guid="{AAAAAAAA-0000-4000-8000-000000000003}"/>
    </Set>
  </Sets>
</CodeBook>
"""


def test_codes_from_other_programs_get_readable_unique_ids() -> None:
    codebook = _import(FOREIGN.encode("utf-8"), "Projekt X.qdc")
    assert codebook.name == "Projekt X"
    assert [(c.id, c.parent, c.codable) for c in codebook.codes] == [
        ("wohnen-arbeit", None, True), ("wohnen-arbeit-2", "wohnen-arbeit", False),
        ("oeffentlicher-raum", None, True)]
    assert codebook.code("wohnen-arbeit").definition == "Alles zu Wohnen.\nMemo:\nzweite Zeile"
    assert codebook.sets[0].codes == ["wohnen-arbeit", "oeffentlicher-raum"]
    reexported = etree.fromstring(export_qdc(codebook))
    assert [c.get("guid") for c in reexported.iter("{*}Code")] == [
        "{AAAAAAAA-0000-4000-8000-000000000001}", "aaaaaaaa-0000-4000-8000-000000000002",
        "AAAAAAAA-0000-4000-8000-000000000003"]


def test_set_naming_an_unknown_code_is_reported_with_the_file() -> None:
    broken = FOREIGN.replace('<MemberCode guid="aaaaaaaa-0000-4000-8000-000000000001"/>',
                             '<MemberCode guid="cccccccc-0000-4000-8000-000000000009"/>')
    with pytest.raises(CodebookError, match="not in the codebook") as caught:
        _import(broken.encode("utf-8"))
    assert "codebook.qdc" in str(caught.value) and caught.value.problems[0].line == 14


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE CodeBook [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>
  <Code guid="AAAAAAAA-0000-4000-8000-000000000001" name="&lol9;" isCodable="true"/>
</Codes></CodeBook>
"""


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_entity_expansion_is_refused_quickly(encoding: str) -> None:
    started = time.monotonic()
    data = BILLION_LAUGHS.replace('"1.0"?>', f'"1.0" encoding="{encoding}"?>', 1).encode(encoding)
    with pytest.raises(InputError, match="declares XML entities") as caught:
        _import(data, "lachen.qdc")
    assert "lachen.qdc" in str(caught.value)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("content, expected", [
    (b"<CodeBook><Codes><Code></CodeBook>", "not well-formed XML (line 1"),
    (b'<CodeBook origin="Kinder & Familie"/>', "not well-formed XML (line 1"),  # an unescaped "&", not an attack
    (b'<Project xmlns="urn:QDA-XML:project:1.0"/>', "export the codebook (.qdc) instead"),
    (b"", "empty"),
])
def test_unusable_qdc_files_are_named(content: bytes, expected: str) -> None:
    with pytest.raises(InputError, match=re.escape(expected)) as caught:
        _import(content, "fremd.qdc")
    assert "fremd.qdc" in str(caught.value)


def test_save_with_qdc_suffix_writes_refi(tmp_path: Path) -> None:
    codebook = Codebook("Test", codes=[Code("H1", "Wohnen", anchors=["Zitat"])],
                        sets=[CodeSet("S1", "Alle", codes=["H1"])])
    save_codebook(codebook, tmp_path / "export.qdc")
    assert load_codebook(tmp_path / "export.qdc") == codebook
