"""The Word synthesis of a theme run: the document a team takes to its workshop.

Built from the project and one revision of a theme run: title page, contents, the method (corpus,
codebook in brief, who coded, agreement, how the themes were made), one chapter per theme (the lead's
description, who raised it, a chart of its reach per stakeholder group, representative quotes with
their sources, the codes involved), the theme x stakeholder-group matrix and the codebook as appendix.
Discarded themes are left out; accepted themes come first, then the themes that cut most evenly
across the stakeholder groups.
"""
from __future__ import annotations

import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm

from coding.export.chart import stakeholder_chart
from coding.export.docx_parts import (
    TEXT_WIDTH_CM,
    add_codebook,
    add_heading,
    add_quote,
    add_table,
    add_title_page,
    add_toc,
    clean,
    fill_toc,
    first_sentence,
    new_document,
    one_line,
    rotate_header,
    save,
    styled,
    timestamp_at,
)
from coding.export.wording import Wording
from coding.store import Project
from coding.store.themes import ACCEPTED, DISCARDED, THEME_ORIGIN
from coding.themes.from_project import STAKEHOLDER
from coding.themes.model import ThemeError

LEVEL = "Ebene"  # the document attribute naming the level (kommunal / national) in the corpus table


def default_theme_run(project: Project) -> int | None:
    """The run a synthesis is usually made of: the latest with an accepted theme, else the latest, else None."""
    runs = project.theme_runs()  # newest first
    for run in runs:
        themes = project.theme_revision(run["id"])["state"]["themes"]
        if any(theme["status"] == ACCEPTED for theme in themes):
            return run["id"]
    return runs[0]["id"] if runs else None


@dataclass
class _Theme:
    """A theme as the document shows it: the revision's theme, its passages and its interviews per group."""

    data: dict[str, Any]
    passages: Counter[str] = field(default_factory=Counter)
    interviews: dict[str, set[str]] = field(default_factory=dict)


def write_synthesis(project: Project, run_id: int, out: str | Path | IO[bytes], *, language: str = "de",
                    revision: int | None = None, title: str | None = None) -> None:
    """Write the synthesis of theme run `run_id` (at `revision`, default the latest) as a .docx to `out`.

    ThemeError when the revision holds no theme that is not discarded.
    """
    words = Wording(language)
    stored = project.theme_run(run_id)
    head = project.theme_revision(run_id, revision)
    if not head["state"]["themes"]:
        raise ThemeError(f"theme run {run_id} ({stored['name']}) has no themes at revision {head['number']}; "
                         "make a new theme run with more coded passages")
    documents = {d["id"]: d for d in project.documents()}
    passages = {p["id"]: p for p in stored["segments"]}
    no_group = words["no_group"]
    themes = _ordered_themes(head["state"]["themes"], passages, no_group)
    if not themes:
        raise ThemeError(f"every theme of theme run {run_id} ({stored['name']}) is discarded at revision "
                         f"{head['number']}; undo a discarding, or write the synthesis of an earlier revision")
    totals: dict[str, set[str]] = defaultdict(set)
    sizes: Counter[str] = Counter()
    for passage in stored["segments"]:
        totals[passage["stakeholder"] or no_group].add(passage["document"])
        sizes[passage["stakeholder"] or no_group] += 1
    # The run's groups as its matrix orders them (most passages first); passages without a group last.
    groups = sorted(sizes, key=lambda g: (g == no_group, -sizes[g], g))

    title = title or f"{words['synthesis']}: {stored['name']}"
    creator = project.user(stored["created_by"]) or {}
    doc = new_document(words, title=title, author=creator.get("display_name") or "Codewerk",
                       comments=f"Codewerk: {project.path.name}, theme run {run_id}, revision {head['number']}")
    when = words.date(datetime.fromisoformat(head["at"]).date())
    add_title_page(doc, title, [words("run_line", name=stored["name"], revision=head["number"], when=when),
                                words("project_line", name=project.path.stem)], words)
    toc = add_toc(doc, words)
    _method(doc, project, stored, head, documents, words)
    codes = {c["id"]: c for c in project.codes(include_deleted=True)}
    for number, theme in enumerate(themes, start=1):
        _theme_section(doc, project, theme, number, groups, totals, passages, documents, codes, words)
    _matrix(doc, groups, themes, words)
    add_heading(doc, words["appendix"], 1)
    add_codebook(doc, project.codes(), words)
    fill_toc(doc, toc)
    save(doc, out)


