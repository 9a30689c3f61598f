"""Sentence embeddings: one interface, one backend per module, a vector cache in the project."""
from coding.embed.base import Embedder, HashingEmbedder, normalise_rows
from coding.embed.cache import embed_cached, embed_segments, text_hash
from coding.embed.e5 import E5Embedder
from coding.embed.registry import get_embedder
from coding.embed.st_backend import SentenceTransformerEmbedder
from coding.embed.use import USEEmbedder

__all__ = ["E5Embedder", "Embedder", "HashingEmbedder", "SentenceTransformerEmbedder", "USEEmbedder",
           "embed_cached", "embed_segments", "get_embedder", "normalise_rows", "text_hash"]
