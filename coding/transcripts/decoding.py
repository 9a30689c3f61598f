"""Bytes to normalised text: encoding detection, binary detection, NFC and line endings."""
from __future__ import annotations

import unicodedata
from pathlib import Path

from coding.errors import BinaryFileError, EmptyFileError, EncodingError

# Magic numbers of files people rename to .txt by mistake, with what to tell them.
_MAGIC = [
    (b"PK\x03\x04", "it is a zip archive (a Word .docx file?)", "give it the extension of its real format"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "it is an old Office file (.doc)", "save it as .docx or .txt in Word"),
    (b"%PDF", "it is a PDF", "export the transcript from the PDF as text or Word first"),
    (b"\x89PNG", "it is a PNG image", None),
    (b"\xff\xd8\xff", "it is a JPEG image", None),
    (b"GIF8", "it is a GIF image", None),
    (b"ID3", "it is an MP3 audio file", "transcribe it first; Codewerk reads transcripts"),
    (b"RIFF", "it is an audio or video file", "transcribe it first; Codewerk reads transcripts"),
]


def decode_text(data: bytes, path: str | Path) -> tuple[str, str]:
    """Decode transcript bytes; return (normalised text, encoding name).

    Reads UTF-8 (with or without BOM), UTF-16 with BOM, and the legacy Windows encodings German
    transcripts come in (cp1252, latin-1). Raises for empty or binary files.
    """
    if not data.strip():
        raise EmptyFileError(path, "the file is empty")
    for magic, what, hint in _MAGIC:
        if data.startswith(magic):
            raise BinaryFileError(path, f"this is not a text file: {what}", hint or "")
    text, encoding = _decode(data, path)
    return normalise(text), encoding


def normalise(text: str) -> str:
    """Unicode NFC, `\\n` line endings, no BOM: the one normal form of every document text."""
    text = text.lstrip("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def _decode(data: bytes, path: str | Path) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data, "utf-8-sig", path), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(data, "utf-16", path), "utf-16"
    utf16 = _guess_utf16_without_bom(data)
    if utf16:
        return _strict(data, utf16, path), utf16
    if b"\x00" in data:
        raise BinaryFileError(path, "this is not a text file: it contains binary data (NUL bytes)")
    try:
        text = data.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError:
        # Bytes 0x80-0x9F are printable only in cp1252 („ “ – € …); without them the two agree.
        if any(0x80 <= b <= 0x9F for b in data):
            try:
                text, encoding = data.decode("cp1252"), "cp1252"
            except UnicodeDecodeError:
                text, encoding = data.decode("latin-1"), "latin-1"
        else:
            text, encoding = data.decode("latin-1"), "latin-1"
    _refuse_control_characters(text, path)
    return text, encoding


def _strict(data: bytes, encoding: str, path: str | Path) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        raise EncodingError(path, f"the file claims {encoding} but byte {e.start} is not valid {encoding}",
                            "save it again as UTF-8") from None


def _guess_utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a BOM has a NUL in every other byte for Latin script."""
    sample = data[:4000]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def _refuse_control_characters(text: str, path: str | Path) -> None:
    """Binary data decodes as latin-1 without error; many control characters give it away."""
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v")
    if controls > max(3, len(text) // 200):
        raise BinaryFileError(path, f"this is not a text file: {controls} control characters in it",
                              "check that you picked the transcript and not another file")
