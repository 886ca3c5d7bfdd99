"""EmbeddingGemma-300M as one int8 ONNX graph, the sentiment encoder on the CPU (ONNX Runtime).

Exported once, at set-up (setup_steps.py), from the assembled and verified model (products/sentiment/gemma.py):
the transformer (eager attention, the bidirectional masks built in the graph), mean pooling, the two
dense layers and L2 normalisation, inputs `input_ids` / `attention_mask` (int64, dynamic batch and
sequence), output `embedding` (float32, 768, unit length). The float graph is quantized by ONNX
Runtime's dynamic quantization (`quantize_dynamic`: int8 weights of every MatMul with a constant
weight, activations quantized per call; see VARIANT); the float graph is then deleted. The file lies
beside the model, in gemma.model_dir().

    python -m products.sentiment.onnx_gemma export   # once; a no-op when the verified file is there
    python -m products.sentiment.onnx_gemma verify   # hash it again

Integrity: the export is NOT byte-deterministic (two exports on the same machine, same versions: the same
size, 310,280,362 bytes, but other sha256s), so no hash can be pinned here. The export writes a manifest
beside the file (`embeddinggemma-int8.onnx.json`: size, sha256, variant, torch and onnxruntime versions)
and every load checks the file against it (artifacts.verify: sha256 remembered per size and mtime), with
the tokenizer files against gemma.FILES. PINNED stays for a toolchain that is deterministic: set, it wins
over the manifest. A missing or damaged file is a clear ArtifactError; the registry then loads torch.
Nothing is unpickled: the graph is protobuf, read by ONNX Runtime.

Variant (held-out binary accuracy, heads trained on float32 vectors, products/sentiment/experiment.py):
per-channel int8 weights of every MatMul and of the embedding table (Gather) keep English movie snippets
at 0.871 (float 0.872) and Chinese hotel reviews at 0.817 (0.814), in a 310 MB file; per-tensor weights
lost more (MatMul only, per channel, 0.867 / 0.810, and a 914 MB file with the float table).
The GPU keeps the torch model (products/sentiment/encoders.py picks; AIPM_SENTIMENT_GEMMA_RUNTIME).
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from shared import artifacts

from products.sentiment import gemma

FILE = "embeddinggemma-int8.onnx"
OPSET = 17
ONNX_PACKAGE = "onnx==1.23.2"  # quantize_dynamic reads and writes the graph with it (set-up only)
# What the quantizer is asked for (chosen on held-out accuracy and size: the module's docstring).
VARIANT = {"per_channel": True, "reduce_range": False, "op_types": ("MatMul", "Gather")}
EXPORT_HINT = "python -m products.sentiment.onnx_gemma export (bash scripts/setup.sh does it)"
SETUP_STEP = "embeddinggemma-onnx"
PROMPT = "task: classification | query: "  # products/sentiment/encoders.py GEMMA_PROMPT
MAX_TOKENS = 256  # products/sentiment/encoders.py MAX_TOKENS["gemma"]
PINNED: tuple[int, str] | None = None  # (size, sha256) when the export is byte-deterministic
# Measured: a session on the 310 MB file adds 347 MB of RSS when loaded, 418 MB after a batch of 32 x 75 tokens.
RSS_FACTOR = 1.35  # resident bytes of a loaded session per byte of the file
SIZE_ESTIMATE = 420_000_000  # what the registry makes room for before loading


def path() -> Path:
    return gemma.model_dir() / FILE


def manifest_path() -> Path:
    return gemma.model_dir() / (FILE + ".json")


# ---- export ----------------------------------------------------------------------------------------
def _assembled_module(folder: Path):
    """The sentence-transformers pipeline as one torch module: (input_ids, attention_mask) -> unit vectors."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModel

    model = AutoModel.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()
    window = int(model.config.sliding_window)

    class Assembled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model
            self.dense = torch.nn.ModuleList()
            for name in ("2_Dense", "3_Dense"):
                weight = load_file(str(folder / name / "model.safetensors"))["linear.weight"]
                layer = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=False)
                layer.weight.data.copy_(weight)
                self.dense.append(layer)

        def forward(self, input_ids, attention_mask):
            # The masks transformers builds for EmbeddingGemma (bidirectional; the sliding layers see
            # tokens closer than `sliding_window`), built here so that the export traces plain ops.
            keep = attention_mask.to(torch.bool)[:, None, None, :]
            pos = torch.arange(input_ids.shape[1], device=input_ids.device)
            near = ((pos[:, None] - pos[None, :]).abs() < window)[None, None]
            low = torch.finfo(torch.float32).min
            zero = torch.zeros((), dtype=torch.float32)
            masks = {"full_attention": torch.where(keep, zero, low),
                     "sliding_attention": torch.where(keep & near, zero, low)}
            hidden = self.model(input_ids=input_ids, attention_mask=masks, use_cache=False).last_hidden_state
            weights = attention_mask.to(hidden.dtype)[..., None]
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1)
            for layer in self.dense:
                pooled = layer(pooled)
            return torch.nn.functional.normalize(pooled, dim=-1)

    return Assembled().eval()


