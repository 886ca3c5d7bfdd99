"""The transformers engine: safetensors/hub chat models (and GGUF converted once, products/copy/convert.py),
on GPUs or the CPU. N variants of one prompt in one `model.generate`; a StoppingCriteria (`Watcher`)
sees every step of every row and stops the rows that are done.
"""
from __future__ import annotations

import threading

from products.copy.engines import CopyEngine, DecodeRequest, TextWatch
from products.copy.templates import Template


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


class TransformersCopyModel(CopyEngine):
    """A causal LM with its tokenizer (which carries the chat template)."""

    engine = "transformers"

    def __init__(self, model, tokenizer, name: str, loaded_from: str = ""):
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.loaded_from = loaded_from

    @property
    def context_tokens(self) -> int:
        return int(getattr(self.model.config, "max_position_embeddings", 4096) or 4096)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def chat_prompt(self, messages: list[dict]) -> str:
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def watch(self, request: DecodeRequest, stop: threading.Event, out, start: float) -> Watcher:
        return Watcher(self.tokenizer, request.prompt_tokens, request.rows, request.template, request.lang, stop, out,
                       start, request.prefix)

    def _inputs(self, prompt: str):
        return self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(self.model.device)

    def decode(self, request: DecodeRequest, watch: Watcher, stop: threading.Event) -> None:
        """N variants of one prompt in one `model.generate`; `watch` sees every step and stops rows
        (Stop included: it reads `stop`)."""
        import torch

        sampling = request.sampling
        eos = self.stop_token_ids()
        tok = self.tokenizer
        penalty = sampling.repetition_penalty
        kwargs = dict(
            max_new_tokens=sampling.max_new_tokens, num_return_sequences=sampling.rows, stopping_criteria=[watch],
            repetition_penalty=penalty if penalty and penalty != 1 else None,
            no_repeat_ngram_size=sampling.no_repeat_ngram if sampling.no_repeat_ngram > 0 else None,
            bad_words_ids=bad_words_ids(tok, list(request.banned_words)),
            eos_token_id=eos or None,
            pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else (eos[0] if eos else 0),
        )
        if sampling.temperature > 0:
            kwargs.update(do_sample=True, temperature=float(sampling.temperature), top_p=float(sampling.top_p),
                          top_k=int(sampling.top_k))
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        inputs = self._inputs(request.prompt)
        torch.manual_seed(sampling.seed)
        with torch.inference_mode():
            ids = self.model.generate(**inputs, **kwargs)
        # A row that wrote all its tokens without an end token or its watcher stopping it ran out.
        new = ids[:, inputs["input_ids"].shape[1]:]
        for row in range(min(len(watch.ran_out), new.shape[0])):
            ended = bool(eos) and any(int(x) in eos for x in new[row])
            watch.ran_out[row] = (not ended and not watch.done[row] and not stop.is_set()
                                  and new.shape[1] >= sampling.max_new_tokens)

    def complete(self, requests, n: int, stop: threading.Event, seed: int = 0, max_new: int = 120) -> list[list[str]]:
        """n sampled candidates per request (no grammar here: the checks and the fallback do the rest)."""
        import torch
        from transformers import StoppingCriteria

        class Halt(StoppingCriteria):
            def __call__(self, input_ids, scores=None, **kwargs):
                return torch.full((input_ids.shape[0],), stop.is_set(), dtype=torch.bool, device=input_ids.device)

        tok = self.tokenizer
        out = []
        for r, (messages, _, banned) in enumerate(requests):
            if stop.is_set():
                out.append([])
                continue
            inputs = self._inputs(self.chat_prompt(messages))
            torch.manual_seed(seed + r)
            with torch.inference_mode():
                ids = self.model.generate(**inputs, max_new_tokens=max_new, do_sample=True, temperature=0.7, top_p=0.9,
                                          num_return_sequences=n, stopping_criteria=[Halt()],
                                          bad_words_ids=bad_words_ids(tok, banned or []),
                                          pad_token_id=tok.pad_token_id if tok.pad_token_id is not None
                                          else tok.eos_token_id)
            width = inputs["input_ids"].shape[1]
            out.append([tok.decode(row[width:], skip_special_tokens=True) for row in ids])
        return out

    def stop_token_ids(self) -> list[int]:
        """Every id that ends a turn: the model's eos ids and the chat formats' end markers."""
        tok = self.tokenizer
        ids = set()
        eos = getattr(self.model.generation_config, "eos_token_id", None)
        ids.update(eos if isinstance(eos, (list, tuple)) else [eos] if eos is not None else [])
        if tok.eos_token_id is not None:
            ids.add(tok.eos_token_id)
        for special in ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|endoftext|>"):
            if special in tok.get_vocab():
                ids.add(tok.convert_tokens_to_ids(special))
        return sorted(i for i in ids if i is not None)


def bad_words_ids(tokenizer, words: list[str]) -> list[list[int]] | None:
    """The token sequences that spell each word to avoid (as written, lower case, capitalized; with
    and without a leading space)."""
    ids = []
    for word in words:
        for form in {word, word.lower(), word.capitalize()}:
            for spelled in (form, " " + form):
                tokens = tokenizer(spelled, add_special_tokens=False)["input_ids"]
                if tokens and tokens not in ids:
                    ids.append(tokens)
    return ids or None
