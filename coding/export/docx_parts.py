"""Building blocks of Codewerk's Word documents: styles, title page, contents field, quotes, tables, codebook.

Everything is set through Word's own styles (Title, Heading 1-3, Quote, Caption, List Bullet, table
styles), so a team restyles the whole document in Word by changing a style, never paragraph by
paragraph. Interview text is the team's own text: it is always written as plain text runs (python-docx
escapes it), never parsed as markup, and characters XML cannot hold are dropped first.
"""
from __future__ import annotations

import bisect
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph

from coding.codebook.model import without_control_characters
from coding.errors import ExportError
from coding.export.wording import Wording

TABLE_STYLE = "Light List Accent 1"
SOURCE_STYLE = "Quote Source"  # our one own style: the line under a quote naming where it comes from
TEXT_WIDTH_CM = 16.0  # A4 with 2.5 cm margins
_ABBREVIATIONS = {"bspw", "bzgl", "ggfs", "inkl", "evtl", "zzgl", "insb"}
# Elements of w:settings that come after w:updateFields (the schema fixes the order; Word checks it).
_AFTER_UPDATE_FIELDS = ("hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars", "rsids", "mathPr",
                        "themeFontLang", "clrSchemeMapping", "shapeDefaults", "decimalSymbol", "listSeparator")


def clean(text: str | None) -> str:
    """User text safe for a Word run: XML-invalid characters dropped, line endings as `\\n`."""
    if not text:
        return ""
    return without_control_characters(text.replace("\r\n", "\n").replace("\r", "\n"))


def one_line(text: str | None) -> str:
    """User text for a heading or a table cell: cleaned, white space collapsed to single spaces."""
    return " ".join(clean(text).split())


def first_sentence(text: str | None, limit: int = 180) -> str:
    """The first sentence of a definition, at most about `limit` characters (for the codebook in brief)."""
    text = one_line(text)
    for end in re.finditer(r"[.!?](?=\s+[A-ZÄÖÜ])", text):
        if end.start() >= limit:
            break
        word = re.search(r"\w*$", text[:end.start()]).group()
        if len(word) > 3 and word.casefold() not in _ABBREVIATIONS:  # not "z. B." or "bzw."
            return text[:end.end()]
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


# -- the document ----------------------------------------------------------------------------------
# Style ids by style name. python-docx looks a style up by name with a scan of every style, which made
# a 700-quote report take seconds; every document comes from new_document (the same template and the
# same added styles), so the ids are the same in all of them and one cache serves every document.
_STYLE_IDS: dict[str, str] = {}


def styled(doc: DocumentObject, text: str, style: str) -> Paragraph:
    """A new paragraph with `text` (already cleaned) in the paragraph style named `style`."""
    if style not in _STYLE_IDS:
        _STYLE_IDS[style] = doc.styles[style].style_id
    paragraph = doc.add_paragraph(text)
    paragraph._p.style = _STYLE_IDS[style]
    return paragraph


def new_document(words: Wording, *, title: str, author: str, comments: str = "") -> DocumentObject:
    """An empty A4 document with the language set, Codewerk's quote styles, page numbers and core properties."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.5))
    _set_language(doc, "de-DE" if words.language == "de" else "en-GB")
    _style_quotes(doc)
    # Every chapter (Heading 1) starts on a new page; a team that wants otherwise changes the style.
    doc.styles["Heading 1"].paragraph_format.page_break_before = True
    doc.styles["TOC Heading"].paragraph_format.page_break_before = False
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    add_field(footer, "PAGE", "1")
    properties = doc.core_properties
    stamp = datetime.now(UTC).replace(microsecond=0)
    properties.title, properties.author, properties.last_modified_by = one_line(title), author, "Codewerk"
    properties.comments, properties.language = comments, words.language
    properties.created = properties.modified = stamp
    properties.revision, properties.keywords = 1, "Codewerk"
    _ask_word_to_update_fields(doc)
    return doc


def _set_language(doc: DocumentObject, tag: str) -> None:
    """Spelling, hyphenation and the decimal mark of fields follow the document's language."""
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    lang = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:lang')}")
    if lang is not None:
        lang.set(qn("w:val"), tag)
    settings = doc.settings.element
    theme_lang = settings.find(qn("w:themeFontLang"))
    if theme_lang is not None:
        theme_lang.set(qn("w:val"), tag)
    german = tag.startswith("de")
    for name, value in (("decimalSymbol", "," if german else "."), ("listSeparator", ";" if german else ",")):
        element = settings.find(qn(f"w:{name}"))
        if element is not None:
            element.set(qn("w:val"), value)