def export_float(folder: Path, target: Path) -> None:
    """The float32 graph (torch's TorchScript exporter, dynamo=False)."""
    import torch

    module = _assembled_module(folder)
    ids = torch.tensor([[2, 1000, 2000, 3000, 1], [2, 1000, 2000, 1, 0]], dtype=torch.long)
    mask = (ids != 0).long()
    with torch.inference_mode():
        torch.onnx.export(module, (ids, mask), str(target), dynamo=False, opset_version=OPSET,
                          input_names=["input_ids", "attention_mask"], output_names=["embedding"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                        "attention_mask": {0: "batch", 1: "sequence"}, "embedding": {0: "batch"}},
                          do_constant_folding=True)


def quantize(source: Path, target: Path, variant: dict | None = None) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    variant = variant or VARIANT
    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=variant["per_channel"],
                     reduce_range=variant["reduce_range"], op_types_to_quantize=list(variant["op_types"]))


def manifest() -> dict:
    """What the export wrote beside the file (size, sha256, how it was made), {} when none."""
    try:
        return json.loads(manifest_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def is_ready() -> bool:
    """The file and its record are there, at the recorded size (not hashed: `verify` does that)."""
    record = expected()
    return record is not None and path().is_file() and path().stat().st_size == record[0]


def expected() -> tuple[int, str] | None:
    """(size, sha256) the file must have: PINNED when the export is byte-deterministic, else the manifest."""
    if PINNED is not None:
        return PINNED
    record = manifest()
    if isinstance(record.get("size"), int) and isinstance(record.get("sha256"), str) and len(record["sha256"]) == 64:
        return record["size"], record["sha256"]
    return None


def verify(force: bool = False) -> Path:
    """The int8 file, checked by size and sha256 (remembered per size and mtime unless `force`), with
    the tokenizer files it is read with; ArtifactError says what is wrong."""
    if not path().is_file():
        raise artifacts.ArtifactError(f"the int8 ONNX EmbeddingGemma is not exported in {path()}: {EXPORT_HINT}")
    record = expected()
    if record is None:
        raise artifacts.ArtifactError(f"{manifest_path()} is missing or unreadable: {EXPORT_HINT}")
    artifacts.verify(path(), record[0], record[1], force)
    for name, size, sha in gemma.FILES:
        if name.startswith("tokenizer") or name in ("special_tokens_map.json", "added_tokens.json"):
            artifacts.verify(gemma.model_dir() / name, size, sha, force)
    return path()


def export(report=lambda done, total, text="": None, variant: dict | None = None, force: bool = False) -> Path:
    """Export the float graph, quantize it, check it, record it; a no-op when the verified file is there."""
    if not force and is_ready():
        try:
            return verify()
        except artifacts.ArtifactError:
            pass  # damaged: made again
    import onnxruntime
    import torch

    folder = gemma.verify_model()
    start = time.time()
    float_part = folder / f"{FILE}.float.{os.getpid()}.tmp"
    int8_part = folder / f"{FILE}.{os.getpid()}.tmp"
    try:
        report(0, 3, "exporting EmbeddingGemma to ONNX (float32)")
        export_float(folder, float_part)
        report(1, 3, "quantizing to int8")
        quantize(float_part, int8_part, variant)
        float_part.unlink()
        report(2, 3, "checking the int8 graph")
        _smoke_test(int8_part)
        size, sha = int8_part.stat().st_size, artifacts.sha256_of(int8_part)
        if PINNED is not None and (size, sha) != PINNED:
            raise artifacts.ArtifactError(
                f"the exported int8 graph ({size} bytes, sha256 {sha[:16]}...) is not the pinned one "
                f"({PINNED[0]} bytes, {PINNED[1][:16]}...): torch {torch.__version__}, onnxruntime "
                f"{onnxruntime.__version__} may differ from the versions in requirements.txt")
        record = {"file": FILE, "size": size, "sha256": sha, "variant": {**(variant or VARIANT)},
                  "opset": OPSET, "torch": torch.__version__, "onnxruntime": onnxruntime.__version__,
                  "from": gemma.ZIP_SHA256, "seconds": round(time.time() - start, 1)}
        record["variant"]["op_types"] = list(record["variant"]["op_types"])
        manifest_path().write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        int8_part.replace(path())
    finally:
        float_part.unlink(missing_ok=True)
        int8_part.unlink(missing_ok=True)
    return verify(force=True)


def _smoke_test(file: Path) -> None:
    """Two texts through the new graph: unit vectors of the right size, finite."""
    encoder = OnnxGemmaEncoder(file, threads=1)
    vectors = encoder.encode(["I love this phone!", "这本书写得太好了，强烈推荐。"])
    norms = np.linalg.norm(vectors, axis=1)
    if vectors.shape != (2, encoder.dim) or not np.all(np.abs(norms - 1) < 1e-3):
        raise artifacts.ArtifactError(f"the exported graph gives vectors of shape {vectors.shape}, norms {norms}")


# ---- the encoder -------------------------------------------------------------------------------------
class OnnxGemmaEncoder:
    """The sentiment encoder's interface, as products/sentiment/core.py, models.py and shared/encoder.py's
    `embed_with` use PromptedEncoder's (`encode`, `encode_counted`, `tokenizer`, `max_tokens`, `prompt`,
    `prompt_tokens`, `dim`), over the int8 graph in ONNX Runtime: the same tokenizer, task prompt and
    token limit as the torch EmbeddingGemma, so windows are cut at the same places."""

    device = "cpu"
    dtype = "int8"

    def __init__(self, file: Path | str, tokenizer=None, threads: int | None = None,
                 max_tokens: int = MAX_TOKENS, prompt: str = PROMPT):
        import onnxruntime as ort

        self.path = Path(file)
        if tokenizer is None:
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(gemma.model_dir())
        self.tokenizer = tokenizer
        self.max_tokens, self.prompt = max_tokens, prompt
        self.prompt_tokens = len(tokenizer(prompt, add_special_tokens=False)["input_ids"]) if prompt else 0
        self.threads = threads or _threads()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        width = self.session.get_outputs()[0].shape[-1]
        self.dim = int(width) if isinstance(width, int) else 768

    def memory_bytes(self) -> int:
        """What the loaded session holds, for the registry: measured as RSS_FACTOR times the file."""
        return int(self.path.stat().st_size * RSS_FACTOR)

    def inputs(self, texts: list[str], padding=True, max_length: int | None = None) -> dict[str, np.ndarray]:
        """The graph's inputs for one batch: the task prompt before each text, each cut at max_length tokens."""
        batch = self.tokenizer([self.prompt + t for t in texts], padding=padding, truncation=True,
                               max_length=max_length or self.max_tokens, return_tensors="np")
        return {"input_ids": batch["input_ids"].astype(np.int64),
                "attention_mask": batch["attention_mask"].astype(np.int64)}

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length float32 vectors, one per text; texts longer than max_tokens are cut."""
        return self.encode_counted(texts, batch_size)[0]

    def encode_counted(self, texts: list[str], batch_size: int = 32) -> tuple[np.ndarray, int]:
        """(vectors as `encode` gives them, tokens read: the prompt included, each text cut at max_tokens)."""
        out, tokens = [], 0
        for start in range(0, len(texts), batch_size):
            feed = self.inputs(list(texts[start:start + batch_size]))
            out.append(self.session.run(["embedding"], feed)[0].astype(np.float32, copy=False))
            tokens += int(feed["attention_mask"].sum())
        return (np.concatenate(out) if out else np.zeros((0, self.dim), dtype=np.float32)), tokens


def _threads() -> int:
    from shared.device import cpu_threads

    return cpu_threads()  # AIPM_TORCH_THREADS, or the count measured once on this machine (shared/threads.py)


def load(threads: int | None = None) -> OnnxGemmaEncoder:
    """The verified int8 encoder (ArtifactError when it is missing or does not match its record)."""
    return OnnxGemmaEncoder(verify(), threads=threads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("export", "verify"))
    parser.add_argument("--force", action="store_true", help="export again even when the verified file is there")
    args = parser.parse_args()
    if args.action == "export":
        start = time.time()
        done = export(lambda d, t, text="": print(f"[{d}/{t}] {text}", flush=True), force=args.force)
        record = manifest()
        print(f"int8 EmbeddingGemma ready in {done} ({record.get('size')} bytes, sha256 {record.get('sha256')}; "
              f"{time.time() - start:.0f} s)")
    else:
        print(f"int8 EmbeddingGemma verified: {verify(force=True)}")


if __name__ == "__main__":
    main()
