"""What a researcher sees after importing a transcript: speakers, roles, what each one says, timestamps,
header metadata, and text that reads the same whatever encoding or format it came in.

Fixtures: tests/fixtures/transcripts (text files written by make_fixtures.py, .docx built at test time
by docx_builders.py). The contract: ARCHITECTURE.md, "Transcripts and offsets".
"""
from __future__ import annotations

import hashlib
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from coding import read_transcript
from tests.fixtures.transcripts import checks, docx_builders, make_fixtures

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "transcripts"
content, label_before, words = checks.content, checks.label_before, checks.words


def read(name: str):
    path = FIXTURES / name
    transcript = read_transcript(path)
    checks.assert_well_formed(transcript, path)
    return transcript


def assert_turns(transcript, expected):
    """expected: (speaker, role, timestamp, first words, last words) per turn, in order."""
    got = [(t.speaker, t.role) for t in transcript.turns]
    assert got == [(speaker, role) for speaker, role, *_ in expected]
    for turn, (speaker, _, timestamp, first, last) in zip(transcript.turns, expected):
        said = content(transcript, turn)
        assert said.startswith(first), f"{speaker}: {said[:60]!r} should begin with {first!r}"
        assert said.endswith(last), f"{speaker}: {said[-60:]!r} should end with {last!r}"
        if timestamp is None:
            assert turn.timestamp is None, f"{speaker}: {turn.timestamp}"
        else:
            assert turn.timestamp == pytest.approx(timestamp, abs=1e-6), f"{speaker}: {said[:40]!r}"


def test_committed_fixtures_match_their_generator():
    """The files in the folder are exactly what make_fixtures.py writes (nobody hand-edited bytes)."""
    for name, data in make_fixtures.fixture_bytes().items():
        assert (FIXTURES / name).read_bytes() == data, f"{name} differs: run make_fixtures.py"


# ------------------------------------------------------------------------------------ f4 plain text
KESSLER = [
    ("I", "interviewer", 14.2, "Vielen Dank, dass Sie", "was Ihre Aufgabe hier im Amt ist."),
    ("B", "respondent", 83.4, "Ja, gerne. Also, äh,", "das Quartiersmanagement in der Weststadt."),
    ("I", "interviewer", 91.0, "Die Weststadt ist ja", "Wie hat sich das aus Ihrer Sicht entwickelt?"),
    # Two paragraphs, each with an f4 stamp at its end: the turn keeps the first one.
    ("B", "respondent", 161.0, "Das ging sehr schnell.", "Das fragen mich die Kolleginnen jede Woche."),
    ("I", "interviewer", 202.5, "Und wie ist das Verhältnis", "zu den anderen Ämtern?"),
    ("B", "respondent", 250.8, "Hm, gemischt (lacht).", "Das ist schon frustrierend, ehrlich gesagt."),
    ("I", "interviewer", 253.0, "Was würden Sie sich wünschen?", "Was würden Sie sich wünschen?"),
    ("B", "respondent", 279.6, "Eine Stelle, die nicht", "genauso wie der Straßenbau."),
]
KESSLER_METADATA = {
    "title": "Interview K07 – Stadtverwaltung Hollerbrück, Amt für Integration",
    "Datum": "14.11.2025",
    "Ort": "Rathaus Hollerbrück, Raum 2.14",
    "Interviewerin": "Dr. Miriam Kessler",
}
KESSLER_FILES = [
    ("f4_utf8.txt", "utf-8"),
    ("f4_utf8_bom_crlf.txt", "utf-8-sig"),
    ("f4_cp1252.txt", "cp1252"),
]


@pytest.mark.parametrize("name,encoding", KESSLER_FILES)
def test_f4_turns_roles_and_timestamps(name, encoding):
    transcript = read(name)
    assert transcript.format == "txt"
    assert transcript.encoding == encoding
    assert_turns(transcript, KESSLER)
    for turn in transcript.turns:
        assert label_before(transcript, turn) == f"{turn.speaker}:"


@pytest.mark.parametrize("name,encoding", KESSLER_FILES)
def test_f4_special_characters_survive_every_encoding(name, encoding):
    transcript = read(name)
    for expected in ["„Durchgangsviertel“", "das – ja, im Grunde – von null", "2,4 Millionen €",
                     "Gartenstraße", "Ausländerbehörde", "Ämtern", "heißt", "gibt's"]:
        assert expected in transcript.text, expected
    assert "Ã" not in transcript.text and "\ufffd" not in transcript.text  # no mojibake, no replacement


