"""Themes page (leads and admins): cluster coded passages into themes, review them on a map and as cards.

Every action goes through the store with the revision the page showed, so a change another lead made
meanwhile is reported instead of overwritten. Actions run as button callbacks: they see the revision
of the page the lead clicked on, not the one the rerun would load.
"""
import threading

import pandas as pd
import streamlit as st

from coding.embed import get_embedder
from coding.errors import CodewerkError
from coding.store.themes import ACCEPTED, ACTIVE, DISCARDED, ThemeConflict
from coding.themes import AUTO
from coding.themes.from_project import (STAKEHOLDER, load_run, merge_themes, move_segments, projection,
                                        split_theme, start_run)
from coding.themes.labels import warm_up
from ui.colors import MANY
from ui.heatmap import heatmap
from ui.i18n import t
from ui.session import current_session
from ui.state import language, open_project, require
from ui.text import md_escape, shorten

NO_GROUP = "–"
DISCARDED_COLOR = "#C8C8C8"
QUOTES_SHOWN = 5
lang = language()
project = open_project()
session = current_session(project)
st.title(t("themes", lang))
if not require(session, "edit_codebook"):
    st.warning(t("themes_leads_only", lang))
    st.stop()
user = session.user


@st.cache_resource(max_entries=8, show_spinner=False)
def _stored(path: str, run_id: int) -> dict:
    """A run's fixed part (passages, feature rows) and its map coordinates: they never change."""
    from coding.store import Project

    with Project(path) as p:
        stored = p.theme_run(run_id)
    stored["points"] = stored["layout"] if stored["layout"] is not None else projection(stored["features"])
    # Relabelling after a merge, split or move lemmatises every passage and looks at how each word is
    # written; do that once now, in the background, so that the lead's first action does not wait for it.
    texts = [passage["text"] for passage in stored["segments"]]
    threading.Thread(target=warm_up, args=(texts,), daemon=True, name="codewerk-theme-warm-up").start()
    return stored


def _act(action, *args, done: str = "themes_done") -> None:
    """Run a store action from a button; its outcome is shown on the next run of the page."""
    try:
        action(*args)
        st.session_state["themes_flash"] = ("success", t(done, lang))
    except ThemeConflict as e:
        st.session_state["themes_flash"] = ("error", t("themes_conflict", lang, error=e))
    except CodewerkError as e:
        st.session_state["themes_flash"] = ("error", str(e))


def _from_input(action, run_id: int, base: int, theme_id: str, key: str) -> None:
    _act(action, run_id, base, theme_id, st.session_state.get(key, ""), user)


def _merge(run_id: int, base: int, key: str) -> None:
    _act(merge_themes, project, run_id, base, st.session_state.get(key) or [], user)


def _split(run_id: int, base: int, theme_id: str, key: str) -> None:
    n = st.session_state.get(key, AUTO)
    _act(lambda: split_theme(project, run_id, base, theme_id, user, n=n))


def _move(run_id: int, base: int, members: list[str], table_key: str, target_key: str) -> None:
    rows = (st.session_state.get(table_key) or {}).get("selection", {}).get("rows", [])
    if not rows:
        st.session_state["themes_flash"] = ("error", t("themes_move_none", lang))
        return
    _act(move_segments, project, run_id, base, [members[i] for i in rows], st.session_state[target_key], user)


