"""Codewerk: qualitative interview coding and synthesis, usable from Python, the CLI and the UI."""
from coding.codebook import Code, Codebook, CodeSet, load_codebook, save_codebook
from coding.transcripts import Segment, Transcript, Turn, read_transcript
from coding.transcripts.segments import split_segments

__version__ = "0.1.0"

__all__ = ["Code", "CodeSet", "Codebook", "Segment", "Transcript", "Turn", "load_codebook", "read_transcript",
           "save_codebook", "split_segments", "__version__"]