def _ordered_themes(themes: list[dict[str, Any]], passages: dict[str, dict[str, Any]],
                    no_group: str) -> list[_Theme]:
    """The themes to show: not discarded; accepted first, then by cross-stakeholder reach, then size."""
    shown = []
    for data in themes:
        if data["status"] == DISCARDED:
            continue
        theme = _Theme(data)
        for member in data["members"]:
            group = passages[member]["stakeholder"] or no_group
            theme.passages[group] += 1
            theme.interviews.setdefault(group, set()).add(passages[member]["document"])
        shown.append(theme)
    return sorted(shown, key=lambda t: (t.data["status"] != ACCEPTED, -t.data["cross_stakeholder"],
                                        -len(t.data["members"])))


# -- method ----------------------------------------------------------------------------------------
def _method(doc: DocumentObject, project: Project, stored: dict[str, Any], head: dict[str, Any],
            documents: dict[int, dict[str, Any]], words: Wording) -> None:
    add_heading(doc, words["method"], 1)
    add_heading(doc, words["corpus"], 2)
    _corpus(doc, documents, stored["selection"].get("stakeholder") or STAKEHOLDER, words)

    add_heading(doc, words["codebook_brief"], 2)
    top = [c for c in project.codes() if not c["parent"]]
    add_table(doc, [words["code"], words["name"], words["definition"]],
              [[c["id"], c["name"], first_sentence(c["definition"])] for c in top], widths=[2.4, 5.0, 8.6])

    add_heading(doc, words["coding"], 2)
    coded: dict[str, list[int]] = defaultdict(list)
    for coding in project.codings():
        if coding["origin"] != THEME_ORIGIN:  # codings made by accepting a theme are a result, not coding work
            coded[coding["coder"]].append(coding["document_id"])
    if coded:
        names = {u["name"]: u["display_name"] or u["name"] for u in project.users()}
        doc.add_paragraph(words["coders_intro"])
        add_table(doc, [words["person"], words["codings"], words["interviews"]],
                  [[names.get(coder, coder), len(ids), len(set(ids))] for coder, ids in sorted(coded.items())],
                  widths=[8.0, 4.0, 4.0], numeric_from=1)
    else:
        doc.add_paragraph(words["no_codings"])

    add_heading(doc, words["agreement"], 2)
    doc.add_paragraph(words["agreement_none"])  # the project records no agreement figures yet

    add_heading(doc, words["theme_building"], 2)
    doc.add_paragraph(words("theme_intro", segments=len(stored["segments"])))
    doc.add_paragraph(words["themes_order"])
    params = stored["steps"].get("params", {})
    lead = (project.user(head["user"]) or {}).get("display_name") or head["user"]
    when = words.date(datetime.fromisoformat(head["at"]).date())
    chosen = params.get("clustering", {}).get("n_themes", len(head["state"]["themes"]))
    selection = stored["selection"]
    chosen_codes = ", ".join(selection["codes"]) if selection.get("codes") else words["all_codes"]
    if selection.get("facet"):
        chosen_codes += f"; {words['facet']} {selection['facet']}"
    for key, values in (selection.get("attributes") or {}).items():
        chosen_codes += f"; {key}: {', '.join(values)}"
    add_table(doc, [words["setting"], words["value"]], [
        [words["embedder"], stored["embedder"] or "–"],
        [words["seed"], stored["seed"]],
        [words["n_themes"], f"{params.get('n_themes', selection.get('n_themes', '–'))} / {chosen}"],
        [words["passages"], len(stored["segments"])],
        [words["selection"], chosen_codes],
        [words["revision"], f"{head['number']} ({head['action']}, {lead}, {when})"],
    ], widths=[6.0, 10.0])
    add_table(doc, [words["step"], words["parameters"]],
              [[step["name"], _parameters(step["params"])] for step in stored["steps"].get("steps", [])],
              widths=[6.0, 10.0])


def _parameters(params: dict[str, Any]) -> str:
    """A step's parameters as "key=value; ..." (long lists such as curves left out)."""
    shown = []
    for key, value in params.items():
        if isinstance(value, (list, dict)) and len(value) > 6:
            continue
        shown.append(f"{key}={value}")
    return "; ".join(shown)


