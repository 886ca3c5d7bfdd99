"""What core asks of every engine, in one place: `decode(request, watch, stop)` writes N variants of
one prompt while a watcher sees every step, and `complete(requests, n, stop, seed)` writes
candidates for a list of prompts, decoded together, for the repairs.

Engines: transformers (products/copy/transformers_engine.py: safetensors/hub models, GPUs; a
StoppingCriteria watches), llama.cpp (products/copy/llama_engine.py: GGUF on CPU; its `on_step`
callback watches, a grammar holds the structure), and an OpenAI-compatible server
(products/copy/openai_engine.py; one stream per variant).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from products.copy import text as tx
from products.copy.options import Decoding
from products.copy.templates import Template
from products.copy.variants import parse


@dataclass(frozen=True)
class DecodeRequest:
    """One decode, as every engine takes it: the prompt, how to sample, and what the watcher needs."""
    messages: list[dict]  # the chat (a server applies its own template to it)
    prompt: str  # the messages rendered with the local model's template, ending with `prefix`
    prefix: str  # the prefilled start of the answer, part of every variant's text
    prompt_tokens: int  # tokens of `prompt` (0 for a server, which counts them itself)
    template: Template
    lang: str
    product: str  # the name the grammar puts where the template needs it
    banned_words: tuple[str, ...]  # words to avoid: never sampled
    sampling: Decoding  # rows, seed, temperature, top_p, top_k, max_new_tokens, penalties

    @property
    def rows(self) -> int:
        return self.sampling.rows


class TextWatch:
    """The per-row decisions on text alone: a row that loops or has filled its template is done."""

    def __init__(self, rows: int, template: Template, lang: str, stop: threading.Event, out, start: float,
                 prefix: str = ""):
        self.template = template
        self.lang = lang
        self.stop = stop
        self.out = out
        self.start = start
        self.prefix = prefix  # the prefilled start of the answer, part of every variant's text
        self.texts = [prefix] * rows
        self.done = [False] * rows
        self.loops = [""] * rows
        self.ran_out = [False] * rows  # the token budget ended the row mid-text (engines that know say so)
        self.newlines = [prefix.count("\n")] * rows
        self.steps = 0
        self.first_token_s: float | None = None

    def _row_done(self, row: int, text: str) -> bool:
        """Cheap per token: the line checks run only when a line was completed, the phrase check
        only on the text's tail (a loop being written is at the end)."""
        newlines = text.count("\n")
        new_line = newlines != self.newlines[row]
        self.newlines[row] = newlines
        tail = text[-240:]
        if new_line or "#" in tail[-40:]:
            reason = tx.loop_reason(text, self.template.max_hashtags)
        else:
            reason = tx.loop_reason(tail.split("\n")[-1], 0)
        if reason:
            self.loops[row] = reason
            return True
        if new_line:  # every field filled by complete lines: the template is done
            complete = text.rsplit("\n", 1)[0]
            pairs, _ = parse(tx.clean(complete, self.template.max_hashtags), self.template, self.lang)
            filled = {f.key: 0 for f in self.template.fields}
            for f, _ in pairs:
                filled[f.key] += 1
            if all(filled[f.key] >= f.lines for f in self.template.fields):
                return True
        return False

    def see(self, texts: list[str]) -> list[bool]:
        """One decoding step's texts (without the prefix): publish them, return which rows are done."""
        self.steps += 1
        if self.first_token_s is None:
            self.first_token_s = time.perf_counter() - self.start
        for row, text in enumerate(texts):
            if self.done[row]:
                continue
            self.texts[row] = self.prefix + text.rstrip("\ufffd")
            if self._row_done(row, self.texts[row]):
                self.done[row] = True
        self.out.put(("step", list(self.texts)))
        return [self.stop.is_set() or d for d in self.done]


class CopyEngine:
    """The interface every copy model implements (core sees nothing else of an engine).

    Besides `engine` (its name) and `context_tokens`: `count_tokens(text)` and `chat_prompt(messages)`
    for fitting the prompt, `watch` for the watcher of one decode, `decode` and `complete`."""

    engine = ""
    context_tokens = 0

    def count_tokens(self, text: str) -> int:
        raise NotImplementedError

    def chat_prompt(self, messages: list[dict]) -> str:
        raise NotImplementedError

    def watch(self, request: DecodeRequest, stop: threading.Event, out, start: float) -> TextWatch:
        """The watcher `decode` reports to (an engine that reads tokens, not text, returns its own kind)."""
        return TextWatch(request.rows, request.template, request.lang, stop, out, start, request.prefix)

    def decode(self, request: DecodeRequest, watch: TextWatch, stop: threading.Event):
        """Decode `request.rows` variants until each is done (the watcher says so, or `max_new_tokens`)
        or `stop` is set; the watcher holds the texts. Returns the engine's result (with
        `prompt_tokens` when it counted them) or None."""
        raise NotImplementedError

    def complete(self, requests, n: int, stop: threading.Event, seed: int = 0) -> list[list[str]]:
        """n candidates per (messages, grammar, banned words), for the repairs."""
        raise NotImplementedError


def completer(engine: CopyEngine, stop: threading.Event, seed: int):
    """The repairs' `complete(requests, n)` on this engine."""
    return lambda requests, n: engine.complete(requests, n, stop, seed)