def _style_quotes(doc: DocumentObject) -> None:
    """Indent Word's Quote style and add the source style under it: a quote reads as a quote."""
    quote = doc.styles["Quote"]
    fmt = quote.paragraph_format
    fmt.left_indent, fmt.right_indent = Cm(1.0), Cm(1.0)
    fmt.space_before, fmt.space_after = Pt(8), Pt(2)
    fmt.keep_with_next = True  # a quote never stands on one page and its source on the next
    quote.font.color.rgb = RGBColor(0x26, 0x26, 0x26)
    border = OxmlElement("w:pBdr")
    left = OxmlElement("w:left")
    for key, value in (("w:val", "single"), ("w:sz", "18"), ("w:space", "8"), ("w:color", "4F81BD")):
        left.set(qn(key), value)
    border.append(left)
    fmt.element.get_or_add_pPr().insert_element_before(
        border, "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:spacing", "w:ind", "w:jc", "w:outlineLvl", "w:rPr")
    source = doc.styles.add_style(SOURCE_STYLE, 1)  # 1: paragraph style
    source.base_style = doc.styles["Normal"]
    source.quick_style = True
    sfmt = source.paragraph_format
    sfmt.left_indent, sfmt.right_indent = Cm(1.0), Cm(1.0)
    sfmt.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    sfmt.space_before, sfmt.space_after = Pt(0), Pt(10)
    source.font.size = Pt(9)
    source.font.color.rgb = RGBColor(0x59, 0x59, 0x59)


def _ask_word_to_update_fields(doc: DocumentObject) -> None:
    """settings/updateFields: Word refreshes the contents and page numbers when the file is opened."""
    settings = doc.settings.element
    element = OxmlElement("w:updateFields")
    element.set(qn("w:val"), "true")
    for name in _AFTER_UPDATE_FIELDS:
        later = settings.find(qn(f"w:{name}"))
        if later is not None:
            later.addprevious(element)
            return
    settings.append(element)


def add_field(paragraph: Any, instruction: str, placeholder: str) -> None:
    """A Word field (begin, instruction, separate, shown text, end) marked dirty so Word recomputes it."""
    def run_with(child: Any) -> None:
        run = paragraph.add_run()
        run._r.append(child)

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    begin.set(qn("w:dirty"), "true")
    run_with(begin)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run_with(instr)
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    run_with(separate)
    paragraph.add_run(placeholder)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


def add_title_page(doc: DocumentObject, title: str, lines: Sequence[str], words: Wording) -> None:
    """Title (Word's Title style), a subtitle line per entry of `lines`, the date and Codewerk as producer."""
    heading = styled(doc, one_line(title), "Title")
    heading.paragraph_format.space_before = Cm(6)
    for line in lines:
        styled(doc, one_line(line), "Subtitle")
    doc.add_paragraph(words.date(datetime.now().date()))
    doc.add_paragraph(words["producer"])


def add_toc(doc: DocumentObject, words: Wording, levels: int = 2) -> Paragraph:
    """A contents heading and a real TOC field; call fill_toc once the headings are written."""
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    styled(doc, words["toc"], "TOC Heading")
    paragraph = doc.add_paragraph()
    add_field(paragraph, f'TOC \\o "1-{levels}" \\h \\z \\u', words["toc_placeholder"])
    return paragraph