# -- a new run ------------------------------------------------------------------------------------
runs = project.theme_runs()
codes = project.codes()
code_label = {c["id"]: f"{c['id']} · {c['name']}" for c in codes}
documents = project.documents()
attribute_keys = list(dict.fromkeys(k for d in documents for k in d["attributes"]))
values_of = {k: sorted({d["attributes"][k] for d in documents if d["attributes"].get(k)}) for k in attribute_keys}
with st.expander(t("themes_new_run", lang), expanded=not runs):
    with st.form("themes_new"):
        chosen = st.multiselect(t("codes", lang), [c["id"] for c in codes if c["codable"]], format_func=code_label.get,
                                placeholder=t("themes_all_codes", lang), key="themes_codes")
        facet_column, group_column = st.columns(2)
        facet = facet_column.selectbox(t("themes_facet", lang), [None, *code_label], key="themes_facet",
                                       format_func=lambda c: code_label[c] if c else t("themes_no_facet", lang),
                                       help=t("themes_facet_help", lang))
        group_keys = attribute_keys or [STAKEHOLDER]
        group_key = group_column.selectbox(t("themes_group_attribute", lang), group_keys, key="themes_group_key",
                                           index=group_keys.index(STAKEHOLDER) if STAKEHOLDER in group_keys else 0)
        filters = {}
        grouping = [k for k in attribute_keys if 2 <= len(values_of[k]) <= 15]
        for column, key in zip(st.columns(max(1, len(grouping))), grouping):
            picked = column.multiselect(key, values_of[key], key=f"themes_filter_{key}", placeholder=t("choose", lang))
            if picked:
                filters[key] = picked
        count_column, number_column, name_column = st.columns([1, 1, 2])
        automatic = count_column.radio(t("themes_count", lang), [True, False], key="themes_auto", horizontal=True,
                                       format_func=lambda a: t("themes_auto" if a else "themes_fixed", lang))
        number = number_column.number_input(t("themes_number", lang), 2, 60, 8, key="themes_number")
        name = name_column.text_input(t("themes_run_name", lang), key="themes_name",
                                      placeholder=t("themes_run_name_default", lang, n=len(runs) + 1))
        start = st.form_submit_button(t("themes_start", lang), type="primary")
    if start:
        bar = st.progress(0.0, text=t("themes_embedding", lang))
        try:
            with st.spinner(t("themes_clustering", lang)):
                run_id = start_run(project, get_embedder(), user, codes=chosen or None, facet=facet,
                                   attributes=filters, stakeholder=group_key,
                                   n_themes=AUTO if automatic else int(number),
                                   name=name.strip() or t("themes_run_name_default", lang, n=len(runs) + 1),
                                   progress=lambda done, total: bar.progress(done / max(total, 1),
                                                                             text=t("themes_embedding", lang)))
            st.session_state["themes_run"] = run_id
            st.rerun()
        except CodewerkError as e:
            bar.empty()
            st.error(str(e))

if not runs:
    st.info(t("themes_none_yet", lang))
    st.stop()

# -- the run under review ---------------------------------------------------------------------------
by_id = {r["id"]: r for r in runs}
if st.session_state.get("themes_run") not in by_id:
    st.session_state["themes_run"] = runs[0]["id"]


def _run_label(i: int) -> str:
    run = by_id[i]
    return (f"{run['name']} · {run['created_at'][:10]} · {run['created_by']} · "
            f"{t('themes_revision', lang, n=run['revision'])}")


run_id = st.selectbox(t("themes_run", lang), list(by_id), key="themes_run", format_func=_run_label)
flash = st.session_state.pop("themes_flash", None)
if flash:
    (st.success if flash[0] == "success" else st.error)(flash[1])

stored = _stored(str(project.path), run_id)
current = load_run(project, run_id, stored=stored)
base, state, passages = current.revision, current.state, stored["segments"]
themes = state["themes"]
latest = project.theme_revisions(run_id)[-1]
selection = stored["selection"]
st.caption(t("themes_run_info", lang, passages=len(passages), themes=sum(th["status"] != DISCARDED for th in themes),
             model=stored["embedder"], seed=stored["seed"],
             codes=", ".join(selection["codes"] or []) or t("themes_all_codes", lang),
             facet=selection["facet"] or t("themes_no_facet", lang),
             revision=base, action=t(f"theme_action_{latest['action']}", lang), user=latest["user"],
             at=latest["at"][:16].replace("T", " ")))
undoable = project.undoable(run_id)
if undoable:
    st.button(t("themes_undo", lang, action=t(f"theme_action_{undoable['action']}", lang), n=undoable["number"]),
              key="themes_undo", icon=":material/undo:", on_click=_act,
              args=(project.undo_themes, run_id, base, user), kwargs={"done": "themes_undone"})

# -- the map ------------------------------------------------------------------------------------------
ordered = ([th for th in themes if th["status"] == ACTIVE] + [th for th in themes if th["status"] == ACCEPTED]
           + [th for th in themes if th["status"] == DISCARDED])
name_of = {th["id"]: f"{th['id']} · {shorten(th['label'], 40)}" for th in ordered}
color_of = {th["id"]: DISCARDED_COLOR if th["status"] == DISCARDED else MANY[i % len(MANY)]
            for i, th in enumerate(ordered)}
