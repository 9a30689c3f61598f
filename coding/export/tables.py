"""The tables of the spreadsheet exports as plain data: coded segments, code x document, code x group, themes.

The xlsx and CSV writers, the `codewerk export` command and the Export page all take their tables
from here, so a column means the same in every file. A table is a header and rows of plain values
(str, int, float, None); nothing here knows about file formats. Headers are German by default and
English on request, like the Word exports.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from coding.errors import StoreError
from coding.store import Project
from coding.store.retrieval import NO_VALUE
from coding.store.themes import ACCEPTED, DISCARDED
from coding.timefmt import clock, stored_utc

STAKEHOLDER = "Stakeholdergruppe"  # the attribute the group matrix uses unless told otherwise
SEGMENTS, CODE_DOCUMENT, CODE_GROUP, THEMES = "segmente", "code_dokument", "code_stakeholder", "themen"
TABLE_NAMES = (SEGMENTS, CODE_DOCUMENT, CODE_GROUP, THEMES)
LANGUAGES = ("de", "en")

WORDS: dict[str, dict[str, str]] = {
    "de": {
        SEGMENTS: "Kodierte Segmente", CODE_DOCUMENT: "Code x Dokument", CODE_GROUP: "Code x {attribute}",
        THEMES: "Themen", "document": "Dokument", "speaker": "Sprecher*in", "role": "Rolle", "start": "Start",
        "end": "Ende", "line": "Zeile", "timestamp": "Zeitmarke", "quote": "Zitat", "code_id": "Code-ID",
        "code": "Code", "level": "Ebene {n}", "coder": "Kodierer*in", "origin": "Herkunft",
        "created_at": "Erstellt am (UTC)", "memo": "Memo", "total": "Gesamt", "codings_in": "{group}: Kodierungen",
        "codings_total": "Kodierungen gesamt", "interviews_in": "{group}: Interviews (von {n})",
        "interviews_total": "Interviews gesamt", "theme_id": "Themen-ID", "label": "Titel",
        "description": "Beschreibung", "status": "Status", "keywords": "Schlagwörter", "passages": "Passagen",
        "interviews": "Interviews", "group_interviews": "{group}: Interviews",
        "cross_stakeholder": "Übergreifend (0-1)", "codes": "Beteiligte Codes", "accepted": "übernommen",
        "open": "offen", "interviewer": "Interviewer*in", "respondent": "Befragte*r", "human": "manuell",
        "suggestion": "Vorschlag", "imported": "importiert", "theme": "Thema", "project": "Projekt",
        "exported_at": "Exportiert am (UTC)", "grouping": "Gruppen nach", "theme_run": "Themenlauf",
        "run": "Lauf {id} »{name}«, Stand {revision}", "note": "Hinweis",
        "no_run": "Keine Themen-Tabelle: das Projekt hat noch keinen Themenlauf (die Leitung erstellt "
                  "Themenläufe auf der Seite Themen).",
    },
    "en": {
        SEGMENTS: "Coded segments", CODE_DOCUMENT: "Code x document", CODE_GROUP: "Code x {attribute}",
        THEMES: "Themes", "document": "Document", "speaker": "Speaker", "role": "Role", "start": "Start",
        "end": "End", "line": "Line", "timestamp": "Timestamp", "quote": "Quote", "code_id": "Code id",
        "code": "Code", "level": "Level {n}", "coder": "Coder", "origin": "Origin",
        "created_at": "Created at (UTC)", "memo": "Memo", "total": "Total", "codings_in": "{group}: codings",
        "codings_total": "Codings total", "interviews_in": "{group}: interviews (of {n})",
        "interviews_total": "Interviews total", "theme_id": "Theme id", "label": "Title",
        "description": "Description", "status": "Status", "keywords": "Keywords", "passages": "Passages",
        "interviews": "Interviews", "group_interviews": "{group}: interviews",
        "cross_stakeholder": "Cross-stakeholder (0-1)", "codes": "Codes involved", "accepted": "accepted",
        "open": "open", "interviewer": "interviewer", "respondent": "respondent", "human": "manual",
        "suggestion": "suggestion", "imported": "imported", "theme": "theme", "project": "Project",
        "exported_at": "Exported at (UTC)", "grouping": "Groups by", "theme_run": "Theme run",
        "run": "run {id} “{name}”, revision {revision}", "note": "Note",
        "no_run": "No themes table: the project has no theme run yet (team leads make theme runs on the "
                  "Themes page).",
    },
}


@dataclass
class Table:
    """One table: `name` is its file stem (CSV), `title` its sheet name; `text_columns` hold long text
    (quotes, memos, descriptions) that a spreadsheet wraps; `totals` says the last row sums the others."""

    name: str
    title: str
    header: list[str]
    rows: list[list[Any]]
    text_columns: tuple[int, ...] = ()
    totals: bool = False


@dataclass
class ExportTables:
    """The tables of one export, what they were made from (`about`: label, value) and what was left out."""

    tables: list[Table]
    about: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    theme_run: int | None = None

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)


def words(language: str) -> dict[str, str]:
    """The header words of a language (German for any language without its own)."""
    return WORDS.get(language, WORDS["de"])


def attribute_keys(documents: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every document attribute in the project's order: as the documents first name them."""
    return list(dict.fromkeys(key for d in documents for key in d["attributes"]))


