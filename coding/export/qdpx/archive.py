"""The .qdpx container: reading an untrusted archive (or a bare .qde) safely, writing a reproducible one.

An archive from another program is untrusted input. Before anything is unpacked, every member name
is checked (no `..`, no absolute paths) and every size (declared total, compression ratio); members
are read into memory with a hard cap, never extracted to disk.
"""
from __future__ import annotations

import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from coding.errors import EmptyFileError, FileTooLargeError, InputError
from coding.transcripts.readers import max_bytes_from_env

MAX_QDE_BYTES = 256 * 1024 * 1024
# A text compresses 3-10 times, repetitive XML up to about 50; deflate cannot pass about 1030.
MAX_RATIO = 200
RATIO_FLOOR = 1024 * 1024  # small members may compress as well as they like
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024  # what one import may unpack: project, texts, Word files
_READABLE = (".qde", ".txt", ".docx")  # media members are never unpacked, so their size does not count
_CHUNK = 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the zip epoch: the same project gives the same bytes
_HINT = "export the project again from the QDA program it came from"


@dataclass
class QdpxArchive:
    """A REFI-QDA project as read: where it came from, its .qde bytes, and its members (if a zip)."""

    path: Path
    qde_name: str
    qde: bytes
    _zip: zipfile.ZipFile | None = None
    _members: dict[str, zipfile.ZipInfo] = field(default_factory=dict)
    read_bytes: int = 0

    @property
    def where(self) -> str:
        """How errors and warnings name the .qde: `file.qdpx (project.qde)` or the bare file."""
        return f"{self.path} ({self.qde_name})" if self._zip else str(self.path)

    def member(self, reference: str) -> str | None:
        """The member a source path (`internal://x.txt`, `x.txt`) names, looked up case-insensitively."""
        if self._zip is None:
            return None
        name = reference.split("://", 1)[1] if "://" in reference else reference
        name = name.replace("\\", "/").lstrip("/")
        for candidate in (f"sources/{name}", name):
            if candidate.lower() in self._members:
                return self._members[candidate.lower()].filename
        # Some producers put the files elsewhere: a unique match by file name will do.
        base = PurePosixPath(name).name.lower()
        matches = [info.filename for key, info in self._members.items() if PurePosixPath(key).name == base]
        return matches[0] if len(matches) == 1 else None

    def read(self, member: str, limit: int) -> bytes:
        """A member's bytes, refusing more than `limit` bytes or more than it declared."""
        info = self._zip.getinfo(member)  # type: ignore[union-attr]
        where = f"{self.path} ({member})"
        if info.file_size > limit:
            raise FileTooLargeError(where, f"the file unpacks to {info.file_size / 1e6:.1f} MB, more than the "
                                    f"limit of {limit / 1e6:.1f} MB", "raise CODEWERK_MAX_FILE_MB if it is genuine")
        if self.read_bytes + info.file_size > MAX_TOTAL_BYTES:
            raise FileTooLargeError(self.path, "the archive unpacks to more than "
                                    f"{MAX_TOTAL_BYTES / 1e9:.0f} GB", _HINT)
        data = _read_capped(self._zip, info, min(limit, info.file_size), where)  # type: ignore[arg-type]
        self.read_bytes += len(data)
        return data

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, where: str) -> bytes:
    """Read in chunks: a member whose header lies about its size is stopped at the cap."""
    chunks, total = [], 0
    try:
        with archive.open(info) as stream:
            while True:
                chunk = stream.read(_CHUNK)
                if not chunk:
                    break
                total += len(chunk)
                if total > limit:
                    raise InputError(where, "the file unpacks to more bytes than the archive says "
                                     "(a decompression bomb?)", _HINT)
                chunks.append(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as error:
        raise InputError(where, f"the archive member is damaged ({error})", _HINT) from None
    except RuntimeError as error:  # zipfile's way of saying "encrypted"
        raise InputError(where, f"the archive member cannot be read ({error})",
                         "export it again without a password") from None
    except NotImplementedError as error:
        raise InputError(where, f"the archive uses a compression Codewerk cannot unpack ({error})",
                         "pack it again as an ordinary zip") from None
    return b"".join(chunks)


def unsafe_name(name: str) -> str | None:
    """Why an archive member name is dangerous (path traversal, absolute path), or None."""
    normal = name.replace("\\", "/")
    if "\x00" in name:
        return "contains a NUL character"
    if normal.startswith("/") or _DRIVE.match(normal):
        return "is an absolute path"
    if ".." in normal.split("/"):
        return "climbs out of the archive with '..'"
    return None


def open_archive(path: str | Path) -> QdpxArchive:
    """Open a .qdpx (zip with one .qde at its root) or a bare .qde; refuse anything unsafe or broken."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file", "check the path of the REFI-QDA project (.qdpx)")
    if zipfile.is_zipfile(path):
        return _open_zip(path)
    size = path.stat().st_size
    if size == 0:
        raise EmptyFileError(path, "the file is empty")
    with path.open("rb") as stream:
        head = stream.read(512)
    text_head = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if not (text_head.startswith(b"<") or head.startswith((b"\xff\xfe", b"\xfe\xff"))):
        raise InputError(path, "is neither a REFI-QDA project archive (.qdpx, a zip file) nor a project "
                         "file (.qde, XML)", "choose the .qdpx file your QDA program exported")
    if size > MAX_QDE_BYTES:
        raise FileTooLargeError(path, f"the project file has {size / 1e6:.0f} MB, more than "
                                f"{MAX_QDE_BYTES / 1e6:.0f} MB", _HINT)
    return QdpxArchive(path, path.name, path.read_bytes())


def _open_zip(path: Path) -> QdpxArchive:
    try:
        archive = zipfile.ZipFile(path)
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise InputError(path, f"the zip archive is damaged ({error})", _HINT) from None
    try:
        members = _checked_members(path, infos)
        qde_name = _qde_member(path, members)
        result = QdpxArchive(path, qde_name, b"", archive, members)
        result.qde = result.read(qde_name, MAX_QDE_BYTES)
        return result
    except BaseException:
        archive.close()
        raise


def _checked_members(path: Path, infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
    """Members by lower-case name, after refusing dangerous names and implausible sizes."""
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        problem = unsafe_name(info.filename)
        if problem:
            raise InputError(path, f"the archive member {info.filename!r} {problem}; Codewerk does not "
                             "open such archives", "it is damaged or was made to attack; do not unpack it")
        if info.filename.lower().endswith(_READABLE):
            total += info.file_size
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise InputError(path, f"the archive member {info.filename!r} would unpack from "
                             f"{info.compress_size:,} to {info.file_size:,} bytes (more than {MAX_RATIO} times): "
                             "a decompression bomb", "it is damaged or was made to attack; do not unpack it")
        if info.is_dir():
            continue
        members[info.filename.replace("\\", "/").lower()] = info
    if total > MAX_TOTAL_BYTES:
        raise FileTooLargeError(path, f"its project and text files would unpack to {total / 1e9:.1f} GB, more than "
                                f"{MAX_TOTAL_BYTES / 1e9:.0f} GB", "a decompression bomb, or far too much text")
    return members


def _qde_member(path: Path, members: dict[str, zipfile.ZipInfo]) -> str:
    """The one .qde at the archive's root (`project.qde` wins if there are several)."""
    found = [info.filename for key, info in members.items() if key.endswith(".qde") and "/" not in key]
    if not found:
        raise InputError(path, "the archive holds no project file (.qde) at its top level",
                         "a REFI-QDA project (.qdpx) holds project.qde and a sources folder; "
                         "export the project again")
    if len(found) > 1:
        named = [name for name in found if name.lower() == "project.qde"]
        if len(named) != 1:
            raise InputError(path, f"the archive holds several project files ({', '.join(sorted(found))})",
                             "keep one of them")
        return named[0]
    return found[0]


def source_limit() -> int:
    """The most bytes one source file may unpack to: the transcript size limit (CODEWERK_MAX_FILE_MB)."""
    return max_bytes_from_env()


def write_archive(out: str | Path | BinaryIO, qde: bytes, sources: dict[str, bytes]) -> None:
    """Write project.qde and sources/<name> as a zip whose bytes depend only on the content."""
    def fill(target: str | BinaryIO) -> None:
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in [("project.qde", qde)] + [(f"sources/{n}", d) for n, d in sorted(sources.items())]:
                info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)

    if isinstance(out, (str, Path)):
        out = Path(out)
        # Written beside the target and moved into place: an interrupted export leaves no broken file.
        partial = out.with_name(out.name + ".partial")
        try:
            fill(str(partial))
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
    else:
        buffer = io.BytesIO()
        fill(buffer)
        out.write(buffer.getvalue())
