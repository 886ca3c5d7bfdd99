"""GGUF -> safetensors, once, into the cache; later loads read the cache.

transformers reads a GGUF file by dequantizing every tensor (slow: tens of seconds). The result is
saved with `save_pretrained` (safetensors, in the load dtype) together with the tokenizer (which
carries the chat template from the GGUF metadata) in

    $AIPM_CACHE_DIR/copy/<gguf sha256[:16]>-<dtype>/

with `manifest.json` listing every file's size and sha256. On load the manifest is checked
(shared.artifacts.verify, memoized per path/size/mtime, so a file is hashed once); a missing or
changed file triggers a fresh conversion.
"""
from __future__ import annotations

import contextlib
import json
import logging
import shutil
import tempfile
import threading
import time
from pathlib import Path

from shared import artifacts

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
_patch_lock = threading.Lock()


def cache_folder(sha256: str, dtype) -> Path:
    return artifacts.cache_dir() / "copy" / f"{sha256[:16]}-{str(dtype).replace('torch.', '')}"


def check_manifest(folder: Path) -> bool:
    """True when the folder holds a complete conversion whose files match the manifest."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        for name, entry in manifest["files"].items():
            artifacts.verify(folder / name, entry["size"], entry["sha256"])
        return bool(manifest["files"])
    except (OSError, ValueError, KeyError, artifacts.ArtifactError) as err:
        if (folder / MANIFEST).exists():
            log.warning("cached conversion %s is not usable (%s); converting again", folder, err)
        return False


@contextlib.contextmanager
def _tensor_progress(progress, start: float, end: float, label: str):
    """Report transformers' per-tensor GGUF loop (a tqdm) as registry progress."""
    from transformers import modeling_gguf_pytorch_utils as gguf_utils

    original = gguf_utils.tqdm

    def reporting(iterable, *args, **kwargs):
        items = list(iterable)
        step = max(1, len(items) // 20)
        for i, item in enumerate(items):
            if i % step == 0:
                progress(start + (end - start) * i / len(items), f"{label} ({i}/{len(items)} tensors)")
            yield item

    with _patch_lock:
        gguf_utils.tqdm = reporting
        try:
            yield
        finally:
            gguf_utils.tqdm = original


def convert(gguf: Path, out: Path, dtype, progress=None) -> Path:
    """Dequantize a GGUF chat model to a transformers folder (safetensors + tokenizer + manifest)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    progress = progress or (lambda fraction, text: None)
    start = time.perf_counter()
    label = f"converting {gguf.name} to safetensors (first use only)"
    progress(0.05, label)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    with _tensor_progress(progress, 0.05, 0.75, label):
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=dtype)
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer.remove_quantization_config(model)  # else: "quantized with gguf, not serializable"
    progress(0.8, f"saving {out.name}...")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=out.name + ".tmp-"))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        del model
        progress(0.9, f"checking {out.name}...")
        files = {}
        for path in sorted(p for p in tmp.iterdir() if p.is_file()):
            sha = artifacts.sha256_of(path)
            files[path.name] = {"size": path.stat().st_size, "sha256": sha}
        (tmp / MANIFEST).write_text(json.dumps({"source": gguf.name, "dtype": str(dtype), "files": files}, indent=1))
        if out.exists():
            shutil.rmtree(out)
        tmp.replace(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        for name, entry in files.items():  # remember the hashes just computed (no second hashing on load)
            artifacts.verify(out / name, entry["size"], entry["sha256"])
    except artifacts.ArtifactError as err:  # our own output, not a package: remove it, rebuild next time
        shutil.rmtree(out, ignore_errors=True)
        raise artifacts.CacheDamaged(out / name, str(err)) from err
    log.info("converted %s to %s in %.1fs", gguf.name, out, time.perf_counter() - start)
    return out


def cached_conversion(gguf: Path, dtype, progress=None, sha256: str | None = None) -> Path:
    """The converted folder for this GGUF file and dtype, converting on first use."""
    sha256 = sha256 or artifacts.sha256_of(gguf)
    folder = cache_folder(sha256, dtype)
    if check_manifest(folder):
        return folder
    return convert(gguf, folder, dtype, progress)
