"""All interface strings, German by default; a language is one dictionary."""
from __future__ import annotations

import os

STRINGS: dict[str, dict[str, str]] = {
    "de": {
        "app_title": "Codewerk",
        "documents": "Dokumente",
        "project": "Projekt",
        "project_file": "Projektdatei",
        "open": "Öffnen",
        "no_project": "Keine Projektdatei unter {path}.",
        "no_documents": "Noch keine Dokumente. Importieren Sie Transkripte mit `codewerk import`.",
        "documents_count": "{n} Dokumente, {words} Wörter",
        "name": "Name",
        "format": "Format",
        "words": "Wörter",
        "turns": "Sprecherbeiträge",
        "segments": "Segmente",
        "imported": "Importiert",
        "imported_by": "Von",
        "choose_document": "Dokument",
        "metadata": "Kopfdaten",
        "attributes": "Attribute",
        "time": "Zeit",
        "speaker": "Sprecher*in",
        "role": "Rolle",
        "text": "Text",
        "interviewer": "Interviewer*in",
        "respondent": "Befragte*r",
        "language": "Sprache",
    },
    "en": {
        "app_title": "Codewerk",
        "documents": "Documents",
        "project": "Project",
        "project_file": "Project file",
        "open": "Open",
        "no_project": "No project file at {path}.",
        "no_documents": "No documents yet. Import transcripts with `codewerk import`.",
        "documents_count": "{n} documents, {words} words",
        "name": "Name",
        "format": "Format",
        "words": "Words",
        "turns": "Speaker turns",
        "segments": "Segments",
        "imported": "Imported",
        "imported_by": "By",
        "choose_document": "Document",
        "metadata": "Header",
        "attributes": "Attributes",
        "time": "Time",
        "speaker": "Speaker",
        "role": "Role",
        "text": "Text",
        "interviewer": "Interviewer",
        "respondent": "Respondent",
        "language": "Language",
    },
}
DEFAULT_LANGUAGE = os.environ.get("CODEWERK_LANGUAGE", "de")


def t(key: str, language: str | None = None, **values: object) -> str:
    """The interface string `key` in the chosen language, with `{placeholders}` filled in."""
    table = STRINGS.get(language or DEFAULT_LANGUAGE, STRINGS["de"])
    return table.get(key, STRINGS["de"][key]).format(**values)
