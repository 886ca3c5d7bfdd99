"""Marketing copy, without Gradio: check a brief, build the prompt, stream N variants, clean and
enforce each channel's limits.

`generate` is a generator of `Update`s. It holds the model's registry lease while it streams;
`model.generate` runs in a thread, and a StoppingCriteria (`Watcher`) sees every new token of every
variant: it publishes the text, stops a variant that loops or has filled its template, and stops
them all when the `stop` event is set (Stop button, or the consumer closing the generator), so the
thread ends within about one token and the lease is released.
"""
from __future__ import annotations

import logging
import queue
import random
import threading
import time
from dataclasses import dataclass, field

from shared.config import raw
from shared.i18n import t
from shared.models import registry as default_registry
from shared.ui import UserError

from products.copy import models, strings  # noqa: F401  (strings registers the messages)
from products.copy import repair, structure
from products.copy import text as tx
from products.copy.engines import TextWatch, llama_complete, llama_decode, transformers_complete
from products.copy.templates import TEMPLATES, Brief, Template, Variant, build_messages, brief_block, finish, \
    language_code, fit_total, prefill

log = logging.getLogger(__name__)

PRESETS = {"creative": (1.0, 0.95), "balanced": (0.7, 0.9), "precise": (0.3, 0.8)}
MAX_VARIANTS = 5
MAX_FIELD_CHARS = 20_000  # a brief field longer than this is cut before it is even tokenized


@dataclass
class Options:
    variants: int = 3
    temperature: float = 0.7
    top_p: float = 0.9
    max_new_tokens: int = 0  # 0 = the template's default
    repetition_penalty: float | None = None  # None = AIPM_COPY_REPETITION_PENALTY
    no_repeat_ngram_size: int | None = None  # None = AIPM_COPY_NO_REPEAT_NGRAM
    seed: int = -1  # < 0 = random (the seed used is reported)
    top_k: int = 40

    @classmethod
    def preset(cls, name: str, **overrides) -> "Options":
        temperature, top_p = PRESETS[name]
        return cls(temperature=temperature, top_p=top_p, **overrides)


@dataclass
class Stats:
    prompt_tokens: int = 0
    steps: int = 0  # decoding steps (tokens per variant)
    first_token_s: float | None = None  # from the start of `generate` to the first new token
    seconds: float = 0.0
    seed: int = 0
    engine: str = ""  # llama.cpp, transformers or openai

    @property
    def decode_tok_s(self) -> float:
        """Tokens per second per variant after the first token."""
        if self.first_token_s is None or self.steps < 2 or self.seconds <= self.first_token_s:
            return 0.0
        return (self.steps - 1) / (self.seconds - self.first_token_s)


@dataclass
class Update:
    texts: list[str]  # cleaned partial text per variant (final copy text when done)
    done: bool = False
    stopped: bool = False
    variants: list[Variant] = field(default_factory=list)  # when done
    notes: list[str] = field(default_factory=list)
    stats: Stats = field(default_factory=Stats)
    template: Template | None = None
    lang: str = "en"


# ---- checks ---------------------------------------------------------------------------------
def check(brief: Brief, template_key: str, language: str, options: Options, lang_ui: str = "en"
          ) -> tuple[Template, str, list[str]]:
    """Validate a request: (template, language code, notes); UserError with a clear message."""
    notes = []
    if template_key not in TEMPLATES:
        raise UserError(t("copy.error.template", lang_ui, name=template_key, known=", ".join(TEMPLATES)))
    template = TEMPLATES[template_key]
    lang = language_code(language)
    if lang is None:
        raise UserError(t("copy.error.language", lang_ui, language=language))
    if lang not in template.languages:
        notes.append(t("copy.note.template_language", lang_ui, template=template.name(lang_ui)))
        lang = template.languages[0]
    for name in Brief.TRIMMABLE + ("tone",):
        value = getattr(brief, name) or ""
        setattr(brief, name, str(value).replace("\r\n", "\n").strip())
        if len(getattr(brief, name)) > MAX_FIELD_CHARS:
            setattr(brief, name, getattr(brief, name)[:MAX_FIELD_CHARS])
    if brief.is_empty():
        raise UserError(t("copy.error.empty", lang_ui))
    if not 1 <= int(options.variants) <= MAX_VARIANTS:
        raise UserError(t("copy.error.variants", lang_ui, most=MAX_VARIANTS))
    if not 0 <= options.temperature <= 2 or not 0 < options.top_p <= 1:
        raise UserError(t("copy.error.sampling", lang_ui))
    most = max_new_tokens_limit()
    if options.max_new_tokens < 0 or options.max_new_tokens > most:
        raise UserError(t("copy.error.max_tokens", lang_ui, most=most))
    if options.temperature == 0 and options.variants > 1:
        notes.append(t("copy.note.greedy", lang_ui))
        options.variants = 1
    return template, lang, notes


