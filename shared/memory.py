"""Measure how many bytes a loaded model holds, from its tensors rather than a guess."""
from __future__ import annotations

import sys


def measure_bytes(obj, _seen: set[int] | None = None, _depth: int = 0) -> int:
    """Bytes of the parameters, buffers, tensors and arrays reachable from `obj`.

    An object may answer for itself with a `memory_bytes()` method (a CTranslate2 model, say).
    Shared tensors are counted once. Walks modules, mappings, sequences and plain attributes.
    """
    seen = set() if _seen is None else _seen
    if id(obj) in seen or _depth > 6 or obj is None or isinstance(obj, (str, bytes, int, float, bool)):
        return 0
    seen.add(id(obj))
    if hasattr(obj, "memory_bytes") and callable(obj.memory_bytes) and not isinstance(obj, type):
        return int(obj.memory_bytes())
    torch = sys.modules.get("torch")
    if torch is not None:
        if isinstance(obj, torch.nn.Module):
            total = 0
            for tensor in list(obj.parameters()) + list(obj.buffers()):
                total += _tensor_bytes(tensor, seen)
            return total
        if isinstance(obj, torch.Tensor):
            return _tensor_bytes(obj, seen)
    nbytes = getattr(obj, "nbytes", None)
    if isinstance(nbytes, int) and type(obj).__module__.startswith("numpy"):
        return nbytes
    if isinstance(obj, dict):
        return sum(measure_bytes(v, seen, _depth + 1) for v in obj.values())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return sum(measure_bytes(v, seen, _depth + 1) for v in obj)
    # diffusers pipelines keep their modules in `components`; other wrappers in attributes.
    components = getattr(obj, "components", None)
    if isinstance(components, dict):
        return sum(measure_bytes(v, seen, _depth + 1) for v in components.values())
    attrs = getattr(obj, "__dict__", None)
    if isinstance(attrs, dict):
        return sum(measure_bytes(v, seen, _depth + 1) for v in attrs.values())
    return 0


def _tensor_bytes(tensor, seen: set[int]) -> int:
    try:
        key = tensor.untyped_storage().data_ptr()
    except (RuntimeError, NotImplementedError):
        key = id(tensor)
    if key in seen and key != 0:
        return 0
    seen.add(key)
    return tensor.numel() * tensor.element_size()