def test_f4_unlabelled_paragraph_continues_the_answer():
    transcript = read("f4_utf8.txt")
    answer = content(transcript, transcript.turns[3])
    assert "viele aus Syrien" in answer
    assert "Das heißt, wir mussten das – ja, im Grunde – von null aufbauen." in answer
    assert "\n" in answer  # both paragraphs, as the source has them
    assert "#" not in answer


def test_f4_header_is_metadata_not_turns():
    transcript = read("f4_utf8.txt")
    assert {k: transcript.metadata.get(k) for k in KESSLER_METADATA} == KESSLER_METADATA
    # The header stays in the text (the document reads like its source) but lies before every turn.
    assert transcript.text.startswith(KESSLER_METADATA["title"] + "\n")
    header_end = transcript.text.index("Interviewerin: Dr. Miriam Kessler") + len("Interviewerin: Dr. Miriam Kessler")
    assert transcript.turns[0].start > header_end
    assert len(transcript.turns) == 8


def test_path_may_be_a_string():
    path = FIXTURES / "f4_utf8.txt"
    assert read_transcript(str(path)).text == read_transcript(path).text


def test_same_interview_in_every_encoding_reads_identically():
    texts = {name: read(name) for name, _ in KESSLER_FILES}
    reference = texts["f4_utf8.txt"]
    for name, transcript in texts.items():
        assert transcript.text == reference.text, name
        assert transcript.metadata == reference.metadata, name
        assert [(t.speaker, t.start, t.end, t.timestamp) for t in transcript.turns] == [
            (t.speaker, t.start, t.end, t.timestamp) for t in reference.turns
        ], name
    assert len({t.sha256 for t in texts.values()}) == 3  # the hash is of the bytes, not the text


def test_utf16_export_reads_like_utf8(tmp_path):
    """Word's "Unicode text" export is UTF-16 with a BOM; ARCHITECTURE.md lists utf-16."""
    path = tmp_path / "interview_unicode.txt"
    path.write_bytes(make_fixtures.F4_KESSLER.replace("\n", "\r\n").encode("utf-16"))
    transcript = read_transcript(path)
    checks.assert_well_formed(transcript, path)
    assert transcript.encoding == "utf-16"
    assert transcript.text == read("f4_utf8.txt").text


GENOSSENSCHAFT = [
    ("Interviewerin", "interviewer", 178.0, "Sie sind ja als Genossenschaft", "der letzten Jahre?"),
    ("Befragte", "respondent", 197.2, "Also, zunächst mal,", "alles auf einmal."),
    ("Interviewerin", "interviewer", 200.9, "Wie sind Sie damit", "umgegangen?"),
    # The first paragraph has no stamp; the one ending the second paragraph is the turn's first.
    ("Befragte", "respondent", 285.1, "Wir haben eine Mieterberaterin", "keine, die ich kenne."),
    ("Interviewerin", "interviewer", 290.0, "Und die Nachbarschaft?", "Gab es Konflikte?"),
    ("Befragte", "respondent", 358.3, "Ähm, ja, natürlich.", "gemeinsames Gärtnern, solche Sachen."),
]


@pytest.mark.parametrize("name", ["f4_latin1.txt", "f4_nfd.txt"])
def test_latin1_and_decomposed_utf8(name):
    transcript = read(name)
    assert_turns(transcript, GENOSSENSCHAFT)
    assert transcript.metadata.get("title") == "Interview K12 Wohnungsbaugenossenschaft Mühlbergen eG"
    assert transcript.metadata.get("Datum") == "02.12.2025"
    for expected in ["größte", "Lärchenstraße", "Übersetzer", "Ärger", "schärfer", "Müll", "Türkisch"]:
        assert expected in transcript.text, expected
    assert "Was uns schwerfällt" in content(transcript, transcript.turns[3])


def test_latin1_encoding_is_reported():
    # For umlauts and ß alone, latin-1 and cp1252 are the same bytes, so either name is right.
    assert read("f4_latin1.txt").encoding in ("latin-1", "cp1252")
    assert read("f4_nfd.txt").encoding == "utf-8"