def max_new_tokens_limit() -> int:
    return max(16, int(raw("AIPM_COPY_MAX_NEW_TOKENS")))


def fit_brief(brief: Brief, lang: str, count_tokens, budget: int, lang_ui: str = "en") -> tuple[Brief, list[str]]:
    """Shorten the longest free-text fields (at word boundaries) until the brief fits `budget` tokens."""
    before = count_tokens(brief_block(brief, lang))
    if before <= budget:
        return brief, []
    for _ in range(30):
        used = count_tokens(brief_block(brief, lang))
        if used <= budget:
            break
        name = max(Brief.TRIMMABLE, key=lambda n: len(getattr(brief, n)))
        value = getattr(brief, name)
        keep = int(len(value) * max(0.1, min(0.95, budget / used))) - 1
        setattr(brief, name, tx.trim(value, max(0, keep), "chars"))
    after = count_tokens(brief_block(brief, lang))
    if after > budget:
        raise UserError(t("copy.error.too_long", lang_ui, budget=budget))
    return brief, [t("copy.note.trimmed_brief", lang_ui, before=before, after=after, budget=budget)]


# ---- generation -------------------------------------------------------------------------------
def _stop_token_ids(cm) -> list[int]:
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


class Watcher(TextWatch):
    """A StoppingCriteria over every variant (transformers): publishes text, stops loops, full
    templates and Stop. transformers 5 calls it after each decoding step with all the ids so far
    and expects one bool per row; a row once stopped stays stopped (generate pads it)."""

    def __init__(self, tokenizer, prompt_len: int, rows: int, template: Template, lang: str,
                 stop: threading.Event, out: queue.Queue, start: float, prefix: str = ""):
        super().__init__(rows, template, lang, stop, out, start, prefix)
        self.tokenizer = tokenizer
        self.prompt_len = prompt_len

    def __call__(self, input_ids, scores=None, **kwargs):
        import torch

        texts = [self.tokenizer.decode(input_ids[row, self.prompt_len:], skip_special_tokens=True)
                 if not self.done[row] else "" for row in range(len(self.texts))]
        flags = self.see(texts)
        return torch.tensor(flags, dtype=torch.bool, device=input_ids.device)


def _display(text: str, template: Template) -> str:
    return tx.clean(text, template.max_hashtags)


