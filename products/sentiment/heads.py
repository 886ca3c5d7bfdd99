"""The embedded sentiment classifiers: small heads over the shared sentence encoder.

English: an MLP over the encoder's 384-d sentence vector -> negative / neutral / positive.
Chinese: the encoder knows little Chinese, so its vector is joined by hashed character 1- and
2-grams (a bag of characters, which carries most of the sentiment in short reviews) -> negative /
positive. Both are plain torch modules saved as safetensors, so loading runs no pickle.
"""
from __future__ import annotations

import zlib

import torch
from torch import nn

LABELS = {"en": ("negative", "neutral", "positive"), "zh": ("negative", "positive")}
HASH_BUCKETS = 1 << 18


def char_ngram_ids(text: str, buckets: int = HASH_BUCKETS) -> list[int]:
    """Hashed character unigrams and bigrams (whitespace dropped); crc32 is stable across runs."""
    chars = [c for c in text.lower() if not c.isspace()]
    grams = chars + [a + b for a, b in zip(chars, chars[1:])]
    return [zlib.crc32(g.encode("utf-8")) % buckets for g in grams] or [0]


def bag(texts: list[str], buckets: int = HASH_BUCKETS) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids, offsets) for nn.EmbeddingBag."""
    ids, offsets = [], []
    for text in texts:
        offsets.append(len(ids))
        ids.extend(char_ngram_ids(text, buckets))
    return torch.tensor(ids, dtype=torch.long), torch.tensor(offsets, dtype=torch.long)


class EnglishHead(nn.Module):
    def __init__(self, dim: int = 384, hidden: int = 256, classes: int = 3, dropout: float = 0.1):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, classes))

    def forward(self, vectors: torch.Tensor, texts: list[str] | None = None) -> torch.Tensor:
        return self.net(vectors)


class ChineseHead(nn.Module):
    def __init__(self, dim: int = 384, classes: int = 2, buckets: int = HASH_BUCKETS):
        super().__init__()
        self.buckets = buckets
        self.dense = nn.Linear(dim, classes)
        self.grams = nn.EmbeddingBag(buckets, classes, mode="mean")
        nn.init.zeros_(self.grams.weight)

    def forward(self, vectors: torch.Tensor, texts: list[str]) -> torch.Tensor:
        ids, offsets = bag(texts, self.buckets)
        return self.dense(vectors) + self.grams(ids.to(vectors.device), offsets.to(vectors.device))


def build_heads() -> dict[str, nn.Module]:
    return {"en": EnglishHead(), "zh": ChineseHead()}


def save_heads(heads: dict[str, nn.Module], path, metadata: dict[str, str]) -> None:
    from safetensors.torch import save_file

    tensors = {f"{lang}.{k}": v.detach().float().contiguous() for lang, head in heads.items()
               for k, v in head.state_dict().items()}
    save_file(tensors, str(path), metadata=metadata)


def load_heads(path) -> dict[str, nn.Module]:
    from safetensors.torch import load_file

    tensors = load_file(str(path))
    heads = build_heads()
    for lang, head in heads.items():
        prefix = f"{lang}."
        head.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}, strict=True)
        head.eval()
    return heads