st.subheader(t("themes_map", lang))
points = stored["points"]
theme_of = state["assignments"]
frame = pd.DataFrame({
    "x": points[:, 0], "y": points[:, 1], "theme": [name_of[theme_of[p["id"]]] for p in passages],
    "group": [p["stakeholder"] or NO_GROUP for p in passages], "interview": [p["document"] for p in passages],
    # The whole table goes to the browser on every click: a tooltip's worth of quote, no more.
    "quote": [shorten(p["text"], 120) for p in passages]})
st.vega_lite_chart(frame, {
    "mark": {"type": "point", "filled": True, "size": 60, "opacity": 0.75},
    # tall enough for both legends (themes, then groups): Vega-Lite cuts off what does not fit
    "height": max(420, 20 * (len(ordered) + frame["group"].nunique()) + 90),
    "encoding": {
        "x": {"field": "x", "type": "quantitative", "axis": None, "scale": {"zero": False}},
        "y": {"field": "y", "type": "quantitative", "axis": None, "scale": {"zero": False}},
        "color": {"field": "theme", "type": "nominal", "title": t("themes_theme", lang), "legend": {"labelLimit": 280},
                  "scale": {"domain": [name_of[th["id"]] for th in ordered],
                            "range": [color_of[th["id"]] for th in ordered]}},
        "shape": {"field": "group", "type": "nominal", "title": t("themes_group", lang)},
        "tooltip": [{"field": "theme", "title": t("themes_theme", lang)},
                    {"field": "group", "title": t("themes_group", lang)},
                    {"field": "interview", "title": t("themes_interview", lang)},
                    {"field": "quote", "title": t("themes_quote", lang)}]}}, width="stretch", key="themes_map")

# -- merging ------------------------------------------------------------------------------------------
active = [th for th in ordered if th["status"] == ACTIVE]
if len(active) >= 2:
    merge_column, button_column = st.columns([4, 1], vertical_alignment="bottom")
    merge_key = f"themes_merge_{run_id}_{base}"
    merge_column.multiselect(t("themes_merge_pick", lang), [th["id"] for th in active], format_func=name_of.get,
                             key=merge_key, placeholder=t("choose", lang))
    button_column.button(t("themes_merge", lang), key="themes_merge", on_click=_merge, args=(run_id, base, merge_key))

# -- theme cards --------------------------------------------------------------------------------------
st.subheader(t("themes_cards", lang))
by_passage = {p["id"]: p for p in passages}
code_names = {c["id"]: c["name"] for c in project.codes(include_deleted=True)}


def _quote(passage: dict) -> None:
    st.text(f"»{passage['text']}«")
    st.caption(md_escape(t("themes_quote_place", lang, interview=passage["document"], line=passage["line"],
                           group=passage["stakeholder"] or NO_GROUP, code=passage["code"])))


