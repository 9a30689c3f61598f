"""The YAML codebook: what a team lead sees when loading, fixing and saving the shared codebook."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from coding.codebook import (Code, Codebook, CodeSet, dump_codebook, load_codebook, parse_codebook,
                             refi_guid, save_codebook, validate)
from coding.codebook.refi import SECTIONS
from coding.errors import CodebookError, EmptyFileError, EncodingError, InputError

FIXTURE = Path(__file__).parent / "fixtures" / "codebooks" / "ankunftsquartiere.yaml"

# Texts that trip up YAML, XML or Codewerk's REFI description sections.
TRICKY = ["Definition:", "Memo:", "Ankerbeispiele:", *SECTIONS.values(), "Codewerk-ID: X", "\\", "\\Memo:",
          "- ", "  ", "key: value", "# kein Kommentar", "---", "...", "|", ">-", "&anker", "*alias",
          "!!python/object", "<b>&amp;</b>", "]]>", "?>", "-->", "\n", "\n\n", "\r\n", "\r", "\t", " ",
          "ä", "Öß", "😀", "e\u0301", "null", "yes", "~", "'", '"', "{", "[", "%", "@", "\u2028", "\x85"]
# Characters that XML 1.0 cannot hold at all; validate() refuses them, so they are not generated.
_NOT_XML = [chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"] + ["\ufffe", "\uffff"]
_characters = st.characters(blacklist_categories=("Cs",), blacklist_characters=_NOT_XML)
texts = st.lists(st.one_of(st.sampled_from(TRICKY), st.text(_characters, max_size=12)), max_size=6).map("".join)
names = texts.filter(lambda text: text.strip() != "")
ids = st.one_of(st.sampled_from(["H1", "A1.2", "1", "0x10", "yes", "null", "Ä-3", "- a", "#x", "a: b", "😀"]),
                st.text(_characters, min_size=1, max_size=8)).map(str.strip) \
    .filter(lambda text: text and "\n" not in text and "\r" not in text and Code(text, "x").id == text)
colors = st.sampled_from(["#1F77B4", "#abc", "#46aa00", "#FFF"])
guids = st.uuids().flatmap(lambda u: st.sampled_from([str(u), str(u).upper(), "{" + str(u) + "}"]))


@st.composite
def codebooks(draw: st.DrawFn) -> Codebook:
    """Valid codebooks: trees of up to eight codes with every field, and sets over them."""
    code_ids = draw(st.lists(ids, min_size=1, max_size=8, unique=True))
    codes = []
    for i, code_id in enumerate(code_ids):
        parent = draw(st.none() | st.sampled_from(code_ids[:i])) if i else None
        codes.append(Code(
            id=code_id, name=draw(names), parent=parent, color=draw(st.none() | colors),
            definition=draw(texts), anchors=draw(st.lists(texts, max_size=3)), include=draw(texts),
            exclude=draw(texts), memo=draw(texts), codable=draw(st.booleans()), guid=draw(st.none() | guids)))
    set_ids = draw(st.lists(ids, max_size=2, unique=True))
    sets = [CodeSet(id=set_id, name=draw(names), description=draw(texts), guid=draw(st.none() | guids),
                    codes=draw(st.lists(st.sampled_from(code_ids), unique=True, max_size=4)))
            for set_id in set_ids]
    codebook = Codebook(name=draw(texts), description=draw(texts), codes=codes, sets=sets)
    assume(not validate(codebook))
    return codebook


ROUND_TRIP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_valid_codebook_loads_with_all_fields() -> None:
    codebook = load_codebook(FIXTURE)
    assert codebook.name == "Ankunftsquartiere"
    assert [code.id for code in codebook.codes] == ["H1", "H1.1", "A", "A1", "A2"]
    wohnen = codebook.code("H1")
    assert wohnen.color == "#1F77B4"
    assert wohnen.definition.startswith("Aussagen über den Zugang") and "\n" not in wohnen.definition
    assert wohnen.anchors[1] == "Wir haben Häuser, da wohnen 40 Leute in sechs Wohnungen.\nDas Amt weiß das."
    assert wohnen.exclude == "Nachbarschaftskonflikte: siehe H3."
    assert wohnen.memo and wohnen.include
    assert codebook.code("A").codable is False and codebook.code("A1").codable is True
    assert codebook.code("A2").guid == "{1FF58B12-6F6F-4B0C-8BE5-BBDC91F55294}"
    assert [code.id for code in codebook.children("A")] == ["A1", "A2"]
    assert [code.id for code in codebook.path("H1.1")] == ["H1", "H1.1"]
    assert [code.id for code in codebook.roots()] == ["H1", "A"]
    assert codebook.sets == [
        CodeSet("S1", "Für den Workshop", "Codes, die in Berlin diskutiert werden.", ["H1", "A1"])]
    assert len(codebook) == 5


def test_unknown_code_id_says_which() -> None:
    with pytest.raises(KeyError, match="'H9'"):
        load_codebook(FIXTURE).code("H9")


def _problems(tmp_path: Path, text: str) -> list:
    path = tmp_path / "codebook.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    with pytest.raises(CodebookError) as caught:
        load_codebook(path)
    assert str(path) in str(caught.value)
    return caught.value.problems


@pytest.mark.parametrize("body, line, expected", [
    ("  - id: H1\n    name: Wohnen\n    defintion: Zugang zu Wohnraum\n", 5, "did you mean 'definition'"),
    ("  - id: H1\n    name: Wohnen\n    codable: ja\n", 5, "codable must be true or false"),
    ("  - id: H1\n    name: Wohnen\n    anchors: Nur ein Satz\n", 5, "anchors must be a list"),
    ("  - id: H1\n    name: 2020\n", 4, 'put it in quotes: name: "2020"'),
    ("  - id: H1\n    name: Wohnen\n  - id: H1\n    name: Arbeit\n", 5, "used by another code (first at line 3)"),
    ("  - id: H1\n    name: Wohnen\n    parent: H9\n", 5, "parent 'H9' is not a code"),
    ("  - id: H1\n    name: Wohnen\n    parent: H2\n  - id: H2\n    name: Miete\n    parent: H1\n",
     5, "cycle: H1 -> H2 -> H1"),
    ("  - id: H1\n    name: Wohnen\n    parent: H1\n", 5, "its own parent"),
    ("  - id: H1\n    name: Wohnen\n    color: blau\n", 5, "is not written #RRGGBB"),
    ("  - id: H1\n    name: Wohnen\n    color: #1F77B4\n", 5, "write the colour in quotes"),
    ("  - id: H1\n    name: \"  \"\n", 4, "has no name"),
    ("  - name: Wohnen\n", 3, "has no id"),
    ("  - id: H1\n    name: Wohnen\n    anchors: [ja, 3]\n", 5, 'put it in quotes: anchors item 2: "3"'),
    ("  - id: H1\n    name: Wohnen\n    name: Arbeit\n", 5, "the key 'name' appears twice"),
    ("  - id: H1\n    name: Wohnen\nsets:\n  - id: S1\n    name: Workshop\n    codes: [H1,\n      H7]\n",
     9, "names code 'H7', which is not in the codebook"),
    ("  - id: H1\n    name: Wohnen\n    definition: Aussagen zu: Wohnen\n", 5, "must be put in quotes"),
    ("  - id: H1\n    name: Wohnen\n    guid: keine-guid\n", 5, "is not a GUID"),
    ("  - id: H1\n    name: \"Wohnen\\a\"\n", 4, "control character U+0007"),
    ("  - id: H1\n    name: !!python/object:os.system x\n", 4, "could not determine a constructor"),
])
def test_each_problem_is_reported_at_its_line(tmp_path: Path, body: str, line: int, expected: str) -> None:
    problems = _problems(tmp_path, "name: Test\ncodes:\n" + body)
    assert any(expected in str(p) and p.line == line for p in problems), problems


def test_several_problems_are_all_reported_in_line_order(tmp_path: Path) -> None:
    problems = _problems(tmp_path, """
        name: Test
        codes:
          - id: H1
            name: Wohnen
            defintion: Zugang
          - id: H2
            name: ""
            color: rot
          - id: H1
            name: Doppelt
            parent: H9
        ausgabe: 2
        """)
    assert [p.line for p in problems] == [5, 7, 8, 9, 11, 12]
    assert problems[0].code_id == "H1" and problems[2].code_id == "H2"
    assert "allowed keys: name, description, codes, sets" in str(problems[-1])


def test_yaml_syntax_error_names_its_line(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "codes:\n  - id: H1\n    name: [Wohnen\n  - id: H2\n")
    assert len(problems) == 1 and problems[0].line in (3, 4) and "YAML syntax" in problems[0].message


@pytest.mark.parametrize("content, error, expected", [
    (b"", EmptyFileError, "empty"),
    (b"# nur ein Kommentar\n", EmptyFileError, "only comments"),
    (b"- H1\n- H2\n", CodebookError, "a codebook is a mapping"),
    (b"name: Wohnen \xe4\n", EncodingError, "not UTF-8"),
])
def test_unusable_files_get_a_clear_error_naming_the_file(tmp_path: Path, content: bytes, error: type,
                                                          expected: str) -> None:
    path = tmp_path / "codebook.yaml"
    path.write_bytes(content)
    with pytest.raises(error, match=expected) as caught:
        load_codebook(path)
    assert str(path) in str(caught.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such codebook file") as caught:
        load_codebook(tmp_path / "fehlt.yaml")
    assert "fehlt.yaml" in str(caught.value)


def test_text_is_normalised_on_load(tmp_path: Path) -> None:
    path = tmp_path / "codebook.yaml"
    path.write_bytes('\ufeffcodes:\r\n  - id: " H1 "\r\n    name: "Cafe\u0301 "\r\n    memo: "a\\r\\nb\\rc"\r\n'
                     .encode("utf-8"))
    code = load_codebook(path).codes[0]
    assert (code.id, code.name, code.memo) == ("H1", "Café", "a\nb\nc")


def test_codes_follow_their_parents_after_loading() -> None:
    codebook = parse_codebook("codes:\n  - {id: A1, name: x, parent: A}\n  - {id: B, name: y}\n  - {id: A, name: z}\n")
    assert [code.id for code in codebook.codes] == ["B", "A", "A1"]


def test_dump_is_readable_and_leaves_defaults_out() -> None:
    text = dump_codebook(load_codebook(FIXTURE))
    assert text.startswith("name: Ankunftsquartiere\ndescription:")
    assert "  - id: A\n    name: Art der Aussage\n    codable: false\n" in text
    assert "  - id: A1\n    name: Herausforderung\n    parent: A\n" in text
    assert "Das Amt weiß das." in text and "😀" in text
    assert "    codes: [H1, A1]\n" in text
    assert "codable: true" not in text and "memo: ''" not in text


def test_guid_is_stable_and_own_guid_wins() -> None:
    code = Code("H1", "Wohnen")
    assert refi_guid(code) == refi_guid(Code("H1", "Wohnen und Miete"))
    assert refi_guid(code) != refi_guid(Code("H2", "Wohnen"))
    assert refi_guid(code) != refi_guid(CodeSet("H1", "Wohnen"))
    assert refi_guid(Code("H1", "x", guid="1FF58B12-6F6F-4B0C-8BE5-BBDC91F55294")) == \
        "1FF58B12-6F6F-4B0C-8BE5-BBDC91F55294"


def test_validate_names_wrong_types_of_a_codebook_built_in_python() -> None:
    codebook = Codebook(codes=[Code("H1", "Wohnen", anchors="ein Satz"), Code("", "Leer")],  # type: ignore[arg-type]
                        sets=[CodeSet("S1", "Set", codes=["H2"])])
    messages = [str(p) for p in validate(codebook)]
    assert any("anchors must be a list" in m for m in messages)
    assert any("has no id" in m for m in messages)
    assert any("names code 'H2'" in m for m in messages)


def test_save_refuses_an_invalid_codebook_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "codebook.yaml"
    with pytest.raises(CodebookError, match="parent 'H9'"):
        save_codebook(Codebook(codes=[Code("H1", "Wohnen", parent="H9")]), path)
    assert list(tmp_path.iterdir()) == []


def test_save_then_load_gives_the_same_codebook(tmp_path: Path) -> None:
    codebook = load_codebook(FIXTURE)
    save_codebook(codebook, tmp_path / "codebook.yaml")
    assert load_codebook(tmp_path / "codebook.yaml") == codebook
    assert [p.name for p in tmp_path.iterdir()] == ["codebook.yaml"]


@ROUND_TRIP
@given(codebooks())
def test_dump_then_load_gives_the_same_codebook(codebook: Codebook) -> None:
    text = dump_codebook(codebook)
    assert parse_codebook(text) == codebook
    assert dump_codebook(parse_codebook(text)) == text
