"""Export page (every role): each result as a file to download, built only when asked; leads and admins
also import REFI-QDA projects.

Building a Word document or a workbook takes a moment on a large project, so nothing is built when
the page opens: each format has its own "create file" button, and the finished file stays in the
session (with the options it was made with) until the options change.
"""
import io
import re
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import streamlit as st

from coding.errors import CodewerkError
from coding.export.tables import LANGUAGES, STAKEHOLDER, attribute_keys
from ui.i18n import t
from ui.session import current_session
from ui.state import language, open_project, require
from ui.text import md_escape

WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EXCEL = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DELIMITERS = {";": "export_delimiter_semicolon", ",": "export_delimiter_comma", "\t": "export_delimiter_tab"}
lang = language()
project = open_project()
session = current_session(project)
st.title(t("export", lang))
st.caption(md_escape(t("export_intro", lang)))

stem = re.sub(r"[^\w-]+", "_", project.path.stem).strip("_") or "codewerk"
files = st.session_state.setdefault("export_files", {})


def file_name(kind: str, extension: str) -> str:
    """Project name, what the file holds and today's date, e.g. demo_synthese_2026-03-12.docx."""
    return f"{stem}_{kind}_{datetime.now():%Y-%m-%d}.{extension}"


def written(write: Callable[[io.BytesIO], None]) -> bytes:
    buffer = io.BytesIO()
    write(buffer)
    return buffer.getvalue()


def offer(key: str, options: tuple, build: Callable[[], bytes], name: str, mime: str) -> None:
    """The "create file" button of one format and, once the file is built with these options, its download."""
    options = (str(project.path), *options)
    if st.button(t("export_build", lang), key=f"build_{key}"):
        try:
            with st.spinner(t("export_building", lang)):
                files[key] = {"options": options, "data": build(), "name": name, "at": datetime.now()}
        except CodewerkError as error:
            files.pop(key, None)
            st.error(str(error))
    built = files.get(key)
    if built and built["options"] == options:
        st.download_button(t("export_download", lang, name=built["name"]), built["data"], built["name"],
                           mime=mime, key=f"download_{key}", on_click="ignore", type="primary")
        st.caption(t("export_built_at", lang, time=f"{built['at']:%H:%M:%S}"))


# -- what every export shares: the language of the files, the theme run -----------------------------
runs = project.theme_runs()
left, right = st.columns(2)
out_language = left.selectbox(t("export_language", lang), LANGUAGES, index=LANGUAGES.index(lang) if lang in LANGUAGES
                              else 0, key="export_language", format_func=lambda code: t("language_name", code))
run_id = None
if runs:
    from coding.export.synthesis import default_theme_run

    ids = [r["id"] for r in runs]
    default = default_theme_run(project)
    names = {r["id"]: t("export_run_label", lang, id=r["id"], name=r["name"], date=r["created_at"][:10],
                        revision=r["revision"]) for r in runs}
    run_id = right.selectbox(t("export_run", lang), ids, index=ids.index(default) if default in ids else 0,
                             key="export_run", format_func=names.get)

# -- Word --------------------------------------------------------------------------------------------
st.subheader(t("export_synthesis", lang))
st.caption(md_escape(t("export_synthesis_hint", lang)))
if run_id is None:
    st.info(t("export_no_run", lang))
else:
    from coding.export.synthesis import write_synthesis

    offer("synthesis", (run_id, out_language),
          lambda: written(lambda out: write_synthesis(project, run_id, out, language=out_language)),
          file_name(t("export_kind_synthesis", out_language), "docx"), WORD)

st.subheader(t("export_report", lang))
st.caption(md_escape(t("export_report_hint", lang)))
codes = {c["id"]: f"{c['id']} · {c['name']}" for c in project.codes()}
chosen = st.multiselect(t("export_report_codes", lang), list(codes), format_func=codes.get, key="export_report_codes",
                        placeholder=t("export_all_codes", lang))