def test_decomposed_umlauts_come_out_composed():
    raw = (FIXTURES / "f4_nfd.txt").read_bytes().decode("utf-8")
    assert "u\u0308" in raw  # the fixture really is decomposed
    nfd, latin1 = read("f4_nfd.txt"), read("f4_latin1.txt")
    assert nfd.text == latin1.text
    assert nfd.metadata == latin1.metadata
    assert [t.speaker for t in nfd.turns] == [t.speaker for t in latin1.turns]
    assert "u\u0308" not in nfd.text and "ü" in nfd.text


# ------------------------------------------------------------------------ other label conventions
def test_named_speakers_with_bracket_and_paren_timestamps():
    transcript = read("named_speakers.txt")
    assert_turns(transcript, [
        ("Interviewer", "interviewer", 197.0, "Sie beide arbeiten", "Wie teilen Sie sich die Arbeit auf?"),
        ("Herr Öztürk", "respondent", 209.0, "Also ich bin eher draußen,", "den großen Konsum und die Post."),
        ("Frau Dr. Lange", "respondent", 242.0, "Und ich sitze, äh,", "in der Steuerungsgruppe mit dem Jobcenter."),
        ("Interviewer", "interviewer", 271.0, "Wo merken Sie", "dass die Strukturen fehlen?"),
        ("Herr Öztürk", "respondent", 280.0, "Bei den Schulen. Ganz klar.", "Klingt klein, ist aber groß."),
        ("Frau Dr. Lange", "respondent", 337.0, "Da muss ich ein bisschen", "das ist keine Struktur, das ist Glück."),
    ])
    assert "Was wir dann machen, ist ganz einfach." in content(transcript, transcript.turns[4])
    assert label_before(transcript, transcript.turns[2]) == "Frau Dr. Lange:"
    assert transcript.metadata.get("title") == "Gespräch Quartiersmanagement Rödenstadt-Nord"
    assert transcript.metadata.get("Datum") == "03.02.2026"
    assert transcript.metadata.get("Ort") == "Stadtteilbüro Rödenstadt-Nord"


def test_group_interview_with_numbered_respondents():
    transcript = read("multi_respondent.txt")
    assert_turns(transcript, [
        ("I", "interviewer", 9.1, "Sie sind beide Stadtteilmütter", "Wie sind Sie dazu gekommen?"),
        ("B1", "respondent", 31.7, "Über meine Nachbarin, eigentlich.", "und dann war ich drin."),
        ("B2", "respondent", 52.3, "Bei mir war es das Familienzentrum.", "jeden Donnerstag."),
        ("I", "interviewer", 55.0, "Und was machen Sie konkret?", "Und was machen Sie konkret?"),
        ("B1", "respondent", 84.6, "Wir gehen zu den Familien", "das gelbe Heft."),
        ("B2", "respondent", 118.0, "Und wir begleiten zu Ämtern.", "finden das nicht so gut. (lacht)"),
        ("I", "interviewer", 120.4, "Bekommen Sie dafür Geld?", "Bekommen Sie dafür Geld?"),
        ("B2", "respondent", 134.9, "Eine Aufwandsentschädigung, ja.", "wie es weitergeht."),
        ("B1", "respondent", 146.5, "Das ist das Problem.", "ist das weg."),
    ])
    assert transcript.metadata == {}  # no header block: the first line is already a turn


def test_interviewpartner_label():
    transcript = read("ip_interview.txt")
    assert_turns(transcript, [
        ("Interviewer", "interviewer", 760.7, "Sie sind beim Landkreis", "für die Kommunen?"),
        ("IP", "respondent", 802.0, "Die Wohnsitzauflage soll", "dreimal am Tag."),
        ("Interviewer", "interviewer", 806.3, "Und wie reagieren", "darauf?"),
        ("IP", "respondent", 845.8, "Ganz unterschiedlich.", "Und dann passiert eben nichts."),
        ("Interviewer", "interviewer", 847.1, "Was bräuchte es?", "Was bräuchte es?"),
        # A colon inside the speech does not make a new speaker.
        ("IP", "respondent", 871.5, "Ehrlich gesagt: mehr Spielraum.", "mit sehr viel Papier."),
    ])
    assert transcript.metadata == {}


