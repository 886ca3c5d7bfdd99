"""What core asks of each engine, in one place: decode N variants while a watcher sees every step,
and `complete` (candidates for a list of prompts, decoded together) for the repairs.

Engines: transformers (safetensors/hub models, GPUs; a StoppingCriteria watches), llama.cpp (GGUF on
CPU; its `on_step` callback watches, a grammar holds the structure), and an OpenAI-compatible
server (products/copy/openai_engine.py; one stream per variant).
"""
from __future__ import annotations

import threading
import time

from products.copy import text as tx
from products.copy.templates import Template
from products.copy.variants import parse


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


def completer(cm, engine: str, stop: threading.Event, seed: int):
    """This engine's `complete(requests, n)`: n candidates per (messages, grammar, banned words), for the repairs."""
    if engine == "llama.cpp":
        return lambda requests, n: llama_complete(cm, requests, n, stop, seed)
    if engine == "transformers":
        return lambda requests, n: transformers_complete(cm, requests, n, stop, seed)
    return lambda requests, n: cm.complete(requests, n, stop, seed)  # an OpenAI-compatible server


# ---- llama.cpp ---------------------------------------------------------------------------------
def llama_decode(cm, prompt: str, rows: int, grammar: str, banned_words: list[str], seed: int, options,
                 max_new: int, watch: TextWatch, stop: threading.Event):
    from products.copy.llama_batch import Row, Sampling

    banned = cm.word_tokens(banned_words) if banned_words else ()
    sampling = Sampling(temperature=float(options.temperature), top_p=float(options.top_p), top_k=int(options.top_k),
                        repetition_penalty=float(options.repetition_penalty or 1.0))
    jobs = [Row(prompt, grammar, seed + i, banned) for i in range(rows)]
    return cm.decode(jobs, sampling, max_new, stop, on_step=watch.see)


def llama_complete(cm, requests, n: int, stop: threading.Event, seed: int = 0, max_new: int = 120) -> list[list[str]]:
    """n candidates for each (messages, grammar, banned words), up to the context's sequences per batch."""
    from products.copy.llama_batch import Row, Sampling

    rows = []
    for r, (messages, grammar, banned) in enumerate(requests):
        prompt = cm.chat_prompt(messages)
        ids = cm.word_tokens(banned) if banned else ()
        rows += [(r, Row(prompt, grammar, seed + 97 * r + k, ids)) for k in range(n)]
    out: list[list[str]] = [[] for _ in requests]
    sampling = Sampling(temperature=0.7, top_p=0.9, top_k=40, repetition_penalty=1.05)
    step = max(1, cm.seqs)
    for at in range(0, len(rows), step):
        if stop.is_set():
            break
        chunk = rows[at:at + step]
        result = cm.decode([row for _, row in chunk], sampling, max_new, stop)
        for (r, _), text in zip(chunk, result.texts):
            out[r].append(text)
    return out


# ---- transformers --------------------------------------------------------------------------------
class Watcher(TextWatch):
    """A StoppingCriteria over every variant (transformers): publishes text, stops loops, full
    templates and Stop. transformers 5 calls it after each decoding step with all the ids so far
    and expects one bool per row; a row once stopped stays stopped (generate pads it)."""

    def __init__(self, tokenizer, prompt_len: int, rows: int, template: Template, lang: str,
                 stop: threading.Event, out, start: float, prefix: str = ""):
        super().__init__(rows, template, lang, stop, out, start, prefix)
        self.tokenizer = tokenizer
        self.prompt_len = prompt_len

    def __call__(self, input_ids, scores=None, **kwargs):
        import torch

        texts = [self.tokenizer.decode(input_ids[row, self.prompt_len:], skip_special_tokens=True)
                 if not self.done[row] else "" for row in range(len(self.texts))]
        flags = self.see(texts)
        return torch.tensor(flags, dtype=torch.bool, device=input_ids.device)


def stop_token_ids(cm) -> list[int]:
    tok = cm.tokenizer
    ids = set()
    eos = getattr(cm.model.generation_config, "eos_token_id", None)
    ids.update(eos if isinstance(eos, (list, tuple)) else [eos] if eos is not None else [])
    if tok.eos_token_id is not None:
        ids.add(tok.eos_token_id)
    for special in ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|endoftext|>"):
        if special in tok.get_vocab():
            ids.add(tok.convert_tokens_to_ids(special))
    return sorted(i for i in ids if i is not None)


def transformers_decode(cm, inputs, rows: int, banned_words: list[str], seed: int, options, max_new: int,
                        no_repeat_ngram: int, watch: Watcher) -> None:
    """N variants of one prompt in one `model.generate`; `watch` sees every step and stops rows."""
    import torch

    eos = stop_token_ids(cm)
    tok = cm.tokenizer
    penalty = options.repetition_penalty
    kwargs = dict(
        max_new_tokens=max_new, num_return_sequences=rows, stopping_criteria=[watch],
        repetition_penalty=penalty if penalty and penalty != 1 else None,
        no_repeat_ngram_size=no_repeat_ngram if no_repeat_ngram > 0 else None,
        bad_words_ids=bad_words_ids(tok, banned_words),
        eos_token_id=eos or None,
        pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else (eos[0] if eos else 0),
    )
    if options.temperature > 0:
        kwargs.update(do_sample=True, temperature=float(options.temperature), top_p=float(options.top_p),
                      top_k=int(options.top_k))
    else:
        kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
    torch.manual_seed(seed)
    with torch.inference_mode():
        cm.model.generate(**inputs, **kwargs)


def bad_words_ids(tokenizer, words: list[str]) -> list[list[int]] | None:
    ids = []
    for word in words:
        for form in {word, word.lower(), word.capitalize()}:
            for spelled in (form, " " + form):
                tokens = tokenizer(spelled, add_special_tokens=False)["input_ids"]
                if tokens and tokens not in ids:
                    ids.append(tokens)
    return ids or None


def transformers_complete(cm, requests, n: int, stop: threading.Event, seed: int = 0,
                          max_new: int = 120) -> list[list[str]]:
    """n sampled candidates per request (no grammar here: the checks and the fallback do the rest)."""
    import torch
    from transformers import StoppingCriteria

    class Halt(StoppingCriteria):
        def __call__(self, input_ids, scores=None, **kwargs):
            return torch.full((input_ids.shape[0],), stop.is_set(), dtype=torch.bool, device=input_ids.device)

    tok = cm.tokenizer
    out = []
    for r, (messages, _, banned) in enumerate(requests):
        if stop.is_set():
            out.append([])
            continue
        prompt = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        inputs = tok(prompt, return_tensors="pt", add_special_tokens=False).to(cm.model.device)
        torch.manual_seed(seed + r)
        with torch.inference_mode():
            ids = cm.model.generate(**inputs, max_new_tokens=max_new, do_sample=True, temperature=0.7, top_p=0.9,
                                    num_return_sequences=n, stopping_criteria=[Halt()],
                                    bad_words_ids=bad_words_ids(tok, banned or []),
                                    pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id)
        width = inputs["input_ids"].shape[1]
        out.append([tok.decode(row[width:], skip_special_tokens=True) for row in ids])
    return out