def group_attribute(project: Project, attribute: str | None) -> str:
    """The attribute that groups interviews: the one asked for (StoreError naming the project's attributes
    when no document has it), else Stakeholdergruppe, else the first attribute the project has."""
    keys = attribute_keys(project.documents())
    if attribute is None:
        return STAKEHOLDER if STAKEHOLDER in keys or not keys else keys[0]
    if attribute not in keys and keys:
        raise StoreError(f"{project.path}: no document has the attribute {attribute!r} "
                         f"(the project's attributes: {', '.join(keys)})")
    return attribute


def code_paths(project: Project) -> dict[str, list[str]]:
    """Each code id (deleted ones too, for old codings) -> the names from its top-level code down to it."""
    codes = {c["id"]: c for c in project.codes(include_deleted=True)}
    paths: dict[str, list[str]] = {}
    for code_id in codes:
        path, seen, current = [], set(), code_id
        while current in codes and current not in seen:  # `seen` guards against a damaged, cyclic tree
            seen.add(current)
            path.append(codes[current]["name"])
            current = codes[current]["parent"]
        paths[code_id] = path[::-1]
    return paths


def segments_table(project: Project, language: str = "de") -> Table:
    """One row per live coding: document, its attributes, speaker, place, quote, code path, coder, memo."""
    w = words(language)
    documents = project.documents()
    keys = attribute_keys(documents)
    attributes = {d["id"]: d["attributes"] for d in documents}
    paths = code_paths(project)
    live = {c["id"] for c in project.codes()}
    segments = project.coded_segments(context=0)
    depth = max([len(paths[c]) for c in live] + [len(paths.get(s["code_id"], [])) for s in segments] + [1])
    header = [w["document"], *keys, w["speaker"], w["role"], w["start"], w["end"], w["line"], w["timestamp"],
              w["quote"], w["code_id"], *(w["level"].format(n=n) for n in range(1, depth + 1)), w["coder"],
              w["origin"], w["created_at"], w["memo"]]
    texts: dict[int, str] = {}
    rows = []
    for s in segments:
        doc_id = s["document_id"]
        if doc_id not in texts:
            texts[doc_id] = project.document(doc_id)["text"]
        role = s["role"]
        path = paths.get(s["code_id"], [s["code"]])
        rows.append([s["document"], *(attributes[doc_id].get(k) for k in keys), s["speaker"],
                     w.get(role, role) if role else None, s["start"], s["end"],
                     texts[doc_id].count("\n", 0, s["start"]) + 1, clock(s["timestamp"]) or None, s["quote"],
                     s["code_id"], *path, *[None] * (depth - len(path)), s["coder"], w.get(s["origin"], s["origin"]),
                     _utc(s["created_at"]), s["memo"] or None])
    quote = header.index(w["quote"])
    return Table(SEGMENTS, w[SEGMENTS], header, rows, text_columns=(quote, len(header) - 1))


def code_document_table(project: Project, language: str = "de") -> Table:
    """Live codings per code (rows, codebook order) and document (columns, import order), with totals."""
    w = words(language)
    documents = project.documents()
    counts: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for coding in project.codings():
        counts[coding["code_id"]][coding["document_id"]] += 1
    header = [w["code_id"], w["code"], *(d["name"] for d in documents), w["total"]]
    rows = []
    for code_id, label in _code_rows(project, counts):
        cells = [counts[code_id][d["id"]] for d in documents]
        rows.append([code_id, label, *cells, sum(cells)])
    column_sums = [sum(row[i] for row in rows) for i in range(2, len(header))]
    rows.append([w["total"], None, *column_sums])
    return Table(CODE_DOCUMENT, w[CODE_DOCUMENT], header, rows, totals=True)


def code_group_table(project: Project, attribute: str | None = None, language: str = "de") -> Table:
    """Per code and group of interviews (default Stakeholdergruppe): its codings, then the interviews
    using it, with totals; the interviews total of a group counts its interviews with any coding."""
    w = words(language)
    attribute = group_attribute(project, attribute)
    matrix = project.code_attribute_matrix(attribute)
    groups, sizes = matrix["groups"], matrix["sizes"]
    header = [w["code_id"], w["code"], *(w["codings_in"].format(group=g) for g in groups), w["codings_total"],
              *(w["interviews_in"].format(group=g, n=sizes[g]) for g in groups), w["interviews_total"]]
    labels = dict(_code_rows(project, {}))
    rows = []
    for row in matrix["rows"]:
        codings = [row["segments"][g] for g in groups]
        interviews = [row["documents"][g] for g in groups]  # groups share no interview: the sum counts each once
        rows.append([row["code_id"], labels.get(row["code_id"], row["code"]), *codings, sum(codings),
                     *interviews, sum(interviews)])
    group_of = {d["id"]: d["attributes"].get(attribute) or NO_VALUE for d in project.documents()}
    used: dict[str, set[int]] = defaultdict(set)
    for coding in project.codings():
        used[group_of[coding["document_id"]]].add(coding["document_id"])
    coding_sums = [sum(row[2 + i] for row in rows) for i in range(len(groups))]
    reached = [len(used[g]) for g in groups]
    rows.append([w["total"], None, *coding_sums, sum(coding_sums), *reached, sum(reached)])
    title = w[CODE_GROUP].format(attribute=attribute)
    return Table(CODE_GROUP, title, header, rows, totals=True)


