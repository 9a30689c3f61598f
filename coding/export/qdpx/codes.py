"""The codes of a REFI-QDA project -> codes of a Codewerk project (matched by GUID, else new).

A code the project already has (same GUID, in any spelling) is kept as it is: the project's codebook
is the team's, an import only links codings to it. A new code gets the Codewerk id its Description
carries (a project exported by Codewerk), else a readable id made from its name.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from coding.codebook.model import COLOR, Code, Codebook, guid_key, refi_guid, validate
from coding.codebook.refi import parse_code_description, slug
from coding.errors import CodebookError
from coding.export.qdpx.read import RefiCode
from coding.export.qdpx.result import QdpxImportResult


def join_memos(texts: list[str]) -> str:
    """Several memo texts of one thing as one memo: each once, in order, separated by a blank line.

    One text is kept exactly as written (a memo exported as Description and as Note comes back as it was).
    """
    kept: list[str] = []
    for text in texts:
        if text and text.strip() and text.strip() not in [k.strip() for k in kept]:
            kept.append(text)
    return kept[0] if len(kept) == 1 else "\n\n".join(k.strip() for k in kept)


@dataclass
class CodePlan:
    """Which project code each REFI code GUID means, and the codes to add."""

    ids: dict[str, str] = field(default_factory=dict)  # GUID key -> code id
    new: list[Code] = field(default_factory=list)
    matched: int = 0
    memos: int = 0

    def codebook(self, existing: Codebook) -> Codebook:
        """The project's codebook with the new codes added after the existing ones."""
        return Codebook(name=existing.name, description=existing.description, codes=existing.codes + self.new)


def plan_codes(codes: list[RefiCode], existing: Codebook, all_ids: set[str], note_text: Callable[[str], str],
               result: QdpxImportResult, where: str) -> CodePlan:
    """Match or create a code for every REFI code; CodebookError (naming `where`) if they break the rules."""
    plan = CodePlan()
    known = {guid_key(refi_guid(code)): code.id for code in existing.codes}
    used = set(all_ids)
    seen_guids: set[str] = set()
    parsed = []
    for i, refi in enumerate(codes):
        # A code without GUID is still a parent: read.py names it by its position, so do we.
        key = guid_key(refi.guid) if refi.guid else f"missing-guid-{i}"
        fields, code_id = parse_code_description(refi.description)
        parsed.append((refi, key, fields, code_id))
    # Codewerk ids from the file first, so an id made from a name never takes one of them.
    wanted = {code_id for refi, key, _, code_id in parsed if code_id and key not in known and code_id not in used}
    used |= wanted
    for refi, key, fields, code_id in parsed:
        if key and key in known and key not in seen_guids:
            plan.ids[key] = known[key]
            plan.matched += 1
            seen_guids.add(key)
            continue
        guid = refi.guid or None
        if key in seen_guids:
            result.warn("guid_twice", name=refi.name, guid=refi.guid)
            guid = None
        name = refi.name
        if not name:
            name = f"Code {len(plan.new) + 1}"
            result.warn("code_nameless", line=refi.line or "?", name=name)
        if code_id not in wanted:
            code_id = slug(name, "code", used)
        wanted.discard(code_id)
        color = refi.color
        if color is not None and not COLOR.fullmatch(color):
            result.warn("bad_color", name=name, color=color)
            color = None
        memo = join_memos([fields.pop("memo", "")] + [note_text(note) for note in refi.notes])
        plan.memos += bool(memo)
        parent = plan.ids.get(refi.parent) if refi.parent else None
        code = Code(id=code_id, name=name, parent=parent, color=color, codable=refi.codable, guid=guid,
                    memo=memo, **fields)
        plan.new.append(code)
        plan.ids.setdefault(key, code_id)
        seen_guids.add(key)
    problems = validate(plan.codebook(existing))
    if problems:
        raise CodebookError(where, problems)
    return plan
