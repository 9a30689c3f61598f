"""Documents page: upload transcripts, edit document attributes, see how far each interview is coded."""
import tempfile
from pathlib import Path

import streamlit as st

from coding.errors import CodewerkError, ImportFailed
from coding.importing import import_paths
from coding.transcripts import READERS
from ui.i18n import t
from ui.session import current_session
from ui.state import language, open_project, require

lang = language()
project = open_project()
session = current_session(project)
st.title(t("documents", lang))

# -- upload ---------------------------------------------------------------------------------------
if require(session, "import"):
    with st.expander(t("upload", lang), expanded=not project.documents()):
        uploads = st.file_uploader(t("upload_files", lang), type=[ext.lstrip(".") for ext in READERS] + ["csv"],
                                   accept_multiple_files=True, key="uploads")
        st.caption(t("upload_hint", lang))
        if uploads and st.button(t("import", lang), type="primary", key="do_import"):
            bar = st.progress(0.0, text=t("reading", lang, name=""))
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                metadata = None
                for upload in uploads:
                    target = folder / Path(upload.name).name
                    target.write_bytes(upload.getvalue())
                    if target.suffix.lower() == ".csv":
                        metadata = target
                transcripts = [p for p in folder.iterdir() if p.suffix.lower() != ".csv"]
                try:
                    result = import_paths(
                        project, transcripts, user=session.user, metadata=metadata,
                        progress=lambda done, total, name: bar.progress(
                            done / max(total, 1), text=t("reading", lang, name=name)))
                except ImportFailed as failure:
                    bar.empty()
                    st.error(t("import_failed", lang, n=len(failure.errors)))
                    for error in failure.errors:
                        st.error(str(error).replace(str(folder) + "/", ""))
                except CodewerkError as error:
                    bar.empty()
                    st.error(str(error).replace(str(folder) + "/", ""))
                else:
                    bar.empty()
                    st.success(t("imported", lang, n=len(result.names), names=", ".join(result.names)))

documents = project.documents()
if not documents:
    st.info(t("no_documents", lang))
    st.stop()
st.caption(t("documents_count", lang, n=len(documents), words=f"{sum(d['word_count'] for d in documents):,}"))

# -- attributes -----------------------------------------------------------------------------------
st.subheader(t("attributes", lang))
keys = list(dict.fromkeys(k for d in documents for k in d["attributes"]))
keys += [k for k in st.session_state.get("new_attributes", []) if k not in keys]
name_col = t("name", lang)
table = [{name_col: d["name"], **{k: d["attributes"].get(k, "") for k in keys}} for d in documents]
editable = require(session, "edit_attributes")
edited = st.data_editor(table, hide_index=True, width="stretch", disabled=[name_col] if editable else True,
                        key="attributes_editor")
if editable:
    left, right = st.columns([3, 1])
    new_key = left.text_input(t("new_attribute", lang), key="new_attribute_name", placeholder=t("new_attribute_example", lang))
    if right.button(t("add_attribute", lang), key="add_attribute") and new_key.strip():
        st.session_state.setdefault("new_attributes", []).append(new_key.strip())
        st.rerun()
    if st.button(t("save_attributes", lang), type="primary", key="save_attributes"):
        changed = 0
        for document, row in zip(documents, edited):
            for key in keys:
                old = document["attributes"].get(key, "")
                new = (row.get(key) or "").strip()
                if new != old:
                    project.set_attribute(document["id"], key, new or None, session.user)
                    changed += 1
        st.session_state.pop("new_attributes", None)
        st.success(t("attributes_saved", lang, n=changed))
        st.rerun()

# -- progress -------------------------------------------------------------------------------------
st.subheader(t("progress", lang))
rows = []
for p in project.progress():
    coders = ", ".join(f"{coder} {share:.0%}" for coder, share in sorted(p["coverage_by_coder"].items()))
    rows.append({name_col: p["document"], t("respondent_words", lang): p["respondent_words"],
                 t("coded_share", lang): round(100 * p["coverage"], 1), t("codings", lang): p["codings"],
                 t("by_coder", lang): coders, t("last_coding", lang): (p["last_coded_at"] or "")[:16].replace("T", " ")})
st.dataframe(rows, hide_index=True, width="stretch", column_config={
    t("coded_share", lang): st.column_config.ProgressColumn(min_value=0.0, max_value=100.0, format="%.0f %%")})
