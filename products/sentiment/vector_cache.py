"""Encoder vectors of many texts, cached on disk: the training tools and the admin retrain
(products/sentiment/improve.py) embed the same pools, so both read one cache."""
from __future__ import annotations

import hashlib
import time

import numpy as np

from shared import artifacts
from shared.encoder import ENCODER


def embed(texts: list[str], cache_key: str, encoder_name: str = ENCODER) -> np.ndarray:
    """Encoder vectors, cached on disk (safetensors) by a digest of the encoder and the texts:
    encoding the 14k Chinese training texts takes minutes, a cached retrain seconds."""
    from safetensors.numpy import load_file, save_file

    from shared.models import registry

    with registry.use(encoder_name) as encoder:
        # The source names the encoder's files: another encoder never reuses these vectors.
        status = registry.status_of(encoder_name)
        identity = f"{encoder_name}|{status.get('source', '')}|{status.get('dtype', '')}|{encoder.dim}"
        digest = hashlib.sha256("\n".join([identity, *texts]).encode()).hexdigest()[:20]
        path = artifacts.cache_dir() / "train-cache" / f"{cache_key}-{digest}.safetensors"
        if path.exists():
            try:
                vectors = load_file(str(path))["vectors"]
                if vectors.shape == (len(texts), encoder.dim):
                    return vectors
            except Exception:  # a damaged cache file is rebuilt
                pass
        path.parent.mkdir(parents=True, exist_ok=True)
        start = time.time()
        # Sorting by length keeps padding small; order is restored afterwards.
        order = np.argsort([len(t) for t in texts])
        vectors = np.zeros((len(texts), encoder.dim), dtype=np.float32)
        for i in range(0, len(texts), 512):
            idx = order[i:i + 512]
            vectors[idx] = encoder.encode([texts[j] for j in idx], batch_size=64)
            if len(texts) > 2048:
                print(f"  embedded {min(i + 512, len(texts))}/{len(texts)} ({time.time() - start:.0f}s)", flush=True)
    part = path.with_suffix(".part")
    save_file({"vectors": vectors}, str(part))
    part.replace(path)
    return vectors