def generate(brief: Brief, template_key: str, language: str, options: Options | None = None,
             model: str | None = None, *, reg=None, stop: threading.Event | None = None,
             progress=None, lang_ui: str = "en"):
    """Stream `Update`s for N variants; the last one has done=True and the finished variants."""
    # 1. check
    options = options or Options()
    template, lang, notes = check(brief, template_key, language, options, lang_ui)
    reg = reg or default_registry
    model = model or models.configured_models()[0]
    if model not in models.MODELS:
        raise UserError(t("copy.error.model", lang_ui, name=model, known=", ".join(models.configured_models())))
    spec = models.ensure_registered(model, reg)
    stop = stop or threading.Event()
    # 2. resolve decoding
    max_new = int(options.max_new_tokens) or template.max_new_tokens
    if options.repetition_penalty is None:
        options.repetition_penalty = float(raw("AIPM_COPY_REPETITION_PENALTY"))
    ngram = options.no_repeat_ngram_size if options.no_repeat_ngram_size is not None else \
        int(raw("AIPM_COPY_NO_REPEAT_NGRAM"))
    seed = int(options.seed) if options.seed is not None and int(options.seed) >= 0 else random.randrange(2**31)
    rows = int(options.variants)

    with reg.use(spec, progress) as cm:
        engine = getattr(cm, "engine", "transformers")
        # 3. fit the prompt
        brief, prompt, start_text, more = _fit_prompt(cm, engine, brief, template, lang, rows, max_new, lang_ui)
        notes += more
        notes.append(t("copy.note.engine", lang_ui, engine=engine, where=_where(cm, engine)))  # which path served it
        # 4. start decoding
        out: queue.Queue = queue.Queue()
        start = time.perf_counter()
        grammar = structure.grammar(template, lang, brief.product) if engine != "transformers" else ""
        if engine == "transformers":
            inputs = cm.tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(cm.model.device)
            prompt_len = inputs["input_ids"].shape[1]
            watch = Watcher(cm.tokenizer, prompt_len, rows, template, lang, stop, out, start, start_text)
            work = _transformers_work(cm, inputs, watch, rows, max_new, ngram, seed, options, brief)
        else:
            prompt_len = cm.count_tokens(prompt) if engine == "llama.cpp" else 0
            watch = TextWatch(rows, template, lang, stop, out, start, start_text)
            messages = build_messages(brief, template, lang)

            def work():
                if engine == "llama.cpp":
                    return llama_decode(cm, prompt, rows, grammar, brief.avoid_words(), seed, options, max_new,
                                        watch, stop)
                return cm.decode(messages, start_text, rows, template, lang, options, seed, max_new, watch, stop)
        stats = Stats(prompt_tokens=prompt_len, seed=seed, engine=engine)

        def run():
            try:
                result = work()
                if getattr(result, "prompt_tokens", 0):
                    stats.prompt_tokens = result.prompt_tokens
                out.put(("end", None))
            except BaseException as err:  # reaches the consumer, which raises it
                out.put(("error", err))

        thread = threading.Thread(target=run, name="copy-generate", daemon=True)
        thread.start()
        try:
            # 5. stream
            texts = [start_text] * rows
            while True:
                items = [out.get()]
                while not out.empty():  # show only the newest step when the consumer is slower
                    items.append(out.get_nowait())
                steps = [value for kind, value in items if kind == "step"]
                if steps:
                    texts = steps[-1]
                last_kind, last_value = items[-1]
                if last_kind == "error":
                    raise last_value
                if last_kind == "end":
                    break
                stats.steps, stats.first_token_s = watch.steps, watch.first_token_s
                stats.seconds = time.perf_counter() - start
                yield Update([_display(x, template) for x in texts], stats=stats, notes=notes,
                             template=template, lang=lang)
            thread.join()
            stats.steps, stats.first_token_s = watch.steps, watch.first_token_s
            # 6. finish variants: parse, repair with the model what is still wrong, fit the limits
            variants = [finish(x, template, lang, loop) for x, loop in zip(watch.texts, watch.loops)]
            if not stop.is_set():
                yield Update([v.copy_text(template, lang) for v in variants], stats=stats, notes=notes,
                             template=template, lang=lang)
                _repair(cm, engine, variants, template, lang, brief, stop, seed)
            stats.seconds = time.perf_counter() - start
            for variant in variants:
                _check_variant(variant, template, lang, brief, lang_ui)
            yield Update([v.copy_text(template, lang) for v in variants], done=True, stopped=stop.is_set(),
                         variants=variants, notes=notes, stats=stats, template=template, lang=lang)
        finally:
            stop.set()  # the consumer went away (Stop, closed stream) or we are done: end the thread
            thread.join(timeout=60)
            if thread.is_alive():
                log.warning("copy generation thread did not end within 60 s of Stop")


def _where(cm, engine: str) -> str:
    if engine == "llama.cpp":
        return f"{getattr(cm, 'dtype', '') or 'GGUF'}, {cm.threads} threads, CPU"
    if engine == "transformers":
        return f"{getattr(cm.model, 'dtype', '')}, {cm.model.device}".replace("torch.", "")
    return getattr(cm, "loaded_from", "") or "server"


