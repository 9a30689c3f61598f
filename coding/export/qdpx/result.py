"""What a REFI-QDA project import stored and what it left out, readable in German or English.

REFI asks importers to say which data was lost; so every source, selection or note that could not be
taken over becomes a warning with its count, never a silent drop.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Each warning in both languages; German is the default for users.
MESSAGES: dict[str, dict[str, str]] = {
    "source_missing": {
        "de": "Quelle „{name}“: die Datei {path} fehlt im Archiv; {selections} markierte Stelle(n) nicht importiert",
        "en": "source '{name}': the file {path} is not in the archive; {selections} selection(s) not imported"},
    "source_external": {
        "de": "Quelle „{name}“ liegt außerhalb des Archivs ({path}); {selections} markierte Stelle(n) nicht importiert",
        "en": "source '{name}' lies outside the archive ({path}); {selections} selection(s) not imported"},
    "source_empty": {
        "de": "Quelle „{name}“ ist leer und wurde nicht importiert ({selections} markierte Stelle(n))",
        "en": "source '{name}' is empty and was not imported ({selections} selection(s))"},
    "source_unreadable": {
        "de": "Quelle „{name}“ ist nicht lesbar ({problem}); {selections} markierte Stelle(n) nicht importiert",
        "en": "source '{name}' cannot be read ({problem}); {selections} selection(s) not imported"},
    "source_reused": {
        "de": "Quelle „{name}“ ist schon als Dokument „{document}“ im Projekt; ihre Kodierungen kamen dorthin",
        "en": "source '{name}' is already in the project as document '{document}'; its codings were added there"},
    "source_renamed": {
        "de": "Quelle „{name}“ heißt im Projekt „{document}“, weil der Name schon vergeben ist",
        "en": "source '{name}' is called '{document}' in the project because the name was taken"},
    "unplaced": {
        "de": "Quelle „{name}“: {count} markierte Stelle(n) ließen sich nicht im Text verorten; nicht importiert",
        "en": "source '{name}': {count} selection(s) could not be placed in the text; not imported"},
    "unknown_code": {
        "de": "{count} Kodierung(en) verweisen auf Codes, die nicht in der Datei stehen; nicht importiert",
        "en": "{count} coding(s) refer to codes the file does not define; not imported"},
    "already_coded": {
        "de": "{count} Kodierung(en) waren schon im Projekt (gleiche Stelle, gleicher Code, gleiche Person) und "
              "wurden nicht noch einmal angelegt",
        "en": "{count} coding(s) were already in the project (same passage, code and person) and were not added "
              "again"},
    "duplicate": {
        "de": "{count} Kodierung(en) kamen doppelt vor (gleiche Stelle, gleicher Code, gleiche Person) "
              "und wurden einmal übernommen",
        "en": "{count} coding(s) were duplicates (same passage, code and person) and were taken once"},
    "uncoded_selection": {
        "de": "{count} markierte Stelle(n) ohne Code nicht importiert (Codewerk speichert kodierte Stellen)",
        "en": "{count} selection(s) without a code not imported (Codewerk stores coded passages)"},
    "whole_source": {
        "de": "{count} Kodierung(en) ganzer Quellen nicht importiert (Codewerk kodiert Textstellen; "
              "Merkmale ganzer Dokumente sind Attribute)",
        "en": "{count} coding(s) of whole sources not imported (Codewerk codes passages; features of whole "
              "documents are attributes)"},
    "other_sources": {
        "de": "{count} Quelle(n) anderer Art ({kinds}) nicht importiert, mit {codings} Kodierung(en)",
        "en": "{count} source(s) of other kinds ({kinds}) not imported, with {codings} coding(s)"},
    "left_out": {
        "de": "{count} {what} nicht übernommen (Codewerk-Projekte haben keine {what})",
        "en": "{count} {what} not taken over (Codewerk projects have no {what})"},
    "notes_unattached": {
        "de": "{count} Notiz(en) hängen an keinem Code, keiner Stelle und keiner Quelle; nicht importiert",
        "en": "{count} note(s) belong to no code, selection or source; not imported"},
    "note_missing": {
        "de": "{count} Verweis(e) auf Notizen ohne Inhalt im Archiv; diese Memos fehlen",
        "en": "{count} reference(s) to notes without content in the archive; those memos are missing"},
    "code_nameless": {
        "de": "ein Code ohne Namen (Zeile {line}) heißt jetzt „{name}“",
        "en": "a code without a name (line {line}) is now called '{name}'"},
    "bad_color": {
        "de": "Code „{name}“: die Farbe {color} ist nicht #RRGGBB; ohne Farbe übernommen",
        "en": "code '{name}': the colour {color} is not #RRGGBB; taken without colour"},
    "guid_twice": {
        "de": "Code „{name}“: die GUID {guid} gehört schon einem anderen Code der Datei; er bekam eine neue",
        "en": "code '{name}': the GUID {guid} belongs to another code of the file; it got a new one"},
    "variable_conflict": {
        "de": "Dokument „{name}“: {variable} hat zwei Werte („{kept}“, „{dropped}“); „{kept}“ übernommen",
        "en": "document '{name}': {variable} has two values ('{kept}', '{dropped}'); '{kept}' taken"},
}

_COUNTS = {
    "de": ("{n} Dokument(e) importiert", "{n} Code(s) übernommen", "{n} Kodierung(en) importiert",
           "{n} Memo(s) übernommen", "{n} Attributwert(e) (Variablen) übernommen", "{n} Person(en) neu angelegt"),
    "en": ("{n} document(s) imported", "{n} code(s) taken over", "{n} coding(s) imported",
           "{n} memo(s) taken over", "{n} attribute value(s) (variables) taken over", "{n} person(s) added"),
}
_MATCHED = {"de": "davon {n} schon im Projekt (gleiche GUID), unverändert gelassen",
            "en": "{n} of them already in the project (same GUID), left unchanged"}
_UNITS = {"de": "Quelle „{name}“: Positionen gezählt in {unit}", "en": "source '{name}': positions counted in {unit}"}
_WARNING = {"de": "Warnung: ", "en": "Warning: "}


@dataclass
class QdpxImportResult:
    """Counts of what a REFI-QDA import stored, and warnings for everything it could not take over."""

    documents: int = 0
    codes: int = 0
    codings: int = 0
    memos: int = 0
    variables: int = 0
    users: int = 0
    warnings: list[str] = field(default_factory=list)
    matched_codes: int = 0
    position_units: dict[str, str] = field(default_factory=dict)
    _keyed: list[tuple[str, dict]] = field(default_factory=list, repr=False)

    def warn(self, key: str, **values: object) -> None:
        """Record a warning (German in `warnings`; summary() can give it in English)."""
        self._keyed.append((key, values))
        self.warnings.append(MESSAGES[key]["de"].format(**values))

    def summary(self, language: str = "de") -> str:
        """One line per count and per warning, in German ("de") or English ("en")."""
        language = language if language in _COUNTS else "en"
        counts = (self.documents, self.codes, self.codings, self.memos, self.variables, self.users)
        lines = [template.format(n=n) for template, n in zip(_COUNTS[language], counts)]
        if self.matched_codes:
            lines[1] += f" ({_MATCHED[language].format(n=self.matched_codes)})"
        for name, unit in self.position_units.items():
            if unit != "code points":
                lines.append(_UNITS[language].format(name=name, unit=unit))
        lines += [_WARNING[language] + MESSAGES[key][language].format(**values) for key, values in self._keyed]
        return "\n".join(lines)
