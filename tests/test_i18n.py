"""Interface strings: one file per language, the same keys in each, every key the UI uses is there."""
from __future__ import annotations

import re
import string
from pathlib import Path

from ui.i18n import languages, strings, t

ROOT = Path(__file__).resolve().parents[1]
USED = re.compile(r"""\bt\(\s*["']([a-z_]+)["']""")
FAMILIES = re.compile(r"""\bt\(\s*f["']([a-z_]+)\{""")


def _ui_sources() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in [ROOT / "app.py", *sorted((ROOT / "ui").rglob("*.py"))])


def test_german_is_the_default_and_english_exists():
    assert {"de", "en"} <= set(languages())
    assert t("documents") == "Dokumente" and t("documents", "en") == "Documents"


def test_every_language_has_the_same_keys_and_placeholders():
    german = strings("de")
    for language in languages():
        table = strings(language)
        assert set(table) == set(german), language
        for key, text in table.items():
            fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
            assert fields == {f for _, f, _, _ in string.Formatter().parse(german[key]) if f}, (language, key)


def test_every_string_the_interface_asks_for_exists():
    source = _ui_sources()
    used = set(USED.findall(source))
    missing = sorted(k for k in used if k not in strings("de"))
    assert missing == []
    for prefix in FAMILIES.findall(source):
        assert any(k.startswith(prefix) for k in strings("de")), prefix


def test_confidences_read_as_whole_percent_and_never_as_certainty():
    from ui.text import percent

    assert [percent(s) for s in (0.0, 0.004, 0.006, 0.5, 0.994, 0.995, 1.0)] == [
        "< 1 %", "< 1 %", "1 %", "50 %", "99 %", "> 99 %", "> 99 %"]
