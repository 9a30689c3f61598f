"""The codebook: model and validation, the YAML repository format, and REFI-QDA .qdc exchange."""
from coding.codebook.model import Code, Codebook, CodeSet, normalise_text, refi_guid, validate
from coding.codebook.refi import export_qdc, import_qdc
from coding.codebook.yaml_io import dump_codebook, load_codebook, parse_codebook, save_codebook

__all__ = ["Code", "CodeSet", "Codebook", "dump_codebook", "export_qdc", "import_qdc", "load_codebook",
           "normalise_text", "parse_codebook", "refi_guid", "save_codebook", "validate"]