def test_bracketed_names_without_timestamps():
    transcript = read("bracket_names.txt")
    assert_turns(transcript, [
        ("Interviewerin", "interviewer", None, "Okay, (.) die Aufnahme läuft.", "Wie viele Leute sind da aktiv?"),
        ("Jana Roth", "respondent", None, "Im Moment, äh,", "auch enttäuscht worden."),
        ("Interviewerin", "interviewer", None, "Enttäuscht wovon?", "Enttäuscht wovon?"),
        ("Jana Roth", "respondent", None, "Von der Verwaltung, hauptsächlich.", "da müssen wir was ändern."),
        ("Interviewerin", "interviewer", None, "Was würde das Ehrenamt", "stärken?"),
        ("Jana Roth", "respondent", None, "Räume. Klingt banal.", "als jeder Fördertopf."),
    ])
    assert "Inzwischen gibt es eine Ehrenamtskoordinatorin" in content(transcript, transcript.turns[3])
    assert label_before(transcript, transcript.turns[1]) == "[Jana Roth]"


def test_timestamp_standing_before_the_label(tmp_path):
    """Some tools write the stamp first (`[00:03:17] Name: ...`); the turn is the same."""
    path = tmp_path / "stamp_first.txt"
    path.write_text(
        "[00:03:17] Interviewer: Wie kamen Sie nach Kerbstedt?\n\n"
        "[00:03:24] Frau Dr. Lange: Über eine Stellenanzeige, ganz klassisch.\n",
        encoding="utf-8",
    )
    transcript = read_transcript(path)
    checks.assert_well_formed(transcript, path)
    assert [(t.speaker, t.role, t.timestamp) for t in transcript.turns] == [
        ("Interviewer", "interviewer", 197.0),
        ("Frau Dr. Lange", "respondent", 204.0),
    ]
    assert content(transcript, transcript.turns[1]) == "Über eine Stellenanzeige, ganz klassisch."


def test_a_name_that_speaks_once_is_still_a_speaker(tmp_path):
    path = tmp_path / "kurz_dabei.txt"
    path.write_text(
        "I: Wer ist heute alles dabei?\n\n"
        "B: Ich und, äh, meine Kollegin aus dem Jobcenter kommt gleich noch.\n\n"
        "Frau Dr. Lange: Guten Tag, ich bin nur kurz da, ich muss um elf wieder weg.\n\n"
        "I: Danke, dann fangen wir an.\n",
        encoding="utf-8",
    )
    transcript = read_transcript(path)
    checks.assert_well_formed(transcript, path)
    assert [(t.speaker, t.role) for t in transcript.turns] == [
        ("I", "interviewer"), ("B", "respondent"), ("Frau Dr. Lange", "respondent"), ("I", "interviewer"),
    ]
    assert content(transcript, transcript.turns[2]) == "Guten Tag, ich bin nur kurz da, ich muss um elf wieder weg."


def test_a_short_first_answer_is_a_turn_not_a_header(tmp_path):
    """`B: Ja.` looks like `Key: value`, but B is a speaker label, never a header key."""
    path = tmp_path / "kurz.txt"
    # An excerpt that starts mid-conversation: B2 agrees briefly, then the interviewer turns to B1.
    path.write_text(
        "B2: Ja, genau.\n\nI: Und wie ging es dann weiter?\n\nB1: Dann haben wir, äh, einfach weitergemacht.\n",
        encoding="utf-8",
    )
    transcript = read_transcript(path)
    checks.assert_well_formed(transcript, path)
    assert [t.speaker for t in transcript.turns] == ["B2", "I", "B1"]
    assert content(transcript, transcript.turns[0]) == "Ja, genau."
    assert transcript.metadata == {}


def test_names_without_a_known_interviewer_have_no_role(tmp_path):
    path = tmp_path / "two_names.txt"
    path.write_text(
        "Herr Öztürk: Wir haben das Stadtteilfest dieses Jahr selbst organisiert.\n\n"
        "Frau Dr. Lange: Und die Stadt hat nur die Bänke gestellt. (lacht)\n",
        encoding="utf-8",
    )
    transcript = read_transcript(path)
    checks.assert_well_formed(transcript, path)
    assert [(t.speaker, t.role) for t in transcript.turns] == [("Herr Öztürk", None), ("Frau Dr. Lange", None)]