def fill_toc(doc: DocumentObject, toc: Paragraph, levels: int = 2) -> None:
    """Put the headings (without page numbers) into the TOC field's shown text.

    Word replaces them with the full contents when it updates the field; LibreOffice and PDF
    converters, which do not update fields, show this list instead of an empty contents page.
    """
    for level in range(1, levels + 1):
        name = f"toc {level}"  # Word's own name for its contents styles, so its update uses the same ones
        if name not in [s.name for s in doc.styles]:
            style = doc.styles.add_style(name, 1)
            style.base_style = doc.styles["Normal"]
            style.paragraph_format.left_indent = Cm(0.6 * (level - 1))
            style.paragraph_format.space_after = Pt(3)
            style.paragraph_format.space_before = Pt(6 if level == 1 else 0)
    headings = {doc.styles[f"Heading {level}"].style_id: level for level in range(1, levels + 1)}
    after = toc._p
    entries = []
    for paragraph in doc.paragraphs:
        level = headings.get(paragraph._p.style)  # the style id: python-docx's style by name is slow
        if level is None or paragraph._p is toc._p or not paragraph.text.strip():
            continue
        element = OxmlElement("w:p")
        after.addnext(element)
        after = element
        element.style = doc.styles[f"toc {level}"].style_id
        entry = Paragraph(element, toc._parent)
        entry.add_run(paragraph.text)
        entries.append(entry)
    if entries:  # the field now ends in its last entry
        end = toc._p.findall(f".//{qn('w:fldChar')}")[-1].getparent()
        entries[-1]._p.append(end)


def add_heading(doc: DocumentObject, text: str, level: int) -> Any:
    """A heading in Word's "Heading N" style (user text on one line)."""
    return styled(doc, one_line(text), f"Heading {level}")


def add_labelled(doc: DocumentObject, label: str, text: str) -> None:
    """A paragraph "Label: text" with the label in bold (coding rules, memos)."""
    paragraph = doc.add_paragraph()
    paragraph.add_run(f"{label}: ").bold = True
    paragraph.add_run(clean(text).strip())


def add_quote(doc: DocumentObject, text: str, source: str) -> None:
    """A quote in Word's Quote style, followed by its source ("— K07, Kommune, 00:12:31")."""
    styled(doc, clean(text).strip(), "Quote")
    styled(doc, f"— {one_line(source)}", SOURCE_STYLE)


def timestamp_at(turns: Sequence[Mapping[str, Any]], start: int, end: int) -> float | None:
    """The timestamp of the speaker turn a passage starts in (turns sorted by start); None when unknown."""
    starts = [t["start"] for t in turns]
    i = bisect.bisect_right(starts, start) - 1
    if i >= 0 and turns[i]["end"] > start:
        return turns[i]["timestamp"]
    # A passage starting on a speaker label belongs to the turn it reaches.
    if i + 1 < len(turns) and turns[i + 1]["start"] < end:
        return turns[i + 1]["timestamp"]
    return None


def line_of(text: str, start: int) -> int:
    """The 1-based line (paragraph) of a position in a document's text."""
    return text.count("\n", 0, start) + 1


# -- tables ----------------------------------------------------------------------------------------
def add_table(doc: DocumentObject, header: Sequence[str], rows: Sequence[Sequence[Any]], *,
              widths: Sequence[float] | None = None, numeric_from: int | None = None,
              bold_first_column: bool = True, total_row: bool = False) -> Table:
    """A table in Codewerk's table style with a header row that repeats on every page.

    Args:
        widths: column widths in cm (default: equal shares of the text width).
        numeric_from: columns from this index on hold numbers and are right-aligned.
        bold_first_column: whether the table style sets the first column off (row labels).
        total_row: whether the table style sets the last row off (a row of totals).
    """
    table = doc.add_table(rows=1, cols=len(header))
    table.style = doc.styles[TABLE_STYLE]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _look(table, first_column=bold_first_column, last_row=total_row)
    widths = list(widths) if widths else [TEXT_WIDTH_CM / len(header)] * len(header)
    for cell, text in zip(table.rows[0].cells, header):
        cell.text = one_line(text)
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(repeat)
    for values in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, values):
            cell.text = one_line(str(value)) if value is not None else ""
    for j, width in enumerate(widths):
        table.columns[j].width = Cm(width)  # LibreOffice reads the grid, Word the cells: set both
        for row in table.rows:
            row.cells[j].width = Cm(width)
            if numeric_from is not None and j >= numeric_from:
                for paragraph in row.cells[j].paragraphs:
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.add_paragraph()  # Word joins two tables that touch; a paragraph keeps them apart
    return table


