"""Transcript readers, normalisation and segmentation."""
from coding.transcripts.model import INTERVIEWER, RESPONDENT, Segment, Transcript, Turn
from coding.transcripts.readers import DEFAULT_MAX_BYTES, READERS, read_transcript

__all__ = ["INTERVIEWER", "RESPONDENT", "Segment", "Transcript", "Turn", "DEFAULT_MAX_BYTES", "READERS",
           "read_transcript"]
