"""The embedded sentiment classifiers: small heads over a sentiment encoder's vectors.

English: an MLP over the encoder's 384-d sentence vector -> negative / neutral / positive.
Chinese: the encoder knows little Chinese, so its vector is joined by hashed character 1-, 2- and
3-grams (a bag of characters, which carries most of the sentiment in short reviews; summed and
divided by the square root of their count) -> negative / positive. Both are plain torch modules saved as safetensors, so loading runs no pickle.
"""
from __future__ import annotations

import zlib

import torch
from torch import nn

LABELS = {"en": ("negative", "neutral", "positive"), "zh": ("negative", "positive")}
HASH_BUCKETS = 1 << 18


def char_ngram_ids(text: str, buckets: int = HASH_BUCKETS) -> list[int]:
    """Hashed character 1-, 2- and 3-grams (whitespace dropped); crc32 is stable across runs."""
    chars = [c for c in text.lower() if not c.isspace()]
    grams = (chars + [a + b for a, b in zip(chars, chars[1:])]
             + [a + b + c for a, b, c in zip(chars, chars[1:], chars[2:])])
    return [zlib.crc32(g.encode("utf-8")) % buckets for g in grams] or [0]


def bag(texts: list[str], buckets: int = HASH_BUCKETS) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids, offsets) for nn.EmbeddingBag."""
    return bag_from_ids([char_ngram_ids(text, buckets) for text in texts])


def bag_from_ids(per_text: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    ids, offsets = [], []
    for grams in per_text:
        offsets.append(len(ids))
        ids.extend(grams)
    return torch.tensor(ids, dtype=torch.long), torch.tensor(offsets, dtype=torch.long)


class EnglishHead(nn.Module):
    def __init__(self, dim: int = 384, hidden: int = 256, classes: int = 3, dropout: float = 0.1):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, classes))

    def forward(self, vectors: torch.Tensor, texts: list[str] | None = None, grams=None) -> torch.Tensor:
        return self.net(vectors)


class ChineseHead(nn.Module):
    def __init__(self, dim: int = 384, classes: int = 2, buckets: int = HASH_BUCKETS):
        super().__init__()
        self.buckets = buckets
        self.dense = nn.Linear(dim, classes)
        self.grams = nn.EmbeddingBag(buckets, classes, mode="sum")
        nn.init.zeros_(self.grams.weight)

    def forward(self, vectors: torch.Tensor, texts: list[str] | None = None,
                grams: list[list[int]] | None = None) -> torch.Tensor:
        """`grams` (precomputed char_ngram_ids per text) saves re-hashing the texts during training."""
        if grams is None:
            grams = [char_ngram_ids(text, self.buckets) for text in texts]
        ids, offsets = bag_from_ids(grams)
        counts = torch.tensor([len(g) for g in grams], dtype=vectors.dtype, device=vectors.device).unsqueeze(1)
        bag_logits = self.grams(ids.to(vectors.device), offsets.to(vectors.device)).to(vectors.dtype)
        return self.dense(vectors) + bag_logits / counts.sqrt()


def build_heads(dim: int = 384) -> dict[str, nn.Module]:
    return {"en": EnglishHead(dim), "zh": ChineseHead(dim)}


def save_heads(heads: dict[str, nn.Module], path, metadata: dict[str, str]) -> None:
    from safetensors.torch import save_file

    tensors = {f"{lang}.{k}": v.detach().float().contiguous() for lang, head in heads.items()
               for k, v in head.state_dict().items()}
    save_file(tensors, str(path), metadata=metadata)


def load_heads(path) -> dict[str, nn.Module]:
    from safetensors.torch import load_file

    tensors = load_file(str(path))
    # each language's input size is its encoder's (the two may differ: 384 MiniLM, 768 EmbeddingGemma)
    heads = {"en": EnglishHead(int(tensors["en.net.0.weight"].shape[1])),
             "zh": ChineseHead(int(tensors["zh.dense.weight"].shape[1]))}
    for lang, head in heads.items():
        prefix = f"{lang}."
        head.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}, strict=True)
        head.eval()
    return heads


def heads_metadata(path) -> dict[str, str]:
    from safetensors import safe_open

    with safe_open(str(path), "pt") as handle:
        return dict(handle.metadata() or {})
