"""Review page: uncoded passages with a confident suggestion, ticked and accepted or rejected in bulk."""
import streamlit as st

from coding.errors import CodewerkError
from coding.suggest.adapt import current_tuning, forget_tuning
from coding.suggest.review import accept_all, reject_all
from ui.colors import code_colors
from ui.i18n import t
from ui.session import current_session
from ui.state import language, open_project, require
from ui.suggestions import corpus_version, service, suggester_version
from ui.text import md_escape, percent, shorten

DEFAULT_THRESHOLD = 60  # percent
SHOWN = 100  # items listed at once: each is a few widgets, and a reviewer works through a list top down
WHOLE_PROJECT = 0  # the document picker's value for "all documents" (document ids start at 1)
ALL_GROUPS = "*"  # the group picker's value for "every group"
lang = language()
project = open_project()
session = current_session(project)
st.title(t("review", lang))
documents = project.documents()
if not documents:
    st.info(t("no_documents", lang))
    st.stop()

svc = service(str(project.path))
svc.ensure(suggester_version(project))
svc.ensure_embedded(corpus_version(project))


def _status(drawn: tuple[bool, str]) -> None:
    """The background work's progress; reruns the page once the suggester is ready or embedding ends."""
    embedding = svc.embedding
    if (svc.suggester is not None, embedding.state) != drawn:
        st.rerun(scope="app")
    if svc.suggester is None:
        if svc.error:
            st.warning(t("suggestions_failed", lang, error=svc.error))
        else:
            done, total = svc.progress
            text = t("suggestions_preparing", lang, done=done, total=total) if total else t("suggestions_starting", lang)
            st.progress(done / total if total else 0.0, text=text)
    if embedding.state == "running":
        st.progress(embedding.fraction, text=t("review_embedding", lang, done=embedding.done, total=embedding.total)
                    if embedding.total else t("review_embedding_start", lang))
    elif embedding.state == "error":
        st.warning(t("review_embedding_failed", lang, error=embedding.error))


drawn = (svc.suggester is not None, svc.embedding.state)
busy = (not drawn[0] and not svc.error) or drawn[1] == "running"
st.fragment(_status, run_every=2.0 if busy else None)(drawn)


# -- the suggestion model, tuned on the team's codings (leads and admins) ---------------------------
def _tuning_status(drawn_state: str) -> None:
    """Progress of a running tuning; reruns the page when it ends, so suggestions switch to the new model."""
    tuning = svc.tuning
    if tuning.state != drawn_state:
        st.rerun(scope="app")
    if tuning.state == "running":
        st.progress(tuning.fraction, text=t("tuning_running", lang, done=tuning.done, total=tuning.total)
                    if tuning.total else t("tuning_starting", lang))
    elif tuning.state == "error":
        st.warning(t("tuning_failed", lang, error=tuning.error))


if require(session, "edit_codebook"):
    with st.expander(t("tuning_title", lang)):
        tuned = current_tuning(project)
        if tuned:
            st.caption(t("tuning_current", lang, codings=tuned["codings"], at=tuned["at"][:10],
                         minutes=max(1, round(tuned["seconds"] / 60))))
        else:
            st.caption(t("tuning_base", lang))
        st.caption(t("tuning_explained", lang))
        running = svc.tuning.state == "running"
        # Callbacks, not `if st.button(...)`: they run before the page, so a click is not lost when the
        # status above reruns the page (the suggester just got ready) before the script reaches the button.
        with st.container(horizontal=True):
            st.button(t("tuning_start", lang), key="tuning_start", disabled=running, on_click=svc.start_tuning)
            if tuned:
                st.button(t("tuning_forget", lang), key="tuning_forget", disabled=running, on_click=forget_tuning,
                          args=(project,))
        st.fragment(_tuning_status, run_every=2.0 if running else None)(svc.tuning.state)

# -- what to review ---------------------------------------------------------------------------------
by_id = {d["id"]: d for d in documents}
suggester = svc.suggester
groups = suggester.groups if suggester is not None else []
scope_column, group_column, threshold_column = st.columns([3, 3, 2])
scope = scope_column.selectbox(t("document", lang), [WHOLE_PROJECT, *by_id], key="review_document",
                               format_func=lambda i: by_id[i]["name"] if i in by_id else t("whole_project", lang))


