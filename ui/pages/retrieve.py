"""Retrieve page: coded segments by code, document attribute and coder; a code x group matrix."""
import pandas as pd
import streamlit as st

from coding.timefmt import clock
from ui.heatmap import heatmap
from ui.i18n import t
from ui.state import language, open_project

lang = language()
project = open_project()
st.title(t("retrieve", lang))

codes = project.codes()
labels = {c["id"]: f"{c['id']} · {c['name']}" for c in codes}
documents = project.documents()
attribute_keys = list(dict.fromkeys(k for d in documents for k in d["attributes"]))
coders = sorted({u["name"] for u in project.users()})

# -- the code x attribute matrix --------------------------------------------------------------------
group_key = "Stakeholdergruppe" if "Stakeholdergruppe" in attribute_keys else (attribute_keys or [None])[0]
if group_key:
    st.subheader(t("matrix", lang))
    left, right = st.columns([2, 1])
    group_key = left.selectbox(t("matrix_attribute", lang), attribute_keys, index=attribute_keys.index(group_key),
                               key="matrix_attribute")
    measure = right.radio(t("matrix_measure", lang), ["segments", "share"], horizontal=True, key="matrix_measure",
                          format_func=lambda m: t(f"measure_{m}", lang))
    matrix = project.code_attribute_matrix(group_key)
    groups = matrix["groups"]
    key = {"segments": "segments", "share": "share"}[measure]
    values = [[row[key].get(g, 0) for g in groups] for row in matrix["rows"]]
    frame = pd.DataFrame(values, columns=[f"{g} ({matrix['sizes'][g]})" for g in groups],
                         index=[labels.get(row["code_id"], row["code_id"]) for row in matrix["rows"]])
    cell = heatmap(frame, key="matrix_table", number_format="{:.0%}" if measure == "share" else "{:d}")
    if cell:
        row_index, column_index = cell
        st.session_state["retrieve_codes"] = [matrix["rows"][row_index]["code_id"]]
        st.session_state["retrieve_filter"] = {group_key: [groups[column_index]]}

# -- filters -----------------------------------------------------------------------------------------
st.subheader(t("coded_segments", lang))
chosen_codes = st.multiselect(t("codes", lang), list(labels), format_func=labels.get,
                              default=st.session_state.get("retrieve_codes", []), key="filter_codes",
                              placeholder=t("choose", lang))
filters = {}
preset = st.session_state.get("retrieve_filter", {})
# Attributes that group documents (stakeholder group, level, town size), not ids or dates.
values_of = {key: sorted({d["attributes"][key] for d in documents if d["attributes"].get(key)}) for key in attribute_keys}
grouping = [key for key in attribute_keys if 2 <= len(values_of[key]) <= 15] or attribute_keys[:3]
columns = st.columns(max(1, min(3, len(grouping))))
for i, key in enumerate(grouping):
    picked_values = columns[i % len(columns)].multiselect(key, values_of[key], default=preset.get(key, []),
                                                          key=f"filter_attr_{key}_{'-'.join(preset.get(key, []))}",
                                                          placeholder=t("choose", lang))
    if picked_values:
        filters[key] = picked_values
chosen_coders = st.multiselect(t("coders", lang), coders, key="filter_coders", placeholder=t("choose", lang))

segments = project.coded_segments(codes=chosen_codes or None, attributes=filters or None,
                                  coders=chosen_coders or None)
st.caption(t("segments_found", lang, n=len(segments), documents=len({s["document_id"] for s in segments})))
for segment in segments[:200]:
    with st.container(border=True):
        head, button = st.columns([6, 1])
        stamp = f" · {clock(segment['timestamp'])}" if segment.get("timestamp") is not None else ""
        head.text(f"{segment['document']}{stamp} · {segment['speaker'] or ''} · {segment['code']} · "
                  f"{segment['coder']}")
        if button.button(t("open", lang), key=f"open_{segment['id']}"):
            st.session_state["open_coding"] = {"document_id": segment["document_id"], "coding_id": segment["id"]}
            st.switch_page("ui/pages/code.py")
        st.text(f"…{segment['before']} »{segment['quote']}« {segment['after']}…")
if len(segments) > 200:
    st.caption(t("first_200", lang))