def _report() -> bytes:
    from coding.export.code_report import write_code_report

    return written(lambda out: write_code_report(project, out, codes=chosen or None, language=out_language))


offer("report", (tuple(chosen), out_language), _report, file_name(t("export_kind_report", out_language), "docx"), WORD)

# -- spreadsheets ------------------------------------------------------------------------------------
st.subheader(t("export_tables", lang))
st.caption(md_escape(t("export_tables_hint", lang)))
keys = attribute_keys(project.documents())
attribute = None
if keys:
    attribute = st.selectbox(t("export_attribute", lang), keys, key="export_attribute",
                             index=keys.index(STAKEHOLDER) if STAKEHOLDER in keys else 0)
if run_id is None:
    st.caption(md_escape(t("export_tables_no_run", lang)))


def _tables():
    from coding.export.tables import export_tables

    return export_tables(project, run_id=run_id, attribute=attribute, language=out_language)


def _xlsx() -> bytes:
    from coding.export.spreadsheets import write_xlsx

    return written(lambda out: write_xlsx(_tables(), out))


offer("xlsx", (run_id, attribute, out_language), _xlsx, file_name(t("export_kind_tables", out_language), "xlsx"), EXCEL)

st.subheader(t("export_csv", lang))
st.caption(md_escape(t("export_csv_hint", lang)))
delimiter = st.radio(t("export_delimiter", lang), list(DELIMITERS), horizontal=True, key="export_delimiter",
                     format_func=lambda d: t(DELIMITERS[d], lang))


def _csv() -> bytes:
    from coding.export.spreadsheets import csv_zip

    return csv_zip(_tables(), delimiter)


offer("csv", (run_id, attribute, out_language, delimiter), _csv,
      file_name(t("export_kind_tables", out_language), "zip"), "application/zip")

# -- REFI-QDA ----------------------------------------------------------------------------------------
st.subheader(t("export_qdpx", lang))
st.caption(md_escape(t("export_qdpx_hint", lang)))


def _qdpx() -> bytes:
    from coding.export.qdpx import export_qdpx

    return written(lambda out: export_qdpx(project, out))


offer("qdpx", (), _qdpx, file_name(t("export_kind_project", out_language), "qdpx"), "application/zip")

st.subheader(t("export_codebook_qdc", lang))
st.caption(md_escape(t("export_codebook_qdc_hint", lang)))


def _qdc() -> bytes:
    from coding.codebook import export_qdc

    return export_qdc(project.codebook())


offer("qdc", (), _qdc, file_name(t("export_kind_codebook", out_language), "qdc"), "application/xml")

# -- importing a REFI-QDA project (leads and admins) -------------------------------------------------
if require(session, "edit_codebook"):
    st.subheader(t("import_qdpx", lang))
    st.caption(md_escape(t("import_qdpx_hint", lang)))
    upload = st.file_uploader(t("import_qdpx_file", lang), type=["qdpx"], key="qdpx_upload")
    if upload is not None and st.button(t("import", lang), key="do_import_qdpx", type="primary"):
        from coding.export.qdpx import import_qdpx

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / Path(upload.name).name
            path.write_bytes(upload.getvalue())
            try:
                with st.spinner(t("export_building", lang)):
                    result = import_qdpx(project, path, user=session.user)
            except CodewerkError as error:
                st.error(str(error).replace(folder + "/", ""))
            else:
                files.clear()  # files built before the import no longer show the whole project
                st.session_state["qdpx_imported"] = (result.summary(lang), bool(result.warnings))
                st.rerun()  # the page again, without the downloads built before the import
    if "qdpx_imported" in st.session_state:
        summary, warned = st.session_state.pop("qdpx_imported")
        # One line each; names in the summary come from the file, so they are shown literally.
        (st.warning if warned else st.success)("  \n".join(md_escape(line) for line in summary.splitlines()))
