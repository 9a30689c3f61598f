"""The per-code report (like MAXQDA's Smart Publisher): every coded passage of each code, as a Word document.

One chapter per code (Heading 1, the code's path such as "Wohnen > Mieten") with its definition and
its passages grouped by interview (Heading 2); each passage is set as a quote with its source
(interview, stakeholder group, time or paragraph) and who coded it, followed by the coding's memo.
A team reads it to check a code's consistency, or takes passages from it into a report.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import IO, Any

from coding.errors import ExportError
from coding.export.docx_parts import (
    add_heading,
    add_labelled,
    add_quote,
    add_title_page,
    add_toc,
    clean,
    code_path,
    fill_toc,
    line_of,
    new_document,
    save,
)
from coding.export.wording import Wording
from coding.store import Project
from coding.themes.from_project import STAKEHOLDER


def write_code_report(project: Project, out: str | Path | IO[bytes], *, codes: list[str] | None = None,
                      language: str = "de") -> None:
    """Write the report of `codes` (code ids, in that order; None: every code that is codable or used,
    in codebook order) as a .docx to `out` (a path or a binary file object)."""
    words = Wording(language)
    all_codes = project.codes()
    by_id = {c["id"]: c for c in all_codes}
    segments: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in project.coded_segments(context=0):
        segments[row["code_id"]].append(row)  # a code's own codings: sub-codes get their own chapter
    if codes is None:
        chosen = [c for c in all_codes if c["codable"] or segments[c["id"]]]
    else:
        unknown = [code_id for code_id in codes if code_id not in by_id]
        if unknown:
            known = ", ".join(by_id) or "none"
            raise ExportError(f"{project.path}: no code {', '.join(map(repr, unknown))} in the codebook "
                              f"(its codes: {known}); choose codes from the project's codebook")
        chosen = [by_id[code_id] for code_id in dict.fromkeys(codes)]

    title = f"{words['code_report']}: {project.path.stem}"
    doc = new_document(words, title=title, author="Codewerk", comments=f"Codewerk: {project.path.name}")
    add_title_page(doc, title, [words("project_line", name=project.path.stem), words["report_intro"]], words)
    toc = add_toc(doc, words, levels=1)  # codes only: every interview under every code would swamp it
    documents = {d["id"]: d for d in project.documents()}
    coders = {u["name"]: u["display_name"] or u["name"] for u in project.users()}
    texts: dict[int, str] = {}
    for code in chosen:
        add_heading(doc, code_path(by_id, code["id"]), 1)
        definition = clean(code["definition"]).strip()
        if definition:
            doc.add_paragraph(definition)
        else:
            doc.add_paragraph().add_run(words["no_definition"]).italic = True
        rows = segments[code["id"]]
        if not rows:
            doc.add_paragraph().add_run(words["no_segments"]).italic = True
            continue
        by_document: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_document[row["document_id"]].append(row)
        doc.add_paragraph(words("code_summary", segments=words.count(len(rows), "coded_passage"),
                                interviews=words.count(len(by_document), "interview")))
        for doc_id, passages in by_document.items():
            attributes = documents.get(doc_id, {}).get("attributes", {})
            interview = attributes.get("Interview") or passages[0]["document"]
            group = attributes.get(STAKEHOLDER)
            add_heading(doc, f"{interview} · {group}" if group else interview, 2)
            if doc_id not in texts:
                texts[doc_id] = project.document(doc_id)["text"]
            for row in passages:
                coder = words("coded_by", coder=coders.get(row["coder"], row["coder"]))
                source = words.source(interview, group, row["timestamp"], line_of(texts[doc_id], row["start"]),
                                      coder)
                add_quote(doc, row["quote"], source)
                if clean(row["memo"]).strip():
                    add_labelled(doc, words["memo"], row["memo"])
    fill_toc(doc, toc, levels=1)
    save(doc, out)
