"""Documents page: the project's transcripts with their attributes, and one document's speaker turns."""
import streamlit as st

from coding.errors import CodewerkError
from coding.timefmt import clock
from ui.i18n import t
from ui.state import language, open_project, project_path

lang = language()
with st.sidebar:
    st.selectbox(t("language", lang), ["de", "en"], key="language")
    path = st.text_input(t("project_file", lang), value=str(project_path()))
    if path != str(project_path()):
        st.session_state["project_path"] = path
        st.rerun()

st.title(t("documents", lang))
try:
    project = open_project()
except CodewerkError as e:
    st.error(str(e))
    st.stop()

documents = project.documents()
if not documents:
    st.info(t("no_documents", lang))
    st.stop()

st.caption(t("documents_count", lang, n=len(documents), words=f"{sum(d['word_count'] for d in documents):,}"))
attribute_keys = list(dict.fromkeys(k for d in documents for k in d["attributes"]))
rows = [{t("name", lang): d["name"], **{k: d["attributes"].get(k, "") for k in attribute_keys},
         t("format", lang): d["format"], t("words", lang): d["word_count"], t("turns", lang): d["turns"],
         t("segments", lang): d["segments"], t("imported", lang): d["imported_at"][:16].replace("T", " "),
         t("imported_by", lang): d["imported_by"]} for d in documents]
st.dataframe(rows, hide_index=True, width="stretch")

names = [d["name"] for d in documents]
chosen = st.selectbox(t("choose_document", lang), names, key="document")
document = next(d for d in documents if d["name"] == chosen)
left, right = st.columns(2)
with left:
    st.subheader(t("metadata", lang))
    st.table({k: [v] for k, v in document["metadata"].items()} if document["metadata"] else {"": ["–"]})
with right:
    st.subheader(t("attributes", lang))
    st.table({k: [v] for k, v in document["attributes"].items()} if document["attributes"] else {"": ["–"]})

st.subheader(t("turns", lang))
roles = {"interviewer": t("interviewer", lang), "respondent": t("respondent", lang)}
# Transcript text is shown with st.text: never parsed as Markdown or HTML.
with st.container(height=700, border=True):
    for turn in project.turns(document["id"]):
        who, said = st.columns([1, 5])
        role = roles.get(turn["role"], "")
        who.text(f"{clock(turn['timestamp'])}\n{turn['speaker'] or '–'}" + (f"\n{role}" if role else ""))
        said.text(turn["text"], wrap=True)
