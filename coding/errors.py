"""Codewerk's one exception hierarchy.

Every message says what is wrong, where (file, line, code id) and, where possible, what to do.
The CLI and the UI turn these into one line for the user; nothing else should reach them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class CodewerkError(Exception):
    """Base of every error Codewerk raises on purpose."""


class InputError(CodewerkError):
    """A file given to Codewerk cannot be used; names the file and the problem."""

    def __init__(self, path: str | Path, problem: str, hint: str = "") -> None:
        self.path = str(path)
        self.problem = problem
        self.hint = hint
        message = f"{self.path}: {problem}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)


class EmptyFileError(InputError):
    """The file has no content."""


class FileTooLargeError(InputError):
    """The file is over the configured size limit."""


class UnsupportedFormatError(InputError):
    """Codewerk has no reader for this kind of file."""


class EncodingError(InputError):
    """The bytes are not text in any encoding Codewerk reads."""


class BinaryFileError(EncodingError):
    """The file holds binary data although its name promises text."""


class CorruptDocumentError(InputError):
    """A Word file that cannot be opened (damaged, not really .docx)."""


class EncryptedDocumentError(CorruptDocumentError):
    """A password-protected Word file."""


class SubtitleError(InputError):
    """A WebVTT or SRT file that breaks the format; names the line."""

    def __init__(self, path: str | Path, problem: str, line: int | None = None, hint: str = "") -> None:
        self.line = line
        where = f"line {line}: " if line else ""
        super().__init__(path, where + problem, hint)


class NoTextError(InputError):
    """A readable file without any transcript text in it."""


class MetadataError(InputError):
    """A metadata CSV that is malformed or names files that are not there."""


class ImportFailed(CodewerkError):
    """Several files of one import failed; nothing of the import was stored."""

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = errors
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(f"{len(errors)} file(s) could not be imported, nothing was stored:\n{lines}")


class DuplicateDocumentError(InputError):
    """The same file (same bytes) is already a document of the project."""


@dataclass(frozen=True)
class Problem:
    """One problem found in a file, with the line it is on (1-based; None when unknown)."""

    message: str
    line: int | None = None
    code_id: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        code = f"code {self.code_id}: " if self.code_id else ""
        return f"{where}{code}{self.message}"


class CodebookError(CodewerkError):
    """A codebook file with one or more problems; lists every one with its line."""

    def __init__(self, path: str | Path, problems: list[Problem]) -> None:
        self.path = str(path)
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{self.path}: {len(problems)} problem(s) in the codebook:\n{lines}")


class StoreError(CodewerkError):
    """The project database cannot do what was asked (missing project, unknown document, ...)."""


class ProjectNotFoundError(StoreError):
    """No project database at the given path."""


class UnknownDocumentError(StoreError):
    """No document with that id or name in the project."""


class MigrationError(StoreError):
    """A schema migration failed; the backup made before it is named in the message."""


class AccountError(CodewerkError):
    """A login or account problem the user can fix (wrong password, a password too weak, ...)."""


class LoginFailed(AccountError):
    """The name and password do not open an account; never says which of the two was wrong."""


class WeakPasswordError(AccountError):
    """A new password breaks the password rules; the message says which rule and how to fix it."""


class ModelNotAvailable(CodewerkError):
    """An embedding model is not on this machine (Codewerk never downloads one); says how to provide it."""


class TuningError(CodewerkError):
    """An embedding model cannot be tuned on these codings, or a tuned file does not fit the model."""


class ExportError(CodewerkError):
    """A result cannot be written (an unwritable place, nothing to export); says what to do."""
