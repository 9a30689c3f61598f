"""The words of the Word documents (synthesis and code report), in German by default or in English.

Headings, labels and the few sentences Codewerk writes itself live here, so that a document never
mixes languages and a new language is one more dictionary. Group names, code names and quotes are
the team's own text and are never translated.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from coding.errors import CodewerkError
from coding.timefmt import clock

LANGUAGES = ("de", "en")

_DE = {
    "producer": "Erstellt mit Codewerk",
    "synthesis": "Synthese",
    "code_report": "Codebericht",
    "toc": "Inhalt",
    "toc_placeholder": "Das Inhaltsverzeichnis wird beim Öffnen in Word erstellt. Falls nicht: mit der rechten "
                       "Maustaste hineinklicken und „Felder aktualisieren“ wählen (oder F9 drücken).",
    "run_line": "Themenlauf „{name}“, Revision {revision} vom {when}",
    "project_line": "Projekt: {name}",
    "method": "Methode",
    "corpus": "Korpus",
    "corpus_intro": "Das Korpus umfasst {n} Interviews.",
    "codebook_brief": "Codebuch (Kurzfassung)",
    "coding": "Codierung",
    "coders_intro": "Codierte Stellen je Person (ohne die Stellen, die durch übernommene Themen entstanden sind):",
    "no_codings": "Es gibt noch keine codierten Stellen.",
    "agreement": "Intercoder-Übereinstimmung",
    "agreement_none": "Nicht berechnet.",
    "theme_building": "Themenbildung",
    "theme_intro": "Die Themen wurden aus {segments} codierten Stellen gebildet: Jede Stelle wurde mit einem "
                   "Sprachmodell eingebettet, die Stellen wurden nach Ähnlichkeit gruppiert und die Gruppen "
                   "von der Projektleitung geprüft. Das Verfahren ist mit seinen Parametern unten festgehalten.",
    "themes_order": "Übernommene Themen stehen zuerst, danach die Themen, die am gleichmäßigsten über die "
                    "Stakeholdergruppen verteilt sind. Verworfene Themen sind nicht aufgeführt.",
    "matrix": "Themen × Stakeholdergruppen",
    "matrix_intro": "Codierte Stellen je Thema und Stakeholdergruppe.",
    "appendix": "Anhang: Codebuch",
    "group": "Stakeholdergruppe",
    "level": "Ebene",
    "interviews": "Interviews",
    "total": "Summe",
    "code": "Code",
    "name": "Name",
    "definition": "Definition",
    "person": "Person",
    "codings": "Codierte Stellen",
    "theme": "Thema",
    "setting": "Angabe",
    "value": "Wert",
    "step": "Schritt",
    "parameters": "Parameter",
    "embedder": "Einbettungsmodell",
    "seed": "Zufallsstartwert",
    "n_themes": "Themenzahl (gewünscht / gewählt)",
    "passages": "Codierte Stellen im Lauf",
    "selection": "Auswahl",
    "all_codes": "alle codierbaren Hauptcodes",
    "facet": "nur Stellen mit",
    "revision": "Revision",
    "no_description": "Die Projektleitung hat dieses Thema noch nicht beschrieben.",
    "accepted_as": "Als Code „{code}“ in das Codebuch übernommen.",
    "keywords": "Schlüsselwörter: {words}",
    "quotes": "Ausgewählte Zitate",
    "codes_involved": "Beteiligte Codes",
    "passage": ("Stelle", "Stellen"),
    "coded_passage": ("codierte Stelle", "codierte Stellen"),
    "interview": ("Interview", "Interviews"),
    "chart_caption": "Interviews je Stakeholdergruppe, die das Thema ansprechen (Balken: Anteil an den "
                     "Interviews der Gruppe in diesem Themenlauf)",
    "figure": "Abbildung {n}",
    "of": "von",
    "no_group": "ohne Angabe",
    "paragraph": "Abs. {n}",
    "anchors": "Ankerbeispiele",
    "include": "Einschluss",
    "exclude": "Ausschluss",
    "memo": "Memo",
    "coded_by": "codiert von {coder}",
    "code_summary": "{segments} in {interviews}.",
    "no_segments": "Zu diesem Code gibt es keine codierten Stellen.",
    "no_definition": "Ohne Definition.",
    "report_intro": "Alle codierten Stellen je Code, nach Interviews geordnet, mit Quelle und Person.",
}

_EN = {
    "producer": "Made with Codewerk",
    "synthesis": "Synthesis",
    "code_report": "Code report",
    "toc": "Contents",
    "toc_placeholder": "Word fills in the table of contents when it opens the document. If it does not: "
                       "right-click here and choose “Update Field” (or press F9).",
    "run_line": "Theme run “{name}”, revision {revision} of {when}",
    "project_line": "Project: {name}",
    "method": "Method",
    "corpus": "Corpus",
    "corpus_intro": "The corpus holds {n} interviews.",
    "codebook_brief": "Codebook in brief",
    "coding": "Coding",
    "coders_intro": "Coded passages per person (without the passages made by accepting themes):",
    "no_codings": "Nothing has been coded yet.",
    "agreement": "Intercoder agreement",
    "agreement_none": "Not computed.",
    "theme_building": "Building the themes",
    "theme_intro": "The themes were built from {segments} coded passages: each passage was embedded with a "
                   "language model, the passages were grouped by similarity, and the groups were reviewed by "
                   "the team lead. The procedure and its parameters are recorded below.",
    "themes_order": "Accepted themes come first, then the themes spread most evenly across the stakeholder "
                    "groups. Discarded themes are left out.",
    "matrix": "Themes × stakeholder groups",
    "matrix_intro": "Coded passages per theme and stakeholder group.",
    "appendix": "Appendix: codebook",
    "group": "Stakeholder group",
    "level": "Level",
    "interviews": "Interviews",
    "total": "Total",
    "code": "Code",
    "name": "Name",
    "definition": "Definition",
    "person": "Person",
    "codings": "Coded passages",
    "theme": "Theme",
    "setting": "Setting",
    "value": "Value",
    "step": "Step",
    "parameters": "Parameters",
    "embedder": "Embedding model",
    "seed": "Random seed",
    "n_themes": "Number of themes (asked / chosen)",
    "passages": "Coded passages in the run",
    "selection": "Selection",
    "all_codes": "all codable top-level codes",
    "facet": "only passages with",
    "revision": "Revision",
    "no_description": "The team lead has not described this theme yet.",
    "accepted_as": "Accepted into the codebook as the code “{code}”.",
    "keywords": "Keywords: {words}",
    "quotes": "Selected quotes",
    "codes_involved": "Codes involved",
    "passage": ("passage", "passages"),
    "coded_passage": ("coded passage", "coded passages"),
    "interview": ("interview", "interviews"),
    "chart_caption": "Interviews per stakeholder group that raise the theme (bars: share of the group's "
                     "interviews in this theme run)",
    "figure": "Figure {n}",
    "of": "of",
    "no_group": "no group",
    "paragraph": "para. {n}",
    "anchors": "Anchor examples",
    "include": "Include",
    "exclude": "Exclude",
    "memo": "Memo",
    "coded_by": "coded by {coder}",
    "code_summary": "{segments} in {interviews}.",
    "no_segments": "No passage is coded with this code.",
    "no_definition": "No definition.",
    "report_intro": "Every coded passage per code, ordered by interview, with its source and coder.",
}

_WORDS = {"de": _DE, "en": _EN}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")

# Dative plurals (and singulars) of the stakeholder groups a German study usually names, so that the
# sentence under a theme reads "Genannt von 9 Kommunen und 2 Verbänden". Unknown groups fall back to
# a form that is right for any name.
_GROUP_NOUNS = {
    "kommune": ("Kommune", "Kommunen"),
    "stadt": ("Stadt", "Städten"),
    "landkreis": ("Landkreis", "Landkreisen"),
    "verband": ("Verband", "Verbänden"),
    "wohlfahrtsverband": ("Wohlfahrtsverband", "Wohlfahrtsverbänden"),
    "kommunaler spitzenverband": ("kommunalen Spitzenverband", "kommunalen Spitzenverbänden"),
    "ministerium": ("Ministerium", "Ministerien"),
    "bundesministerium": ("Bundesministerium", "Bundesministerien"),
    "landesministerium": ("Landesministerium", "Landesministerien"),
    "mso": ("Migrant*innenorganisation", "Migrant*innenorganisationen"),
    "migrant*innenorganisation": ("Migrant*innenorganisation", "Migrant*innenorganisationen"),
    "migrant*innenselbstorganisation": ("Migrant*innenselbstorganisation", "Migrant*innenselbstorganisationen"),
    "wohnungswirtschaft": ("Wohnungsunternehmen", "Wohnungsunternehmen"),
    "wissenschaft": ("Stimme aus der Wissenschaft", "Stimmen aus der Wissenschaft"),
    "zivilgesellschaft": ("zivilgesellschaftlichen Organisation", "zivilgesellschaftlichen Organisationen"),
}


class Wording:
    """The labels of one language: `words["method"]`, or `words("run_line", name=...)` to fill a template."""

    def __init__(self, language: str) -> None:
        if language not in _WORDS:
            raise CodewerkError(f"no document wording for language {language!r}; choose one of "
                                f"{', '.join(LANGUAGES)}")
        self.language = language
        self._words = _WORDS[language]

    def __getitem__(self, key: str) -> str:  # (the nouns are pairs: use count() for them)
        return self._words[key]

    def __call__(self, key: str, **values: object) -> str:
        return self._words[key].format(**values)

    def count(self, n: int, noun: str) -> str:
        """"1 Stelle", "3 Stellen": a number with its noun in singular or plural."""
        singular, plural = self._words[noun]
        return f"{n} {singular if n == 1 else plural}"

    def date(self, day: date) -> str:
        """A date as readers of the language write it (22.11.2026 / 22 November 2026)."""
        if self.language == "de":
            return day.strftime("%d.%m.%Y")
        return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"  # not strftime: that follows the OS locale

    def number(self, value: float, digits: int = 2) -> str:
        """A decimal number with the language's decimal mark."""
        text = f"{value:.{digits}f}"
        return text.replace(".", ",") if self.language == "de" else text

    def source(self, interview: str, group: str | None, timestamp: float | None, line: int | None,
               *extra: str) -> str:
        """"K07, Kommune, 00:12:31": the turn's time when the transcript has one, else "Abs. N" (its line)."""
        parts = [interview]
        if group:
            parts.append(group)
        if timestamp is not None:
            parts.append(clock(timestamp))
        elif line is not None:
            parts.append(self("paragraph", n=line))
        parts.extend(e for e in extra if e)
        return ", ".join(parts)

    def mentioned_by(self, interviews: Mapping[str, int]) -> str:
        """The sentence naming who raised a theme, from interviews per group (most first)."""
        total = sum(interviews.values())
        groups = [(group, n) for group, n in interviews.items() if n]
        if self.language == "de":
            nouns = [_GROUP_NOUNS.get(group.casefold()) for group, _ in groups]
            if groups and all(nouns):
                parts = [f"{n} {noun[0] if n == 1 else noun[1]}" for (_, n), noun in zip(groups, nouns)]
                return f"Genannt von {_listing(parts, 'und')} ({self.count(total, 'interview')})."
            parts = [f"{group} {n}" for group, n in groups]
            return f"Genannt in {self.count(total, 'interview')}: {_listing(parts, 'und')}."
        parts = [f"{group} {n}" for group, n in groups]
        return f"Mentioned in {self.count(total, 'interview')}: {_listing(parts, 'and')}."


def _listing(parts: list[str], conjunction: str) -> str:
    """"a, b and c" (German and English alike: no serial comma)."""
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} {conjunction} {parts[-1]}"
