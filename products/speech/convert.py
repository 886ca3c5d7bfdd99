"""Convert a CTranslate2 Whisper `model.bin` into an openai-whisper checkpoint.

faster-whisper reads the embedded CTranslate2 models directly; openai-whisper needs its own
checkpoint format: {"dims": ModelDimensions as a dict, "model_state_dict": {...}}, plus the
alignment heads (for word timestamps) as base85(gzip(bool[n_text_layer, n_text_head])).

The model.bin format (little-endian): u32 version, string spec name, u32 revision, u32 variable
count; each variable: string name, u8 rank, u32 dims[rank], u8 dtype, u32 byte count, raw bytes;
then u32 alias count and (alias, target) string pairs. A string is a u16 length (with the
trailing NUL) and its bytes. The result is written to the cache, keyed by the source's sha256,
and re-verified (size + sha256) every time it is loaded; it loads with torch.load(weights_only=True).
"""
from __future__ import annotations

import base64
import gzip
import json
import os
import re
import struct
import tempfile
from pathlib import Path

import numpy as np

from shared import artifacts

_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}  # 5 (bf16) is handled apart
FORMAT_VERSION = 1  # bump when the conversion changes, so old caches are not reused


class ConversionError(RuntimeError):
    pass


def read_ct2(path: str | os.PathLike) -> tuple[str, dict[str, np.ndarray], dict[str, str]]:
    """(spec name, {variable: array}, {alias: target}) of a CTranslate2 model.bin."""
    with open(path, "rb") as handle:
        data = handle.read()
    pos = 0

    def take(fmt: str):
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    def string() -> str:
        nonlocal pos
        (length,) = take("H")
        text = data[pos:pos + length].rstrip(b"\0").decode("utf-8")
        pos += length
        return text

    (version,) = take("I")
    if version < 5 or version > 6:
        raise ConversionError(f"unsupported CTranslate2 model.bin version {version}")
    spec = string()
    take("I")  # revision
    (count,) = take("I")
    variables: dict[str, np.ndarray] = {}
    for _ in range(count):
        name = string()
        (rank,) = take("B")
        dims = take(f"{rank}I") if rank else ()
        (dtype,) = take("B")
        (nbytes,) = take("I")
        raw = data[pos:pos + nbytes]
        pos += nbytes
        if dtype == 5:  # bfloat16: the high half of a float32
            array = (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32)
        elif dtype in _DTYPES:
            array = np.frombuffer(raw, _DTYPES[dtype])
        else:
            raise ConversionError(f"variable {name}: unknown dtype code {dtype}")
        variables[name] = array.reshape(dims) if rank else array.reshape(())
    aliases = {}
    if pos < len(data):
        (n_alias,) = take("I")
        for _ in range(n_alias):
            alias = string()
            aliases[alias] = string()
    return spec, variables, aliases


def _layers(variables: dict, prefix: str) -> int:
    found = {int(m.group(1)) for name in variables if (m := re.match(rf"{prefix}/layer_(\d+)/", name))}
    return max(found) + 1 if found else 0