def themes_table(project: Project, run_id: int, revision: int | None = None, language: str = "de") -> Table:
    """The themes of a run (default: its latest revision) that were not discarded: title, description,
    status, keywords, size, interviews per group, how evenly they spread, and the codes involved."""
    from coding.themes.from_project import load_run

    w = words(language)
    current = load_run(project, run_id, revision)
    passages = {p["id"]: p for p in current.passages}
    groups = sorted({p["stakeholder"] or NO_VALUE for p in current.passages}, key=_group_order)
    names = {c["id"]: c["name"] for c in project.codes(include_deleted=True)}
    header = [w["theme_id"], w["label"], w["description"], w["status"], w["keywords"], w["passages"],
              w["interviews"], *(w["group_interviews"].format(group=g) for g in groups), w["cross_stakeholder"],
              w["codes"]]
    rows = []
    for theme in current.state["themes"]:
        if theme["status"] == DISCARDED:
            continue
        members = [passages[m] for m in theme["members"] if m in passages]
        per_group = [len({p["document"] for p in members if (p["stakeholder"] or NO_VALUE) == g}) for g in groups]
        codes = sorted(theme["codes"].items(), key=lambda item: (-item[1], item[0]))
        rows.append([theme["id"], theme["label"], theme.get("description") or None,
                     w["accepted"] if theme["status"] == ACCEPTED else w["open"], ", ".join(theme["keywords"]),
                     len(members), len({p["document"] for p in members}), *per_group,
                     round(float(theme["cross_stakeholder"]), 2),
                     ", ".join(_counted(code, names.get(code), n) for code, n in codes)])
    return Table(THEMES, w[THEMES], header, rows, text_columns=(1, 2))


def chosen_theme_run(project: Project, run_id: int | None) -> int | None:
    """The run to export: the one asked for (StoreError naming the runs when absent), else the
    synthesis' default run; None when the project has no theme run."""
    if run_id is not None:
        project.theme_revision(run_id)
        return run_id
    if not project.theme_runs():
        return None
    from coding.export.synthesis import default_theme_run

    return default_theme_run(project)


def export_tables(project: Project, *, run_id: int | None = None, revision: int | None = None,
                  attribute: str | None = None, language: str = "de") -> ExportTables:
    """The four tables of a spreadsheet export; the themes table only when the project has a theme run."""
    w = words(language)
    attribute = group_attribute(project, attribute)
    tables = [segments_table(project, language), code_document_table(project, language),
              code_group_table(project, attribute, language)]
    about = [(w["project"], project.path.stem), (w["exported_at"], _utc(datetime.now(timezone.utc).isoformat())),
             (w["grouping"], attribute)]
    notes = []
    run = chosen_theme_run(project, run_id)
    if run is None:
        notes.append(w["no_run"])
    else:
        stored = project.theme_runs()
        name = next((r["name"] for r in stored if r["id"] == run), "")
        number = project.theme_revision(run, revision)["number"]
        tables.append(themes_table(project, run, number, language))
        about.append((w["theme_run"], w["run"].format(id=run, name=name, revision=number)))
    about += [(w["note"], note) for note in notes]
    return ExportTables(tables, about, notes, run)


def _code_rows(project: Project, counts: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(code id, path as "Parent > Code") for every live code in codebook order, then any deleted code
    that still has codings in `counts`."""
    paths = code_paths(project)
    live = [c["id"] for c in project.codes()]
    extra = sorted(code_id for code_id in counts if code_id not in set(live))
    return [(code_id, " > ".join(paths.get(code_id, [code_id]))) for code_id in live + extra]


def _group_order(group: str) -> tuple[bool, str]:
    """Groups alphabetically, documents without the attribute ("–") last, as on the Segmente page."""
    return group == NO_VALUE, group.casefold()


def _counted(code_id: str, name: str | None, n: int) -> str:
    return f"{code_id} {name} ({n})" if name else f"{code_id} ({n})"


def _utc(stamp: str | None) -> str | None:
    """A stored ISO time stamp as "YYYY-MM-DD HH:MM:SS" in UTC (the store writes UTC); kept as it is
    when it is no time stamp."""
    moment = stored_utc(stamp)
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else (stamp or None)