def _look(table: Table, *, first_column: bool, last_row: bool) -> None:
    """Which parts of the table style apply: header row always, first column and last row on request."""
    look = table._tbl.tblPr.find(qn("w:tblLook"))
    if look is None:
        look = OxmlElement("w:tblLook")
        table._tbl.tblPr.append(look)
    flags = {"firstRow": True, "lastRow": last_row, "firstColumn": first_column, "lastColumn": False,
             "noHBand": False, "noVBand": True}
    mask = 0
    for bit, (name, on) in zip((0x20, 0x40, 0x80, 0x100, 0x200, 0x400), flags.items()):
        look.set(qn(f"w:{name}"), "1" if on else "0")
        mask |= bit if on else 0
    look.set(qn("w:val"), f"{mask:04X}")  # the same flags as the bit mask older Word versions read


def rotate_header(table: Table, from_column: int, height_cm: float) -> None:
    """Turn the header cells from `from_column` on by 90° (long group names over narrow number columns)."""
    row = table.rows[0]
    row.height, row.height_rule = Cm(height_cm), WD_ROW_HEIGHT_RULE.AT_LEAST
    for cell in row.cells[from_column:]:
        direction = OxmlElement("w:textDirection")
        direction.set(qn("w:val"), "btLr")
        cell._tc.get_or_add_tcPr().append(direction)  # before vAlign, which python-docx places after it
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.BOTTOM
        for paragraph in cell.paragraphs:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT


# -- the codebook ----------------------------------------------------------------------------------
def code_path(codes: Mapping[str, Mapping[str, Any]], code_id: str, separator: str = " > ") -> str:
    """"Wohnen > Mieten": a code's name after its parents' names."""
    names, seen = [], set()
    current = codes.get(code_id)
    while current is not None and current["id"] not in seen:
        seen.add(current["id"])
        names.append(one_line(current["name"]))
        current = codes.get(current["parent"]) if current["parent"] else None
    return separator.join(reversed(names)) or code_id


def add_codebook(doc: DocumentObject, codes: Sequence[Mapping[str, Any]], words: Wording) -> None:
    """The codebook: per code its definition, anchors and rules.

    Codes are Heading 3 (sub-codes Heading 4) under the appendix's Heading 1, so that the contents
    (levels 1-2) list the appendix once instead of every code.
    """
    for code in codes:
        add_heading(doc, f"{code['id']} {code['name']}", 3 if not code["parent"] else 4)
        doc.add_paragraph(clean(code["definition"]).strip() or words["no_definition"])
        anchors = [a for a in (clean(a).strip() for a in code["anchors"]) if a]
        if anchors:
            doc.add_paragraph().add_run(words["anchors"]).bold = True
            for anchor in anchors:
                styled(doc, anchor, "List Bullet")
        for key in ("include", "exclude", "memo"):
            if clean(code.get(key)).strip():
                add_labelled(doc, words[key], code[key])


# -- saving ----------------------------------------------------------------------------------------
def save(doc: DocumentObject, out: str | Path | IO[bytes]) -> None:
    """Write the document to a path (whole or not at all) or to a binary file object such as BytesIO."""
    if hasattr(out, "write"):
        doc.save(out)
        return
    path = Path(out)
    if not path.parent.is_dir():
        raise ExportError(f"{path}: the folder {path.parent} does not exist; create it or choose another place")
    partial = path.with_name(f".{path.name}.partial")
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
        os.close(handle)
        partial = Path(name)
        os.chmod(partial, 0o644)  # mkstemp makes a private file; a report is meant to be shared
        doc.save(partial)
        os.replace(partial, path)  # an interrupted export never leaves half a document behind
    except OSError as error:
        Path(partial).unlink(missing_ok=True)
        raise ExportError(f"{path}: cannot write the document ({error.strerror or error}); "
                          "close it in Word if it is open there, or choose another place") from error
