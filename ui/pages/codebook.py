"""Codebook page: the code tree with colours and counts; leads and admins edit, merge, move, delete."""
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from coding.codebook import Code, dump_codebook, export_qdc, load_codebook
from coding.errors import CodewerkError
from ui.colors import code_colors
from ui.i18n import t
from ui.session import current_session
from ui.state import language, open_project, require

lang = language()
project = open_project()
session = current_session(project)
may_edit = require(session, "edit_codebook")
st.title(t("codebook", lang))
if not may_edit:
    st.caption(t("codebook_read_only", lang))

codes = project.codes()
counts = project.code_counts()
colour_of = code_colors(codes)
by_id = {c["id"]: c for c in codes}


def _depth(code: dict) -> int:
    depth = 0
    while code["parent"] in by_id:
        code, depth = by_id[code["parent"]], depth + 1
    return depth


def _tree_order() -> list[dict]:
    ordered: list[dict] = []

    def visit(parent):
        for c in codes:
            if c["parent"] == parent or (parent is None and c["parent"] not in by_id):
                if c not in ordered:
                    ordered.append(c)
                    visit(c["id"])
    visit(None)
    return ordered


tree = _tree_order()
rates = {r["code_id"]: r for r in project.suggestion_rates()} if may_edit else {}


def _acceptance(code_id: str) -> str:
    """How often suggestions of this code were accepted (shown to leads and admins)."""
    rate = rates.get(code_id)
    return f"{rate['rate']:.0%} ({rate['accepted']}/{rate['accepted'] + rate['rejected']})" if rate else ""


frame = pd.DataFrame([{"": "", t("code_id", lang): c["id"], t("name", lang): "    " * _depth(c) + c["name"],
                       t("codings", lang): counts.get(c["id"], 0),
                       **({t("suggestions_accepted", lang): _acceptance(c["id"])} if may_edit else {})}
                      for c in tree])
colours = [colour_of[c["id"]] for c in tree]
styled = frame.style.apply(lambda column: [f"background-color: {colour}" for colour in colours], subset=[""])
st.dataframe(styled, hide_index=True, width="stretch", height=min(600, 38 + 35 * len(tree)))

labels = {c["id"]: f"{c['id']} · {c['name']}" for c in tree}
chosen_id = st.selectbox(t("choose_code", lang), list(labels), format_func=labels.get, key="codebook_code")
code = by_id.get(chosen_id)

if code:
    st.subheader(code["name"])
    with st.form(f"edit_{code['id']}"):
        name = st.text_input(t("name", lang), code["name"], disabled=not may_edit)
        colour = st.color_picker(t("color", lang), colour_of[code["id"]], disabled=not may_edit)
        parents = [""] + [c for c in labels if c != code["id"]]
        parent = st.selectbox(t("parent", lang), parents, index=parents.index(code["parent"] or ""),
                              format_func=lambda i: labels.get(i, t("no_parent", lang)), disabled=not may_edit)
        definition = st.text_area(t("definition", lang), code["definition"] or "", disabled=not may_edit)
        anchors = st.text_area(t("anchors_one_per_block", lang), "\n\n".join(code["anchors"]), disabled=not may_edit,
                               help=t("anchors_help", lang))
        include = st.text_area(t("include", lang), code["include"] or "", disabled=not may_edit)
        exclude = st.text_area(t("exclude", lang), code["exclude"] or "", disabled=not may_edit)
        memo = st.text_area(t("memo", lang), code["memo"] or "", disabled=not may_edit)
        saved = st.form_submit_button(t("save", lang), type="primary", disabled=not may_edit)
    if saved:
        try:
            # Only a colour the lead picked is stored; a code shown in its palette colour keeps none.
            chosen_colour = colour if (code["color"] or colour.upper() != colour_of[code["id"]]) else None
            project.update_code(code["id"], session.user, name=name, color=chosen_colour, definition=definition,
                                anchors=[a.strip() for a in anchors.split("\n\n") if a.strip()],
                                include=include, exclude=exclude, memo=memo)
            if (parent or None) != code["parent"]:
                project.move_code(code["id"], parent or None, session.user)
        except CodewerkError as e:
            st.error(str(e))
        else:
            st.success(t("saved", lang))
            st.rerun()

    if may_edit:
        merge_col, delete_col = st.columns(2)
        with merge_col.container(border=True):
            st.caption(t("merge_into", lang))
            targets = [c for c in labels if c != code["id"]]
            target = st.selectbox(t("target_code", lang), targets, format_func=labels.get, key="merge_target")
            if st.button(t("merge", lang), key="merge"):
                moved = project.merge_codes(code["id"], target, session.user)
                st.session_state["codebook_code"] = target
                st.success(t("merged", lang, n=moved))
                st.rerun()
        with delete_col.container(border=True):
            usage = project.code_usage(code["id"])
            st.caption(t("delete_code", lang))
            st.text(t("delete_usage", lang, codings=usage["codings"], documents=usage["documents"],
                      coders=len(usage["coders"]), children=len(usage["children"])))
            sure = st.checkbox(t("delete_confirm", lang, name=code["name"]), key=f"sure_{code['id']}")
            if st.button(t("delete", lang), key="delete", disabled=not sure or bool(usage["children"])):
                removed = project.delete_code(code["id"], session.user)
                st.session_state.pop("codebook_code", None)
                st.success(t("deleted", lang, n=removed))
                st.rerun()

if may_edit:
    with st.expander(t("new_code", lang)):
        with st.form("new_code"):
            new_name = st.text_input(t("name", lang))
            new_id = st.text_input(t("code_id", lang), help=t("code_id_help", lang))
            new_parent = st.selectbox(t("parent", lang), [""] + list(labels),
                                      format_func=lambda i: labels.get(i, t("no_parent", lang)))
            new_colour = st.color_picker(t("color", lang), "#4E79A7")
            new_definition = st.text_area(t("definition", lang))
            create = st.form_submit_button(t("create", lang), type="primary")
        if create and new_name.strip():
            try:
                created = project.add_code(Code(id=new_id.strip() or project.new_code_id(new_name), name=new_name,
                                                parent=new_parent or None, color=new_colour,
                                                definition=new_definition), session.user)
            except CodewerkError as e:
                st.error(str(e))
            else:
                st.session_state["codebook_code"] = created
                st.rerun()

st.subheader(t("exchange", lang))
codebook = project.codebook()
left, right = st.columns(2)
left.download_button(t("export_yaml", lang), dump_codebook(codebook).encode("utf-8"), "codebook.yaml",
                     mime="application/yaml", disabled=not codes)
right.download_button(t("export_qdc", lang), export_qdc(codebook) if codes else b"", "codebook.qdc",
                      mime="application/xml", disabled=not codes)
if may_edit:
    upload = st.file_uploader(t("import_codebook", lang), type=["yaml", "yml", "qdc"], key="codebook_upload")
    if upload is not None and st.button(t("import", lang), key="import_codebook"):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(upload.name).name
            path.write_bytes(upload.getvalue())
            try:
                changed = project.save_codebook(load_codebook(path), session.user)
            except CodewerkError as e:
                st.error(str(e).replace(str(Path(tmp)) + "/", ""))
            else:
                st.success(t("codebook_imported", lang, n=changed))