for theme in ordered:
    tid, status = theme["id"], theme["status"]
    with st.container(border=True, key=f"theme_card_{tid}"):
        head, badge = st.columns([5, 1])
        head.markdown(f"**{md_escape(tid)} · {md_escape(theme['label'])}**")
        badge.caption(t(f"theme_status_{status}", lang)
                      + (f" · {md_escape(theme['code_id'])}" if status == ACCEPTED else ""))
        if status == DISCARDED:
            continue
        st.caption(md_escape(t("themes_card_info", lang, keywords=", ".join(theme["keywords"]), n=theme["size"],
                                groups=theme["groups_reached"], score=f"{theme['cross_stakeholder']:.2f}",
                                interviews=len(theme["interviews"]))))
        if theme["description"]:
            st.text(theme["description"])
        quotes, chart = st.columns([3, 2])
        with quotes:
            for member in theme["representatives"][:QUOTES_SHOWN]:
                _quote(by_passage[member])
        with chart:
            bars = pd.DataFrame({"group": list(theme["stakeholders"]), "n": list(theme["stakeholders"].values())})
            st.vega_lite_chart(bars, {
                "mark": {"type": "bar", "color": color_of[tid]}, "height": {"step": 22},
                "encoding": {"y": {"field": "group", "type": "nominal", "title": None, "sort": "-x",
                                   "axis": {"labelLimit": 160}},
                             "x": {"field": "n", "type": "quantitative", "title": t("themes_passages", lang),
                                   "axis": {"tickMinStep": 1, "format": "d"}},
                             "tooltip": [{"field": "group"}, {"field": "n"}]}}, width="stretch", key=f"bars_{tid}")
            st.caption(md_escape(t("themes_codes_involved", lang, codes=", ".join(
                f"{c} {code_names.get(c, '')} ({n})" for c, n in theme["codes"].items()))))
        if status != ACTIVE:
            continue
        with st.expander(t("themes_edit", lang)):
            label_key, text_key = f"label_{run_id}_{base}_{tid}", f"describe_{run_id}_{base}_{tid}"
            left, right = st.columns(2)
            left.text_input(t("themes_title", lang), theme["label"], key=label_key)
            left.button(t("themes_rename", lang), key=f"rename_{tid}", on_click=_from_input,
                        args=(project.rename_theme, run_id, base, tid, label_key))
            right.text_area(t("themes_description", lang), theme["description"], key=text_key, height=80)
            right.button(t("themes_save_description", lang), key=f"describe_{tid}", on_click=_from_input,
                         args=(project.describe_theme, run_id, base, tid, text_key))
            split_column, discard_column, accept_column = st.columns(3, vertical_alignment="bottom")
            split_key = f"split_n_{run_id}_{base}_{tid}"
            split_column.selectbox(t("themes_split_into", lang), [AUTO, 2, 3, 4, 5], key=split_key,
                                   format_func=lambda n: t("themes_auto", lang) if n == AUTO else str(n))
            split_column.button(t("themes_split", lang), key=f"split_{tid}", on_click=_split,
                                args=(run_id, base, tid, split_key), disabled=theme["size"] < 2)
            discard_column.button(t("themes_discard", lang), key=f"discard_{tid}", on_click=_act,
                                  args=(project.discard_theme, run_id, base, tid, user))
            accept_column.button(t("themes_accept", lang), key=f"accept_{tid}", type="primary", on_click=_act,
                                 args=(project.accept_theme, run_id, base, tid, user),
                                 kwargs={"done": "themes_accepted"}, help=t("themes_accept_help", lang))
            others = [th["id"] for th in active if th["id"] != tid]
            # The passage table is built only on request: with thousands of passages, a table in every
            # card would be sent to the browser on every click.
            if others and st.toggle(t("themes_show_members", lang, n=theme["size"]), key=f"show_members_{tid}"):
                members = theme["members"]
                table_key, target_key = f"members_{run_id}_{base}_{tid}", f"move_to_{run_id}_{base}_{tid}"
                st.dataframe(pd.DataFrame({
                    t("themes_quote", lang): [by_passage[m]["text"] for m in members],
                    t("themes_interview", lang): [by_passage[m]["document"] for m in members],
                    t("themes_line", lang): [by_passage[m]["line"] for m in members]}),
                    key=table_key, on_select="rerun", selection_mode="multi-row", hide_index=True,
                    height=min(300, 38 + 35 * len(members)))
                target_column, move_column = st.columns([3, 1], vertical_alignment="bottom")
                target_column.selectbox(t("themes_move_to", lang), others, format_func=name_of.get, key=target_key)
                move_column.button(t("themes_move", lang), key=f"move_{tid}", on_click=_move,
                                   args=(run_id, base, members, table_key, target_key))

# -- theme x stakeholder group ------------------------------------------------------------------------
matrix = current.run.matrix()
shown = [i for i, theme_id in enumerate(matrix.themes) if current.theme(theme_id)["status"] != DISCARDED]
if shown and matrix.groups:
    st.subheader(t("themes_matrix", lang))
    rows = [matrix.themes[i] for i in shown]
    table = pd.DataFrame(matrix.counts[shown], index=[name_of[r] for r in rows], columns=matrix.groups)
    picked = heatmap(table, key=f"themes_matrix_{run_id}_{base}")
    if picked:
        theme_id, group = rows[picked[0]], matrix.groups[picked[1]]
        cell = matrix.cells.get((theme_id, group), [])
        st.caption(md_escape(t("themes_cell", lang, theme=name_of[theme_id], group=group, n=len(cell))))
        for member in cell[:50]:
            _quote(by_passage[member])