@pytest.mark.parametrize("stamp,seconds", [
    ("#00:03:17-2#", 197.2), ("#01:02:03-0#", 3723.0), ("[00:03:17]", 197.0), ("(00:04:02)", 242.0),
])
def test_timestamp_notations_become_seconds(tmp_path, stamp, seconds):
    path = tmp_path / "stamp.txt"
    path.write_text(f"I: Wie geht es weiter? {stamp}\n\nB: Das weiß noch keiner.\n", encoding="utf-8")
    transcript = read_transcript(path)
    checks.assert_well_formed(transcript, path)
    assert transcript.turns[0].timestamp == pytest.approx(seconds)
    assert transcript.turns[1].timestamp is None
    assert content(transcript, transcript.turns[0]) == "Wie geht es weiter?"


# --------------------------------------------------------------------------------------------- Word
def test_docx_bold_labels_split_runs_and_header(tmp_path):
    path = docx_builders.build_bold_labels(tmp_path)
    transcript = read_transcript(path)
    checks.assert_well_formed(transcript, path)
    assert transcript.format == "docx"
    assert transcript.encoding is None
    assert_turns(transcript, [
        (speaker, "interviewer" if speaker == "I" else "respondent", stamp, first, last)
        for speaker, _, first, last, stamp in docx_builders.BOLD_LABELS_TURNS
    ])
    for turn, (_, label, *_rest) in zip(transcript.turns, docx_builders.BOLD_LABELS_TURNS):
        assert label_before(transcript, turn) == label
    assert "Integrationskurse" in transcript.text and "Schillerstraße" in transcript.text
    assert "Was auch hilft, sind die Schulsozialarbeiterinnen." in content(transcript, transcript.turns[3])
    assert {k: transcript.metadata.get(k) for k in docx_builders.BOLD_LABELS_METADATA} == (
        docx_builders.BOLD_LABELS_METADATA
    )
    assert transcript.text.startswith(docx_builders.BOLD_LABELS_TITLE + "\n")


def test_docx_speaker_table(tmp_path):
    path = docx_builders.build_speaker_table(tmp_path)
    transcript = read_transcript(path)
    checks.assert_well_formed(transcript, path)
    rows = docx_builders.SPEAKER_TABLE_ROWS + [docx_builders.SPEAKER_TABLE_AFTER]
    assert [t.speaker for t in transcript.turns] == [label.rstrip(":") for label, _ in rows]
    assert [t.role for t in transcript.turns] == [
        "interviewer" if label == "I:" else "respondent" for label, _ in rows
    ]
    assert [content(transcript, t) for t in transcript.turns] == [said for _, said in rows]
    # A table row is one line, its cells joined by a tab, in document order.
    positions = [transcript.text.index(f"{label}\t{said}") for label, said in docx_builders.SPEAKER_TABLE_ROWS]
    assert positions == sorted(positions)
    assert transcript.text.index(docx_builders.SPEAKER_TABLE_BEFORE) < positions[0]
    assert transcript.metadata.get("Datum") == "28.01.2026"


def test_docx_time_speaker_text_table_keeps_its_text_in_order(tmp_path):
    path = docx_builders.build_time_table(tmp_path)
    transcript = read_transcript(path)
    assert transcript.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert "\r" not in transcript.text and unicodedata.is_normalized("NFC", transcript.text)
    positions = [transcript.text.index(f"{speaker}\t{said}") for _, speaker, said in docx_builders.TIME_TABLE_ROWS]
    assert positions == sorted(positions)
    assert transcript.text.index(docx_builders.TIME_TABLE_TITLE) < positions[0]


# ----------------------------------------------------------------------------------------- subtitles
VOICE_TAGS_TEXT = """\
Sprecher 1: Danke, dass Sie sich die Zeit nehmen. Wie sind Sie eigentlich zur Arbeit im Quartier gekommen?

Sprecher 2: Also, äh, das war eher Zufall. Ich hab bei der Caritas & beim Jugendmigrationsdienst angefangen, \
zwei Jahre nur, dachte ich. Jetzt sind es elf.

Sprecher 1: Was hat sich in den elf Jahren verändert?

Sprecher 2: Die Leute, die kommen, und wo sie hinkommen. Früher ging fast alles nach Großstadt, heute landen \
Familien in Orten wie Brückenfeld, wo es keine Moschee gibt, keinen Laden mit Halal-Fleisch, keine \
Beratungsstelle & kein Netzwerk.

Sprecher 1: Und was heißt das für Ihre Arbeit?

Sprecher 2: Dass wir rausfahren müssen. (lacht) Wir haben jetzt ein Beratungsmobil, einmal die Woche in \
Oberrödingen, einmal in Kerbstedt."""

