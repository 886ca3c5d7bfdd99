"""What one llama.cpp decode call takes and gives back (Row, Sampling, Result), and the arithmetic of
a batch that needs no model: the prompt prefix every row shares (evaluated once), and where a row's
bytes end a whole UTF-8 character (a token may end inside one). products/copy/llama_engine.py runs them.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Row:
    """One sequence to decode: its prompt, its grammar (GBNF, optional), its seed."""

    prompt: str
    grammar: str = ""
    seed: int = 0
    banned: tuple[int, ...] = ()  # token ids never sampled (words to avoid)


@dataclass
class Sampling:
    temperature: float = 0.7
    top_p: float = 0.9
    top_k: int = 40
    repetition_penalty: float = 1.1


@dataclass
class Result:
    texts: list[str]
    steps: int = 0
    prompt_tokens: int = 0
    first_token_s: float | None = None
    finished: list[bool] = field(default_factory=list)  # ended by the model (EOG / grammar complete)
    ran_out: list[bool] = field(default_factory=list)  # still writing when the token budget ended
    drafted: int = 0  # speculative decoding: tokens the draft model guessed
    accepted: int = 0  # ... and of those, the ones the model kept


def utf8_cut(data: bytes) -> int:
    """Length of the longest prefix that does not end inside a multi-byte character."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # a lead byte (or ASCII)
            width = 1 if byte < 0x80 else 2 if byte >> 5 == 0b110 else 3 if byte >> 4 == 0b1110 else 4
            return len(data) if back >= width else len(data) - back
    return len(data)


def complete_utf8(data: bytes) -> bool:
    return utf8_cut(data) == len(data)


def shown_text(data: bytes) -> str:
    """A row's bytes so far as text, without a character whose last bytes are still to come."""
    return data[:utf8_cut(data)].decode("utf-8", "ignore")


def common_prefix(prompts: list[list[int]]) -> int:
    """Length of the prefix every prompt shares, leaving each at least one token of its own (whose
    logits give its first new token)."""
    if not prompts:
        return 0
    most = min(len(p) for p in prompts) - 1
    n = 0
    first = prompts[0]
    while n < most and all(p[n] == first[n] for p in prompts):
        n += 1
    return max(0, n)
