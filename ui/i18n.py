"""All interface strings: one TOML file per language in ui/locales (German is the default)."""
from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

LOCALES = Path(__file__).resolve().parent / "locales"
DEFAULT_LANGUAGE = os.environ.get("CODEWERK_LANGUAGE", "de")


@lru_cache(maxsize=None)
def strings(language: str) -> dict[str, str]:
    """The string table of a language (German when the language has no file)."""
    path = LOCALES / f"{language}.toml"
    if not path.exists():
        path = LOCALES / "de.toml"
    with path.open("rb") as f:
        return tomllib.load(f)


def languages() -> list[str]:
    return sorted(p.stem for p in LOCALES.glob("*.toml"))


def t(key: str, language: str | None = None, **values: object) -> str:
    """The interface string `key` in the chosen language, with `{placeholders}` filled in."""
    table = strings(language or DEFAULT_LANGUAGE)
    text = table.get(key) or strings("de")[key]
    return text.format(**values) if values else text