PREFIXES_TEXT = """\
Sprecher 1: Und wie lief das dann mit der Wohnungssuche? Also ganz konkret.

Sprecher 2: Schwierig. (.) Die meisten Vermieter haben gar nicht zurückgerufen. Ich hab dann über die Gemeinde \
eine Wohnung bekommen, in der Pfarrgasse, zwei Zimmer für vier Personen, aber immerhin mit Heizung.

Sprecher 1: Und heute? Wohnen Sie noch dort?

Sprecher 2: Nein, seit letztem Sommer in der Genossenschaft, in der Südstadt. Das war Glück, ehrlich gesagt, \
die Nachbarin hat uns empfohlen.

Sprecher 1: Wie ist das mit den Nachbarn dort, haben Sie Kontakt, kennen Sie die Leute im Haus?

Sprecher 2: Ja, inzwischen schon. Am Anfang war es schwer, (.) die älteren Leute haben nicht gegrüßt, eine \
Frau hat sich über die Schuhe im Flur beschwert. Aber dann gab es im Sommer ein Hoffest, meine Frau hat Börek \
gemacht, und seitdem grüßen alle. (lacht) Die Frau mit den Schuhen passt manchmal auf unsere Tochter auf."""

SRT_TEXT = """\
Interviewerin: Können Sie einmal beschreiben, wie so ein typischer Tag im Stadtteilbüro aussieht?

Herr Albers: Ja, also morgens ist erstmal offene Sprechstunde, da kommen die Leute mit ihren Briefen vom \
Jobcenter, von der Familienkasse, von der Schule.

Interviewerin: Und nachmittags?

Herr Albers: Nachmittags ist Hausaufgabenhilfe, und zweimal die Woche das Sprachcafé. Das Sprachcafé machen \
Ehrenamtliche, ohne die ginge das gar nicht.

Interviewerin: Wer kommt da so, zur Sprechstunde?

Herr Albers: Ganz gemischt. Viele Familien aus Syrien und Afghanistan, seit zwei Jahren viele Frauen aus der \
Ukraine, und, äh, immer mehr ältere Leute von hier, die mit den Formularen genauso wenig klarkommen. (lacht) \
Das ist eigentlich schön, weil die sich dann im Wartebereich kennenlernen. Da entsteht was.

Interviewerin: Und was fehlt Ihnen für die Arbeit?

Herr Albers: Zeit. Und ein zweiter Raum, damit man vertraulich sprechen kann, ohne dass alle im Flur mithören."""

NO_SPEAKERS_TEXT = (
    "Ich würde sagen, das Wichtigste ist eigentlich, dass die Leute wissen, wo sie hingehen können, wenn was ist. "
    "Also eine Anlaufstelle, die nicht nach zwei Jahren wieder weg ist, weil die Förderung ausläuft. "
    "Und dass die Stadt das selbst will und nicht nur, weil es Geld vom Land gibt. "
    "Wir hatten hier in Mühlbergen drei Projekte hintereinander, jedes Mal mit neuen Leuten, neuen Flyern, "
    "neuen Öffnungszeiten. Und jedes Mal mussten die Familien wieder von vorne anfangen, Vertrauen aufbauen, "
    "ihre Geschichte erzählen. Das ist, äh, ermüdend, für beide Seiten. Was gut funktioniert hat, war das "
    "Frauencafé im Gemeindehaus, weil das einfach geblieben ist, auch als das Geld weg war. Die Frauen haben "
    "das selbst weitergemacht, mit einer Kaffeekasse. Und daraus sind dann Sachen entstanden, die wir gar nicht "
    "geplant hatten, eine Nähgruppe, Nachhilfe, eine Mutter macht jetzt die Ausbildung zur Erzieherin. "
    "Das ist für mich Integration."
)


def _turns_of(expected_text: str) -> list[tuple[str, str]]:
    return [tuple(block.split(": ", 1)) for block in expected_text.split("\n\n")]