def _corpus(doc: DocumentObject, documents: dict[int, dict[str, Any]], stakeholder: str, words: Wording) -> None:
    """Interviews per stakeholder group (rows) and level (columns), with totals; fewer columns when the
    project lacks the attributes."""
    doc.add_paragraph(words("corpus_intro", n=len(documents)))
    if not documents:
        return
    no_group = words["no_group"]
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    has_level = any(d["attributes"].get(LEVEL) for d in documents.values())
    for document in documents.values():
        group = document["attributes"].get(stakeholder) or no_group
        level = (document["attributes"].get(LEVEL) or no_group) if has_level else ""
        counts[group][level] += 1
    groups = sorted(counts, key=lambda g: (g == no_group, -sum(counts[g].values()), g.casefold()))
    levels = sorted({lvl for row in counts.values() for lvl in row}, key=lambda v: (v == no_group, v.casefold()))
    if has_level:
        header = [stakeholder, *levels, words["total"]]
        rows = [[g, *(counts[g].get(lvl, 0) for lvl in levels), sum(counts[g].values())] for g in groups]
        rows.append([words["total"], *(sum(counts[g].get(lvl, 0) for g in groups) for lvl in levels),
                     len(documents)])
        number_width = min(3.0, 9.0 / (len(levels) + 1))
        widths = [TEXT_WIDTH_CM - number_width * (len(levels) + 1)] + [number_width] * (len(levels) + 1)
    else:
        header = [stakeholder, words["interviews"]]
        rows = [[g, sum(counts[g].values())] for g in groups] + [[words["total"], len(documents)]]
        widths = [12.0, 4.0]
    add_table(doc, header, rows, widths=widths, numeric_from=1, total_row=True)


# -- themes ----------------------------------------------------------------------------------------
def _theme_section(doc: DocumentObject, project: Project, theme: _Theme, number: int, groups: list[str],
                   totals: dict[str, set[str]], passages: dict[str, dict[str, Any]],
                   documents: dict[int, dict[str, Any]], codes: dict[str, dict[str, Any]], words: Wording) -> None:
    data = theme.data
    add_heading(doc, data["label"], 1)
    if data["status"] == ACCEPTED and data.get("code_id"):
        name = codes.get(data["code_id"], {}).get("name") or data["label"]
        doc.add_paragraph(words("accepted_as", code=one_line(name)))
    description = [p.strip() for p in clean(data.get("description")).split("\n\n") if p.strip()]
    if description:
        for paragraph in description:
            doc.add_paragraph(paragraph)
    else:
        doc.add_paragraph().add_run(words["no_description"]).italic = True
    voiced = {g: len(theme.interviews.get(g, ())) for g in groups}
    doc.add_paragraph(clean(words.mentioned_by({g: n for g, n in voiced.items() if n})))  # group names: user text
    if data.get("keywords"):
        doc.add_paragraph(words("keywords", words=", ".join(one_line(k) for k in data["keywords"])))

    chart = stakeholder_chart([(g, voiced[g], len(totals[g])) for g in groups], of=words["of"])
    picture = doc.add_paragraph()
    picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
    picture.paragraph_format.keep_with_next = True
    picture.add_run().add_picture(io.BytesIO(chart), width=Cm(15))
    styled(doc, f"{words('figure', n=number)}: {words['chart_caption']}", "Caption")

    add_heading(doc, words["quotes"], 3)  # level 3: the contents list the themes, not these
    turns: dict[int, list[dict[str, Any]]] = {}
    for passage_id in data["representatives"]:
        passage = passages[passage_id]
        doc_id = passage["document_id"]
        if doc_id not in turns:
            turns[doc_id] = project.turns(doc_id) if doc_id in documents else []
        attributes = documents.get(doc_id, {}).get("attributes", {})
        interview = attributes.get("Interview") or passage["document"]
        stamp = timestamp_at(turns[doc_id], passage["start"], passage["end"])
        add_quote(doc, passage["text"], words.source(interview, passage["stakeholder"], stamp, passage["line"]))

    add_heading(doc, words["codes_involved"], 3)
    for code_id, count in sorted(data["codes"].items(), key=lambda item: (-item[1], item[0])):
        name = codes.get(code_id, {}).get("name", "")
        styled(doc, f"{code_id} {one_line(name)}".strip() + f": {words.count(count, 'passage')}", "List Bullet")


def _matrix(doc: DocumentObject, groups: list[str], themes: list[_Theme], words: Wording) -> None:
    """Coded passages per theme (rows, in the document's order) and stakeholder group, with totals."""
    add_heading(doc, words["matrix"], 1)
    doc.add_paragraph(words["matrix_intro"])
    rows = [[theme.data["label"], *(theme.passages[g] for g in groups), sum(theme.passages.values())]
            for theme in themes]
    column_totals = [sum(theme.passages[g] for theme in themes) for g in groups]
    rows.append([words["total"], *column_totals, sum(column_totals)])
    numbers = len(groups) + 1
    number_width = 1.4 if numbers <= 8 else 1.1  # room for three digits
    label_width = max(5.0, TEXT_WIDTH_CM - number_width * numbers)
    table = add_table(doc, [words["theme"], *groups, words["total"]], rows,
                      widths=[label_width] + [number_width] * numbers, numeric_from=1, bold_first_column=False,
                      total_row=True)
    longest = max(len(g) for g in [*groups, words["total"]])
    rotate_header(table, 1, min(7.0, 0.8 + 0.25 * longest))
