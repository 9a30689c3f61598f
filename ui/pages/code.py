"""Code page: read a transcript, select a passage with the mouse, apply codes; see and edit codings."""
import streamlit as st

from coding.codebook import Code
from coding.errors import CodewerkError
from coding.spans import passage_at
from coding.suggest.review import accept_suggestion, reject_suggestion
from ui.components.transcript import transcript_view
from ui.i18n import t
from ui.session import current_session
from ui.state import language, open_project, require
from ui.suggestions import service, suggester_version
from ui.text import md_escape, percent, shorten

INVIVO_PARENT = "INVIVO"
SHOWN_PER_GROUP = 3
MIN_SHOWN = 0.05  # suggestions below this confidence are not shown, except a group's best
lang = language()
project = open_project()
session = current_session(project)
documents = project.documents()
if not documents:
    st.title(t("code", lang))
    st.info(t("no_documents", lang))
    st.stop()

# -- which document ---------------------------------------------------------------------------------
# One picker with a stable key; the arrows, the Retrieve page and the URL set its value before it is
# drawn, so the page never shows two pickers while it changes documents.
ids = [d["id"] for d in documents]
opened = st.session_state.pop("open_coding", None)
if opened:
    st.session_state["document_picker"] = opened["document_id"]
    st.session_state["focus_coding"] = opened["coding_id"]
if st.session_state.get("document_picker") not in ids:
    # After a reload the URL says which interview was open (?doc=K17).
    by_name = {d["name"]: d["id"] for d in documents}
    st.session_state["document_picker"] = by_name.get(st.query_params.get("doc"), ids[0])
position = ids.index(st.session_state["document_picker"])


def _go(step: int) -> None:
    st.session_state["document_picker"] = ids[position + step]


previous, choice, following = st.columns([1, 6, 1], vertical_alignment="bottom")
previous.button("◀", key="previous_document", disabled=position == 0, help=t("previous_document", lang),
                on_click=_go, args=(-1,))
following.button("▶", key="next_document", disabled=position == len(ids) - 1, help=t("next_document", lang),
                 on_click=_go, args=(1,))
by_id = {d["id"]: d for d in documents}
chosen = choice.selectbox(
    t("document", lang), ids, key="document_picker",
    format_func=lambda i: " · ".join(dict.fromkeys([by_id[i]["name"], *by_id[i]["attributes"].values()][:3])))
document = project.document(chosen)
st.query_params["doc"] = document["name"]
# The suggester is built while the coder reads, so that suggestions are there at the first click (a first
# build takes seconds, minutes for a large project whose codings are not embedded yet).
service(str(project.path)).ensure(suggester_version(project))

# -- whose codings are shown --------------------------------------------------------------------------
codes = project.codes()
code_by_id = {c["id"]: c for c in codes}
all_codings = project.codings(document["id"])
coders = sorted({c["coder"] for c in all_codings} | {session.user})
show = st.radio(t("show_codings", lang), ["all", "mine", "coder"], horizontal=True, key="show_codings",
                format_func=lambda v: t(f"show_{v}", lang))
if show == "mine":
    codings = [c for c in all_codings if c["coder"] == session.user]
elif show == "coder":
    who = st.selectbox(t("coder", lang), coders, key="show_coder")
    codings = [c for c in all_codings if c["coder"] == who]
else:
    codings = all_codings

turns = project.turns(document["id"])
text_column, side = st.columns([3, 2], gap="large")
with text_column:
    event = transcript_view(document["text"], turns, codings, codes,
                            key=f"transcript_{document['id']}", selected_coding=st.session_state.get("focus_coding"),
                            height=720)
selection = event.selection if event else None
clicked = event.clicked if event else None
# Without a selection, a click into a respondent's passage makes that passage (its segment) the one to
# code and to suggest codes for.
at_cursor = False
if selection is None and event is not None and event.cursor is not None:
    passage = passage_at(project.segments(document["id"]), turns, event.cursor)
    if passage is not None:
        selection, at_cursor = (passage["start"], passage["end"], passage["text"]), True