@pytest.mark.parametrize("name,expected_text,timestamps,roles", [
    # Short questions against answers three times as long: a guided interview, roles can be told.
    ("voice_tags.vtt", VOICE_TAGS_TEXT, [1.2, 10.02, 197.2, 202.48, 217.1, 220.9],
     {"Sprecher 1": "interviewer", "Sprecher 2": "respondent"}),
    # Answers only about twice as long as the questions: too close to call, no role is guessed.
    ("prefixes.vtt", PREFIXES_TEXT, [724.0, 731.24, 745.5, 748.9, 758.01, 765.02], None),
    ("speakers.srt", SRT_TEXT, [2.1, 9.9, 20.4, 23.6, 34.7, 38.9, 59.5, 63.4],
     {"Interviewerin": "interviewer", "Herr Albers": "respondent"}),
])
def test_subtitles_become_speaker_turns(name, expected_text, timestamps, roles):
    transcript = read(name)
    assert transcript.format == name.rsplit(".", 1)[1]
    assert transcript.encoding == ("utf-8-sig" if name.endswith(".srt") else "utf-8")
    # Cues of one speaker joined by single spaces (a sentence split over cues reads whole), tags gone,
    # entities decoded, NOTE blocks and cue settings ignored, one `Speaker: content` block per turn.
    assert transcript.text.strip() == expected_text
    expected = _turns_of(expected_text)
    assert [t.speaker for t in transcript.turns] == [speaker for speaker, _ in expected]
    assert [content(transcript, t) for t in transcript.turns] == [said for _, said in expected]
    assert [t.timestamp for t in transcript.turns] == pytest.approx(timestamps, abs=1e-6)
    for turn in transcript.turns:
        assert label_before(transcript, turn) == f"{turn.speaker}:"
        expected_role = None if roles is None else roles[turn.speaker]
        assert turn.role == expected_role, turn.speaker


def test_vtt_without_speakers_reads_as_running_text():
    transcript = read("no_speakers.vtt")
    assert transcript.format == "vtt"
    assert transcript.text.strip() == NO_SPEAKERS_TEXT
    # One run of cues without a named speaker is one turn. ARCHITECTURE.md does not say whether "no
    # speaker" is None or ""; either reads as "no label" to a caller that tests `not turn.speaker`.
    assert [(t.speaker or None, t.role, t.timestamp) for t in transcript.turns] == [(None, None, 0.0)]
    assert content(transcript, transcript.turns[0]) == NO_SPEAKERS_TEXT


def test_vtt_markup_never_reaches_the_text():
    text = read("voice_tags.vtt").text
    for leftover in ["<v", "</v>", "<c", "<i>", "&amp;", "NOTE", "align:", "position:", "WEBVTT",
                     "8b1e2c4d", "Kind:", "interview_brueckenfeld"]:
        assert leftover not in text, leftover


# ------------------------------------------------------------------------------ property: round trips
WORDS = ["also", "äh", "ähm", "(.)", "(lacht)", "Straße", "Förderung", "Übergänge", "heißt", "Quartier", "wir",
         "haben", "das", "Jobcenter", "Müll", "Größe", "„Ankommen“", "–", "2,4", "Millionen", "€", "gemacht.",
         "ja,", "genau.", "Schule?", "Ämter", "weiß", "nicht."]
TXT_LABELS = {"I": "interviewer", "Interviewer": "interviewer", "Interviewerin": "interviewer",
              "B": "respondent", "B1": "respondent", "B2": "respondent", "IP": "respondent",
              "Befragte": "respondent", "Herr Öztürk": "name", "Frau Dr. Lange": "name"}

paragraph_st = st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(" ".join)
txt_turn_st = st.tuples(
    st.sampled_from(sorted(TXT_LABELS)),
    st.lists(paragraph_st, min_size=1, max_size=3),
    st.one_of(st.none(), st.tuples(st.sampled_from(["f4_end", "bracket_start", "paren_start"]),
                                   st.integers(0, 10 * 36_000 - 1))),
)


