"""Codewerk: qualitative interview coding and synthesis, usable from Python, the CLI and the UI."""
from coding.transcripts import Segment, Transcript, Turn, read_transcript
from coding.transcripts.segments import split_segments

__version__ = "0.1.0"

__all__ = ["Segment", "Transcript", "Turn", "read_transcript", "split_segments", "__version__"]
