"""What a caller asks of a copy request (`Options`, with the sampling presets) and the values the
engines decode with once every default is filled in (`Decoding`).

A leaf module: it imports nothing from the copy package, so the engines, core and the tab can all
read it without importing each other.
"""
from __future__ import annotations

from dataclasses import dataclass

PRESETS = {"creative": (1.0, 0.95), "balanced": (0.7, 0.9), "precise": (0.3, 0.8)}


@dataclass
class Options:
    variants: int = 3
    temperature: float = 0.7
    top_p: float = 0.9
    max_new_tokens: int = 0  # 0 = the template's default
    repetition_penalty: float | None = None  # None = CopySettings.repetition_penalty
    no_repeat_ngram_size: int | None = None  # None = CopySettings.no_repeat_ngram
    seed: int | str | None = -1  # -1, None, '' or 'random' = random (the seed used is reported); shared/seeds.py
    top_k: int = 40

    @classmethod
    def preset(cls, name: str, **overrides) -> "Options":
        temperature, top_p = PRESETS[name]
        return cls(temperature=temperature, top_p=top_p, **overrides)


@dataclass(frozen=True)
class Decoding:
    """The values decoding uses, resolved once from Options, the template and CopySettings; nothing
    after this stage reads the environment. It has Options' sampling fields (temperature, top_p,
    top_k, repetition_penalty), so the engines read it where they read options."""
    rows: int
    max_new_tokens: int
    temperature: float
    top_p: float
    top_k: int
    repetition_penalty: float
    no_repeat_ngram: int
    seed: int
