"""REFI-QDA project exchange (.qdpx): export a whole Codewerk project, import one from any QDA program."""
from coding.export.qdpx.result import QdpxImportResult
from coding.export.qdpx.store_import import import_qdpx
from coding.export.qdpx.write import export_qdpx

__all__ = ["QdpxImportResult", "export_qdpx", "import_qdpx"]
