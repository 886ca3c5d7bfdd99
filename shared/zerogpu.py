"""Hugging Face ZeroGPU support: on a ZeroGPU Space the GPU is attached only inside functions
decorated with `spaces.GPU`, and models must be loaded at start-up. Elsewhere `gpu()` is a no-op.
"""
from __future__ import annotations

import os
from functools import lru_cache


@lru_cache(maxsize=1)
def on_zero_gpu() -> bool:
    """True on a ZeroGPU Space: the `spaces` package is importable and says so."""
    try:
        import spaces
    except ImportError:
        return False
    config = getattr(spaces, "config", None)
    flag = getattr(getattr(config, "Config", None), "zero_gpu", None)
    if flag is None:
        flag = os.environ.get("SPACES_ZERO_GPU", "").lower() in {"1", "true"}
    return bool(flag)


def start_up_models(configured: tuple[str, ...]) -> tuple[str, ...]:
    """The models to load at start-up (eager mode): the configured ones (AIPM_PRELOAD), else every
    model on ZeroGPU, which attaches a GPU only inside @spaces.GPU and wants weights loaded before."""
    return tuple(configured) or (("all",) if on_zero_gpu() else ())


def gpu(duration: int = 60):
    """`@spaces.GPU(duration=...)` on ZeroGPU, else leave the function as it is."""
    if on_zero_gpu():
        import spaces

        return spaces.GPU(duration=duration)
    return lambda fn: fn