def _fit_prompt(cm, engine: str, brief: Brief, template: Template, lang: str, rows: int, max_new: int,
                lang_ui: str) -> tuple[Brief, str, str, list[str]]:
    """(brief shortened to fit, prompt text, prefilled start of the answer, notes)."""
    if engine == "transformers":
        tok = cm.tokenizer

        def count_tokens(s: str) -> int:
            return len(tok(s, add_special_tokens=False)["input_ids"])

        def render(messages):
            return tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        room = cm.context_tokens - max_new  # every row has its own cache
    else:
        count_tokens, render = cm.count_tokens, cm.chat_prompt
        room = cm.context_tokens - rows * max_new  # llama.cpp: the rows share one cache of n_ctx cells
    overhead = count_tokens(render(build_messages(Brief(product="x"), template, lang)))
    budget = min(int(raw("AIPM_COPY_MAX_BRIEF_TOKENS")), room - overhead - 8)
    if budget < 16:
        raise UserError(t("copy.error.context", lang_ui, context=cm.context_tokens, max_new=max_new))
    brief, notes = fit_brief(brief, lang, count_tokens, budget, lang_ui)
    start_text = prefill(template, lang) if engine != "openai" else ""
    return brief, render(build_messages(brief, template, lang)) + start_text, start_text, notes


def _transformers_work(cm, inputs, watch, rows, max_new, ngram, seed, options, brief):
    import torch

    from products.copy.engines import bad_words_ids

    eos = _stop_token_ids(cm)
    tok = cm.tokenizer
    penalty = options.repetition_penalty
    kwargs = dict(
        max_new_tokens=max_new, num_return_sequences=rows, stopping_criteria=[watch],
        repetition_penalty=penalty if penalty and penalty != 1 else None,
        no_repeat_ngram_size=ngram if ngram > 0 else None,
        bad_words_ids=bad_words_ids(tok, brief.avoid_words()),
        eos_token_id=eos or None,
        pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else (eos[0] if eos else 0),
    )
    if options.temperature > 0:
        kwargs.update(do_sample=True, temperature=float(options.temperature), top_p=float(options.top_p),
                      top_k=int(options.top_k))
    else:
        kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)

    def work():
        torch.manual_seed(seed)
        with torch.inference_mode():
            cm.model.generate(**inputs, **kwargs)
    return work


def _repair(cm, engine, variants, template, lang, brief, stop, seed) -> None:
    """Missing fields, over-long lines, a missing name, words to avoid: rewritten by the model."""
    if not int(raw("AIPM_COPY_REPAIR")):
        return
    if engine == "llama.cpp":
        def complete(requests, n):
            return llama_complete(cm, requests, n, stop, seed)
    elif engine == "transformers":
        def complete(requests, n):
            return transformers_complete(cm, requests, n, stop, seed)
    else:
        def complete(requests, n):
            return cm.complete(requests, n, stop, seed)
    for _ in range(2):  # a second round for what fitting the total limit took away (a name, a field)
        if not repair.apply(variants, template, lang, brief, complete):
            break
        for variant in variants:
            variant.notes = [n for n in variant.notes if not n.startswith("total ")] + fit_total(variant.lines, template)


def _check_variant(variant, template, lang, brief, lang_ui) -> None:
    if variant.loop:
        variant.notes.append(t("copy.note.loop", lang_ui, reason=variant.loop))
    text = variant.copy_text(template, lang)
    hits = structure.avoid_hits(text, brief)
    if hits:
        variant.notes.append(t("copy.note.avoid", lang_ui, words=", ".join(hits)))
    if lang == "zh" and variant.lines and tx.chinese_ratio(text) < 0.5:
        variant.notes.append(t("copy.note.not_chinese", lang_ui))


def run_to_end(*args, **kwargs) -> Update:
    """The final Update of `generate` (for tests, scripts and the API)."""
    last = None
    for last in generate(*args, **kwargs):
        pass
    return last