def _hms(tenths: int) -> str:
    seconds = tenths // 10
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    turns=st.lists(txt_turn_st, min_size=1, max_size=8),
    header=st.booleans(),
    separator=st.sampled_from(["\n\n", "\n"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
def test_any_f4_transcript_round_trips(tmp_path_factory, turns, header, separator, newline, encoding):
    from coding.transcripts.labels import name_shaped

    # `Befragte: Straße Straße` followed by another speaker is an f4 header line naming the respondent
    # (as `Befragte: Frau Okafor` is); a person reads it so too, so it is no turn to expect.
    label, paragraphs, stamp = turns[0]
    assume(not (len(turns) > 1 and len(label) > 2 and len(paragraphs) == 1 and stamp is None
                and name_shaped(paragraphs[0])))
    lines, expected = [], []
    if header:
        lines += ["Interview K99 Teststadt", "Datum: 01.02.2026", ""]
    for label, paragraphs, stamp in turns:
        first, rest, seconds = paragraphs[0], list(paragraphs[1:]), None
        if stamp:
            kind, tenths = stamp
            if kind == "f4_end":
                seconds = tenths / 10
                rest_or_first = f" #{_hms(tenths)}-{tenths % 10}#"
                if rest:
                    rest[-1] += rest_or_first
                else:
                    first += rest_or_first
            else:
                seconds = float(tenths // 10)
                open_, close = ("[", "]") if kind == "bracket_start" else ("(", ")")
                first = f"{open_}{_hms(tenths)}{close} {first}"
        lines.append(f"{label}: {first}")
        for paragraph in rest:
            lines += [""] if separator == "\n\n" else []
            lines.append(paragraph)
        lines += [""] if separator == "\n\n" else []
        expected.append((label, TXT_LABELS[label], seconds, words(" ".join(paragraphs))))
    # A name is a respondent when a known interviewer label speaks too, else its role is unknown.
    interviewed = any(role == "interviewer" for _, role, _, _ in expected)
    expected = [(s, ("respondent" if interviewed else None) if r == "name" else r, t, w) for s, r, t, w in expected]
    path = tmp_path_factory.mktemp("f4") / "generated.txt"
    path.write_bytes(newline.join(lines).encode(encoding))

    transcript = read_transcript(path)
    checks.assert_well_formed(transcript, path)
    assert [(t.speaker, t.role) for t in transcript.turns] == [(s, r) for s, r, _, _ in expected]
    for turn, (_, _, seconds, said) in zip(transcript.turns, expected):
        assert words(content(transcript, turn)) == said
        assert turn.timestamp == (None if seconds is None else pytest.approx(seconds, abs=1e-6))
    if header:
        assert transcript.metadata.get("title") == "Interview K99 Teststadt"
        assert transcript.metadata.get("Datum") == "01.02.2026"


VTT_SPEAKERS = ["Sprecher 1", "Sprecher 2", "Herr Öztürk", "Frau Dr. Lange"]
cue_st = st.tuples(st.sampled_from(VTT_SPEAKERS), st.lists(paragraph_st, min_size=1, max_size=2))


def _vtt_time(ms: int) -> str:
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cues=st.lists(cue_st, min_size=1, max_size=12), style=st.sampled_from(["voice", "prefix"]),
       ampersand=st.booleans())
def test_any_vtt_round_trips(tmp_path_factory, cues, style, ampersand):
    blocks, turns, previous, start_ms = ["WEBVTT"], [], None, 1_500
    for index, (speaker, lines) in enumerate(cues):
        if ampersand and index == 0:
            lines = [lines[0] + " &"] + lines[1:]
        escaped = [line.replace("&", "&amp;") for line in lines]
        if style == "voice":
            escaped[0] = f"<v {speaker}>{escaped[0]}"
        elif speaker != previous:
            escaped[0] = f"{speaker}: {escaped[0]}"
        blocks.append(f"{index + 1}\n{_vtt_time(start_ms)} --> {_vtt_time(start_ms + 2_345)}\n" + "\n".join(escaped))
        said = " ".join(lines)
        if speaker == previous:
            turns[-1][2] += " " + said
        else:
            turns.append([speaker, start_ms / 1000, said])
        previous, start_ms = speaker, start_ms + 2_345
    path = tmp_path_factory.mktemp("vtt") / "generated.vtt"
    path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")

    transcript = read_transcript(path)
    checks.assert_well_formed(transcript, path)
    assert transcript.text.strip() == "\n\n".join(f"{speaker}: {said}" for speaker, _, said in turns)
    assert [(t.speaker, content(transcript, t)) for t in transcript.turns] == [(s, said) for s, _, said in turns]
    assert [t.timestamp for t in transcript.turns] == pytest.approx([ts for _, ts, _ in turns], abs=1e-6)