def _group_label(group) -> str:
    if group == ALL_GROUPS:
        return t("all_groups", lang)
    name = group.name or group.parent or t("top_level_group", lang)
    return f"{name} ({', '.join(group.codes)})"


group = ALL_GROUPS
if len(groups) > 1:
    group = group_column.selectbox(t("code_group", lang), [ALL_GROUPS, *groups], key="review_group",
                                   format_func=_group_label)
threshold = threshold_column.slider(t("min_confidence", lang), 0, 100, DEFAULT_THRESHOLD, step=5, format="%d %%",
                                    key="review_threshold")
if suggester is None:
    st.stop()  # the status above reruns the page when the suggester is ready

with st.spinner(t("review_scoring", lang)):
    try:
        items = svc.review(project, None if scope == WHOLE_PROJECT else [scope], threshold / 100,
                           None if group == ALL_GROUPS else group)
    except CodewerkError as e:
        st.warning(str(e))
        st.stop()
if items is None:
    st.stop()

# -- the queue --------------------------------------------------------------------------------------
st.caption(t("review_count", lang, n=len(items), score=threshold))
if "review_message" in st.session_state:
    kind, message = st.session_state.pop("review_message")
    {"success": st.success, "info": st.info}.get(kind, st.error)(message)
if not items:
    st.info(t("review_empty", lang))
    st.stop()
shown = items[:SHOWN]
if len(items) > SHOWN:
    st.caption(t("review_first", lang, n=SHOWN))


def _tick_key(item) -> str:
    # By item (document, span, code), not by row: rows move when the queue changes.
    return f"pick_{item.key}"


def _decide(decision: str, candidates: list) -> None:
    """Form callback: accept or reject every ticked item; the count is shown on the next run."""
    marked = [item for item in candidates if st.session_state.get(_tick_key(item))]
    if not marked:
        st.session_state["review_message"] = ("info", t("review_nothing_marked", lang))
        return
    try:
        if decision == "accept":
            made = accept_all(project, marked, session.user, svc.model_id)
            message = t("review_accepted", lang, n=made, skipped=len(marked) - made)
        else:
            message = t("review_rejected", lang, n=reject_all(project, marked, session.user, svc.model_id))
    except CodewerkError as e:
        st.session_state["review_message"] = ("error", str(e))
        return
    st.session_state["review_message"] = ("success", message)
    for item in marked:
        st.session_state[_tick_key(item)] = False


def _mark(candidates: list, value: bool) -> None:
    """Form callback: tick or untick every listed item."""
    for item in candidates:
        st.session_state[_tick_key(item)] = value


codes = project.codes()
names = {c["id"]: c["name"] for c in codes}
colors = code_colors(codes)  # #RRGGBB checked by display_color, so it may go into HTML; user text never does
# A form: ticking a row changes nothing on the server, so a long list stays quick; the buttons send the ticks.
with st.form("review_form", border=False):
    with st.container(horizontal=True):
        st.form_submit_button(t("accept_marked", lang), key="accept_marked", type="primary", on_click=_decide,
                              args=("accept", shown))
        st.form_submit_button(t("reject_marked", lang), key="reject_marked", on_click=_decide, args=("reject", shown))
        st.form_submit_button(t("mark_all", lang), key="mark_all", on_click=_mark, args=(shown, True))
        st.form_submit_button(t("mark_none", lang), key="mark_none", on_click=_mark, args=(shown, False))
    for number, item in enumerate(shown, start=1):
        with st.container(border=True):
            tick, swatch, body = st.columns([0.35, 0.25, 12], vertical_alignment="top")
            # The hidden label names the row for screen readers; no user text in it (labels are Markdown).
            tick.checkbox(t("review_pick", lang, n=number), key=_tick_key(item), label_visibility="collapsed")
            swatch.markdown(f'<span style="color:{colors.get(item.code, "#BAB0AC")};font-size:1.6em;'
                            'line-height:1.1">&#9632;</span>', unsafe_allow_html=True)
            body.text(f"{names.get(item.code, item.code)} · {percent(item.score)} · {item.document}\n{item.text}")
            body.caption(md_escape(t(f"reason_{item.suggestion.reason.kind}", lang,
                                     text=shorten(item.suggestion.reason.text, 160))))