def convert_arrays(variables: dict[str, np.ndarray], alignment_heads: list | None):
    """(dims dict, state dict of torch tensors, alignment-heads bytes or None)."""
    import torch

    def tensor(name: str):
        if name not in variables:
            raise ConversionError(f"model.bin has no variable {name}; is it a Whisper model?")
        return torch.from_numpy(np.array(variables[name], dtype=np.float16 if variables[name].dtype == np.float16 else np.float32))

    conv1 = variables["encoder/conv1/weight"]
    embed = variables["decoder/embeddings/weight"]
    dims = {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(variables["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": int(variables["encoder/num_heads"]),
        "n_audio_layer": _layers(variables, "encoder"),
        "n_vocab": int(embed.shape[0]),
        "n_text_ctx": int(variables["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(embed.shape[1]),
        "n_text_head": int(variables["decoder/num_heads"]),
        "n_text_layer": _layers(variables, "decoder"),
    }
    sd: dict = {}

    def linear(src: str, dst: str, bias: bool = True):
        sd[f"{dst}.weight"] = tensor(f"{src}/weight")
        if bias:
            sd[f"{dst}.bias"] = tensor(f"{src}/bias")

    def norm(src: str, dst: str):
        sd[f"{dst}.weight"] = tensor(f"{src}/gamma")
        sd[f"{dst}.bias"] = tensor(f"{src}/beta")

    def split(src: str, dsts: list[str], keyless: str | None):
        weights = tensor(f"{src}/weight").chunk(len(dsts), 0)
        biases = tensor(f"{src}/bias").chunk(len(dsts), 0)
        for dst, w, b in zip(dsts, weights, biases):
            sd[f"{dst}.weight"] = w.clone()
            if dst != keyless:  # openai-whisper's key projection has no bias (CTranslate2 stores zeros)
                sd[f"{dst}.bias"] = b.clone()

    def attention(src: str, dst: str):
        split(f"{src}/linear_0", [f"{dst}.query", f"{dst}.key", f"{dst}.value"], f"{dst}.key")
        linear(f"{src}/linear_1", f"{dst}.out")
        norm(f"{src}/layer_norm", f"{dst}_ln")

    def mlp(src: str, dst: str):
        linear(f"{src}/ffn/linear_0", f"{dst}.mlp.0")
        linear(f"{src}/ffn/linear_1", f"{dst}.mlp.2")
        norm(f"{src}/ffn/layer_norm", f"{dst}.mlp_ln")

    for i in (1, 2):
        linear(f"encoder/conv{i}", f"encoder.conv{i}")
    sd["encoder.positional_embedding"] = tensor("encoder/position_encodings/encodings")
    for i in range(dims["n_audio_layer"]):
        attention(f"encoder/layer_{i}/self_attention", f"encoder.blocks.{i}.attn")
        mlp(f"encoder/layer_{i}", f"encoder.blocks.{i}")
    norm("encoder/layer_norm", "encoder.ln_post")

    sd["decoder.token_embedding.weight"] = tensor("decoder/embeddings/weight")
    sd["decoder.positional_embedding"] = tensor("decoder/position_encodings/encodings")
    for i in range(dims["n_text_layer"]):
        block = f"decoder.blocks.{i}"
        attention(f"decoder/layer_{i}/self_attention", f"{block}.attn")
        src = f"decoder/layer_{i}/attention"
        linear(f"{src}/linear_0", f"{block}.cross_attn.query")
        split(f"{src}/linear_1", [f"{block}.cross_attn.key", f"{block}.cross_attn.value"], f"{block}.cross_attn.key")
        linear(f"{src}/linear_2", f"{block}.cross_attn.out")
        norm(f"{src}/layer_norm", f"{block}.cross_attn_ln")
        mlp(f"decoder/layer_{i}", block)
    norm("decoder/layer_norm", "decoder.ln")

    heads = None
    if alignment_heads:
        mask = np.zeros((dims["n_text_layer"], dims["n_text_head"]), dtype=bool)
        for layer, head in alignment_heads:
            mask[int(layer), int(head)] = True
        heads = base64.b85encode(gzip.compress(mask.tobytes()))
    return dims, sd, heads


def convert(model_dir: Path, out_path: Path) -> Path:
    """Write the openai-whisper checkpoint for the CTranslate2 folder `model_dir`."""
    import torch

    spec, variables, _ = read_ct2(model_dir / "model.bin")
    if spec != "WhisperSpec":
        raise ConversionError(f"{model_dir / 'model.bin'} holds a {spec}, not a Whisper model")
    config_path = model_dir / "config.json"
    alignment = json.loads(config_path.read_text()).get("alignment_heads") if config_path.exists() else None
    dims, sd, heads = convert_arrays(variables, alignment)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_path.parent, suffix=".tmp")
    os.close(fd)
    torch.save({"dims": dims, "model_state_dict": sd, "alignment_heads": heads,
                "format_version": FORMAT_VERSION}, tmp)
    Path(tmp).replace(out_path)
    return out_path


def cached_checkpoint(model_dir: Path, source_sha256: str, progress=None) -> Path:
    """The converted checkpoint in the cache (converted once per source sha256, verified on every use)."""
    folder = artifacts.cache_dir() / "speech" / "openai-whisper"
    target = folder / f"{source_sha256[:32]}-v{FORMAT_VERSION}.pt"
    meta = target.with_suffix(".json")
    if target.exists() and meta.exists():
        try:
            info = json.loads(meta.read_text())
            artifacts.verify(target, int(info["size"]), info["sha256"])
            return target
        except (ValueError, KeyError, artifacts.ArtifactError):
            target.unlink(missing_ok=True)
    if progress:
        progress(0.2, "converting the CTranslate2 model for openai-whisper (once)...")
    convert(model_dir, target)
    meta.write_text(json.dumps({"size": target.stat().st_size, "sha256": artifacts.sha256_of(target),
                                "source_sha256": source_sha256}))
    return target


def load_checkpoint(path: Path, device: str = "cpu"):
    """A whisper.model.Whisper from a converted (or openai) checkpoint: weights_only, strict=True."""
    import torch
    from whisper.model import ModelDimensions, Whisper

    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = Whisper(ModelDimensions(**checkpoint["dims"]))
    model.load_state_dict(checkpoint["model_state_dict"], strict=True)
    heads = checkpoint.get("alignment_heads")
    if heads:
        model.set_alignment_heads(heads)
    return model.to(device).eval()
