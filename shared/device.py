"""Device and dtype policy: CUDA, else Apple MPS, else CPU; bf16 on CPUs fast at it.

torch is imported here lazily, at the first question, so that starting the app costs no torch import.
"""
from __future__ import annotations

import glob
import logging
import os
import sys
import time
from functools import lru_cache

from shared.config import settings

log = logging.getLogger(__name__)

_DTYPES = {"float32": "float32", "fp32": "float32", "bfloat16": "bfloat16", "bf16": "bfloat16",
           "float16": "float16", "fp16": "float16"}


@lru_cache(maxsize=1)
def torch_ready():
    """Import torch once, with the configured (or measured) thread count."""
    import torch

    torch.set_num_threads(cpu_threads())
    return torch


@lru_cache(maxsize=1)
def cpu_threads() -> int:
    """AIPM_TORCH_THREADS, or with `auto` the count measured once on this machine (shared/threads.py)
    with a probe shaped like our encoders' work: a transformer block's matmuls for one short text."""
    if settings().torch_threads:
        return settings().torch_threads
    from shared import threads

    return threads.choose("torch", torch_probe)


def torch_probe(n: int) -> float:
    """Seconds for 30 feed-forward blocks (768 -> 3072 -> 768) on 64 tokens with n threads."""
    import torch

    from shared import threads

    torch.set_num_threads(n)
    x, w1, w2 = torch.randn(64, 768), torch.randn(3072, 768), torch.randn(768, 3072)
    with torch.inference_mode():
        return threads.timed(lambda: [torch.nn.functional.linear(torch.nn.functional.linear(x, w1).relu(), w2)
                                      for _ in range(30)])


def _no_gpu_here() -> bool:
    """Linux with no NVIDIA or AMD (ROCm) device nodes: no GPU torch could use, known without importing
    torch (about 250 MB that a process serving only llama.cpp or ONNX models never needs)."""
    return sys.platform.startswith("linux") and not glob.glob("/dev/nvidia[0-9]*") and not os.path.exists("/dev/kfd")


@lru_cache(maxsize=1)
def best_device() -> str:
    if "torch" not in sys.modules and _no_gpu_here():
        return "cpu"
    torch = torch_ready()
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def resolve_device(policy: str = "auto") -> str:
    """A spec's policy ('auto', 'cpu', ...) combined with the AIPM_DEVICE setting."""
    if policy != "auto":
        return policy
    wanted = settings().device
    return best_device() if wanted == "auto" else wanted


@lru_cache(maxsize=1)
def cpu_bf16_is_fast() -> bool:
    """Probe once: is a bf16 matmul on this CPU at least as fast as fp32?

    CPUs with AVX512-BF16 or AMX run bf16 faster; others emulate it and run it several times slower.
    """
    torch = torch_ready()
    timings = {}
    for dtype in (torch.float32, torch.bfloat16):
        a = torch.randn(256, 256).to(dtype)
        b = torch.randn(256, 256).to(dtype)
        a @ b  # warm-up
        start = time.perf_counter()
        for _ in range(20):
            a @ b
        timings[dtype] = time.perf_counter() - start
    fast = timings[torch.bfloat16] <= timings[torch.float32]
    log.info("bf16 probe: fp32 %.4fs, bf16 %.4fs -> bf16 %s", timings[torch.float32],
             timings[torch.bfloat16], "used" if fast else "not used")
    return fast


def resolve_dtype(device: str, policy: str = "auto"):
    """The torch dtype for a model: the spec's policy, else AIPM_DTYPE, else the device's best."""
    torch = torch_ready()
    name = policy if policy != "auto" else settings().dtype
    if name != "auto":
        if name not in _DTYPES:
            raise ValueError(f"unknown dtype {name!r}; use float32, bfloat16 or float16")
        return getattr(torch, _DTYPES[name])
    if device == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.bfloat16 if cpu_bf16_is_fast() else torch.float32


def empty_device_cache() -> None:
    """Give freed GPU memory back after an unload (no-op on CPU, and when torch was never imported)."""
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


def describe() -> dict:
    """Device facts for the System tab."""
    import platform

    import psutil

    torch = torch_ready()
    info = {
        "device": resolve_device(),
        "torch threads": torch.get_num_threads(),
        "CPU cores": psutil.cpu_count(),
        "RAM total (GB)": round(psutil.virtual_memory().total / 1e9, 1),
        "RAM available (GB)": round(psutil.virtual_memory().available / 1e9, 1),
        "python": platform.python_version(),
    }
    if torch.cuda.is_available():
        free, total = torch.cuda.mem_get_info()
        info["GPU"] = torch.cuda.get_device_name(0)
        info["GPU memory total (GB)"] = round(total / 1e9, 1)
        info["GPU memory free (GB)"] = round(free / 1e9, 1)
    return info


def total_memory(device: str) -> int:
    """Bytes of memory on the device the models go to."""
    if device == "cuda":
        torch = torch_ready()
        return torch.cuda.mem_get_info()[1]
    import psutil

    return psutil.virtual_memory().total