def _label(code_id: str) -> str:
    path, code = [], code_by_id.get(code_id)
    while code is not None:
        path.append(code["name"])
        code = code_by_id.get(code["parent"]) if code["parent"] else None
    return f"{code_id} · {' › '.join(reversed(path))}"


def _apply(code_ids: list[str]) -> None:
    """Button callback: code the current selection; errors are shown on the next run."""
    start, end, quote = selection
    try:
        for code_id in code_ids:
            project.add_coding(document["id"], start, end, code_id, session.user, quote=quote)
    except CodewerkError as e:
        st.session_state["code_error"] = str(e)
        return
    recent = [c for c in st.session_state.get("recent_codes", []) if c not in code_ids]
    st.session_state["recent_codes"] = (code_ids + recent)[:5]
    st.session_state["focus_code"] = code_ids[0]
    st.session_state["picked_codes"] = []  # ready for the next passage


def _apply_picked() -> None:
    _apply(list(st.session_state.get("picked_codes", [])))


def _apply_invivo() -> None:
    """Button callback: a new code named after the selected words, under the in-vivo parent."""
    name = shorten(selection[2], 60).rstrip(" …")
    try:
        if INVIVO_PARENT not in code_by_id:
            project.add_code(Code(id=INVIVO_PARENT, name=t("invivo_parent", lang), codable=False, color="#9E9E9E"),
                             session.user)
        code_id = project.add_code(Code(id=project.new_code_id(name), name=name, parent=INVIVO_PARENT,
                                        color="#FFB300"), session.user)
    except CodewerkError as e:
        st.session_state["code_error"] = str(e)
        return
    _apply([code_id])


def _in_interviewer_turn(start: int) -> bool:
    return any(turn["start"] <= start < turn["end"] and turn["role"] == "interviewer" for turn in turns)


@st.fragment(run_every=2.0)
def _preparing(svc) -> None:
    """Shown while the suggester is fitted in the background; reruns the page when it is ready."""
    if svc.suggester is not None:
        st.rerun(scope="app")
    done, total = svc.progress
    if svc.error:
        st.warning(t("suggestions_failed", lang, error=svc.error))
    else:
        text = t("suggestions_preparing", lang, done=done, total=total) if total else t("suggestions_starting", lang)
        st.progress(done / total if total else 0.0, text=text)


def _suggestions(selection, already: list[str]) -> None:
    """The top codes for the selection, with confidence and reason; accept codes it, reject hides it."""
    st.caption(t("suggestions", lang))
    start, end, quote = selection
    if _in_interviewer_turn(start):
        st.caption(t("no_suggestions_interviewer", lang))
        return
    svc = service(str(project.path))  # building since the page opened (above)
    if svc.suggester is None:
        _preparing(svc)
        return
    hidden = project.rejected_codes(document["id"], start, end) | set(already)
    model_id = svc.model_id
    for group, proposals in svc.suggest(quote, SHOWN_PER_GROUP + len(hidden)) or []:
        candidates = [p for p in proposals if p.code not in hidden]
        # A code with almost no chance is noise beside the others; the best one is always shown.
        shown = [p for i, p in enumerate(candidates) if i == 0 or p.score >= MIN_SHOWN][:shown_per_group(group)]
        if not shown:
            continue
        if group.parent is not None:
            st.caption(group.name or group.parent)
        for proposal in shown:
            _proposal(proposal, start, end, quote, model_id)


def shown_per_group(group) -> int:
    """The three best top-level codes; of a small group of subcodes (say challenge/approach/demand) the best."""
    return SHOWN_PER_GROUP if group.parent is None or len(group.codes) > 4 else 1


def _proposal(proposal, start: int, end: int, quote: str, model_id: str | None) -> None:
    name = code_by_id.get(proposal.code, {"name": proposal.code})["name"]
    with st.container(border=True):
        st.text(f"{name} · {percent(proposal.score)}")
        # The reason quotes a coded passage or an anchor: user text, never Markdown.
        st.caption(md_escape(t(f"reason_{proposal.reason.kind}", lang, text=shorten(proposal.reason.text, 140))))
        accept, reject = st.columns(2)
        if accept.button(t("accept", lang), key=f"accept_{proposal.code}", type="primary"):
            try:
                accept_suggestion(project, document["id"], start, end, proposal.code, session.user, model_id,
                                  proposal.score, quote=quote)
            except CodewerkError as e:
                st.session_state["code_error"] = str(e)
            st.rerun()
        if reject.button(t("reject", lang), key=f"reject_{proposal.code}"):
            reject_suggestion(project, document["id"], start, end, proposal.code, session.user, model_id,
                              proposal.score)
            st.rerun()


with side:
    if selection:
        st.subheader(t("passage_at_cursor" if at_cursor else "selection", lang))
        st.text(shorten(selection[2], 300))
        already = [c["code_id"] for c in all_codings
                   if (c["start"], c["end"]) == selection[:2] and c["coder"] == session.user]
        if already:
            st.caption(t("already_coded", lang, codes=", ".join(code_by_id.get(c, {"name": c})["name"]
                                                                for c in already)))
        codable = [c["id"] for c in codes if c["codable"]]
        picked = st.multiselect(t("apply_codes", lang), codable, format_func=_label, key="picked_codes",
                                placeholder=t("type_to_search", lang))
        st.button(t("apply", lang), type="primary", disabled=not picked, key="apply_codes", shortcut="Ctrl+Enter",
                  on_click=_apply_picked)
        recent = [c for c in st.session_state.get("recent_codes", []) if c in code_by_id]
        if recent:
            st.caption(t("recent_codes", lang))
            for number, code_id in enumerate(recent, start=1):
                st.button(f"{number} · {code_by_id[code_id]['name']}", key=f"recent_{code_id}",
                          shortcut=f"Alt+{number}", help=t("shortcut_help", lang, keys=f"Alt+{number}"),
                          on_click=_apply, args=([code_id],))
        st.button(t("invivo", lang), key="invivo", help=t("invivo_help", lang), on_click=_apply_invivo)
        if "code_error" in st.session_state:
            st.error(st.session_state.pop("code_error"))
        _suggestions(selection, already)
    else:
        st.info(t("select_hint", lang))

    if clicked:
        coding_ids, _ = clicked
        here = [c for c in all_codings if c["id"] in coding_ids]
        st.subheader(t("codings_here", lang))
        for coding in here:
            code = code_by_id.get(coding["code_id"], {"name": coding["code_id"]})
            with st.container(border=True):
                st.text(f"{code['name']} · {coding['coder']} · {coding['created_at'][:16].replace('T', ' ')}")
                st.caption(shorten(coding["quote"], 200))
                own = coding["coder"] == session.user or require(session, "edit_codebook")
                memo = st.text_area(t("memo", lang), coding["memo"] or "", key=f"memo_{coding['id']}",
                                    disabled=not own)
                save, remove = st.columns(2)
                if own and save.button(t("save_memo", lang), key=f"save_memo_{coding['id']}"):
                    project.set_coding_memo(coding["id"], memo, session.user)
                    st.rerun()
                if own and remove.button(t("remove_coding", lang), key=f"remove_{coding['id']}"):
                    project.remove_coding(coding["id"], session.user)
                    st.rerun()
            st.session_state["focus_code"] = coding["code_id"]

    focus = st.session_state.get("focus_code") or (st.session_state.get("picked_codes") or [None])[-1]
    code = code_by_id.get(focus)
    if code and (code["definition"] or code["anchors"] or code["include"] or code["exclude"]):
        with st.expander(t("code_rules", lang, name=code["name"]), expanded=True):
            if code["definition"]:
                st.caption(t("definition", lang))
                st.text(code["definition"])
            if code["anchors"]:
                st.caption(t("anchors", lang))
                for anchor in code["anchors"]:
                    st.text(f"„{anchor}“")
            if code["include"]:
                st.caption(t("include", lang))
                st.text(code["include"])
            if code["exclude"]:
                st.caption(t("exclude", lang))
                st.text(code["exclude"])

st.caption(t("coding_count", lang, shown=len(codings), total=len(all_codings)))
