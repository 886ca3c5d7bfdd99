"""Marketing copy, without Gradio: check a brief, build the prompt, stream N variants, clean and
enforce each channel's limits.

`generate` is a generator of `Update`s and reads as its stages: 1. check the request, 2. resolve
the decoding values (Options + CopySettings, once), 3. fit the prompt to the model, 4. start
decoding, 5. stream, 6. finish the variants. It holds the model's registry lease while it streams;
the engine decodes in a thread, and a watcher (`TextWatch`, transformers' `Watcher`) sees every new
token of every variant: it publishes the text, stops a variant that loops or has filled its
template, and stops them all when the `stop` event is set (Stop button, or the consumer closing the
generator), so the thread ends within about one token and the lease is released. Stages 1 to 5
leave their arguments as they were and return new values; stage 6 makes the variants and then
repairs and annotates those same variants in place (never the caller's brief or options).
Every engine is driven the same way (products/copy/engines.py): one `DecodeRequest`, the
engine's `watch`, `decode` and, for the repairs, `complete`.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable

from shared.i18n import t
from shared import streams
from shared.models import registry as default_registry
from shared.seeds import parse_seed, random_seed
from shared.ui import UserError

from products.copy import models, strings  # noqa: F401  (strings registers the messages)
from products.copy import repair, structure
from products.copy import text as tx
from products.copy.engines import DecodeRequest, completer
from products.copy.options import Decoding, Options
from products.copy.prompts import brief_block, build_messages, prefill
from products.copy.settings import CopySettings
from products.copy.templates import TEMPLATES, Brief, Template, language_code
from products.copy.variants import Variant, finish, refit_total

log = logging.getLogger(__name__)

MAX_VARIANTS = 5
MAX_FIELD_CHARS = 20_000  # a brief field longer than this is cut before it is even tokenized


@dataclass
class Stats:
    prompt_tokens: int = 0
    steps: int = 0  # decoding steps (tokens per variant)
    first_token_s: float | None = None  # from the start of `generate` to the first new token
    seconds: float = 0.0  # in all, repairs included
    seed: int = 0
    engine: str = ""  # llama.cpp, transformers or openai
    decode_s: float = 0.0  # from the start to the end of decoding (0 while it runs: `seconds` so far)
    repair_s: float = 0.0  # the repairs after decoding

    @property
    def decode_tok_s(self) -> float:
        """Tokens per second per variant after the first token, decoding only (repairs are not decoding
        the variants: they have their own time)."""
        end = self.decode_s or self.seconds
        if self.first_token_s is None or self.steps < 2 or end <= self.first_token_s:
            return 0.0
        return (self.steps - 1) / (end - self.first_token_s)


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


# ---- 1. check ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Checked:
    """A request that passed `check`: cleaned copies of the brief and options, the template, the
    language written in, and notes on what was adjusted."""
    brief: Brief
    options: Options
    template: Template
    lang: str
    notes: tuple[str, ...] = ()


def check(brief: Brief, template_key: str, language: str, options: Options, lang_ui: str = "en",
          config: CopySettings | None = None) -> Checked:
    """Validate a request (UserError with a clear message); the caller's brief and options are left as
    they were: trimmed fields and one greedy variant are in the returned copies."""
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
    brief = replace(brief, **{name: clean_field(getattr(brief, name)) for name in Brief.TRIMMABLE + ("tone",)})
    if brief.is_empty():
        raise UserError(t("copy.error.empty", lang_ui))
    if not 1 <= int(options.variants) <= MAX_VARIANTS:
        raise UserError(t("copy.error.variants", lang_ui, most=MAX_VARIANTS))
    if not 0 <= options.temperature <= 2 or not 0 < options.top_p <= 1:
        raise UserError(t("copy.error.sampling", lang_ui))
    most = max_new_tokens_limit(config)
    if options.max_new_tokens < 0 or options.max_new_tokens > most:
        raise UserError(t("copy.error.max_tokens", lang_ui, most=most))
    if options.temperature == 0 and options.variants > 1:
        notes.append(t("copy.note.greedy", lang_ui))
        options = replace(options, variants=1)
    return Checked(brief, options, template, lang, tuple(notes))


def clean_field(value) -> str:
    """A brief field as the prompt takes it: text, Windows line ends made plain, stripped, at most
    MAX_FIELD_CHARS."""
    return str(value or "").replace("\r\n", "\n").strip()[:MAX_FIELD_CHARS]


def max_new_tokens_limit(config: CopySettings | None = None) -> int:
    return (config or CopySettings.current()).max_new_tokens  # at least 16 (settings.py)


def check_model(model: str | None, lang_ui: str = "en") -> str:
    """The model choice, the configured default when none; UserError for an unknown one."""
    model = model or models.configured_models()[0]
    if model not in models.MODELS:
        raise UserError(t("copy.error.model", lang_ui, name=model, known=", ".join(models.configured_models())))
    return model


# ---- 2. resolve decoding ------------------------------------------------------------------------
def resolve_decoding(options: Options, template: Template, config: CopySettings,
                     seed_source: Callable[[], int] = random_seed, lang_ui: str = "en") -> Decoding:
    """Options' `0`/`None`/`-1` "use the default" values made concrete: the template's length, the
    configured penalty and n-gram size, a fresh seed. Any other seed is read by shared/seeds.py
    (UserError for one that cannot be a seed, such as 1e30)."""
    seed = seed_source() if options.seed == -1 else parse_seed(options.seed, lang_ui)
    return Decoding(
        rows=int(options.variants),
        max_new_tokens=int(options.max_new_tokens) or template.max_new_tokens,
        temperature=float(options.temperature),
        top_p=float(options.top_p),
        top_k=int(options.top_k),
        repetition_penalty=float(config.repetition_penalty if options.repetition_penalty is None
                                 else options.repetition_penalty),
        no_repeat_ngram=int(config.no_repeat_ngram if options.no_repeat_ngram_size is None
                            else options.no_repeat_ngram_size),
        seed=seed,
    )


# ---- 3. fit the prompt --------------------------------------------------------------------------
@dataclass(frozen=True)
class Prompt:
    brief: Brief  # shortened to fit the model's context
    text: str  # the rendered prompt, ending with the prefilled start of the answer
    start_text: str  # that prefilled start, part of every variant's text
    notes: tuple[str, ...] = ()
    tokens: int = 0  # tokens of `text` (0 for a server: it counts them)


def fit_brief(brief: Brief, lang: str, count_tokens, budget: int, lang_ui: str = "en") -> tuple[Brief, list[str]]:
    """A copy of the brief with the longest free-text fields shortened (at word boundaries) until it
    fits `budget` tokens, and a note when it was shortened."""
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
        brief = replace(brief, **{name: tx.trim(value, max(0, keep), "chars")})
    after = count_tokens(brief_block(brief, lang))
    if after > budget:
        raise UserError(t("copy.error.too_long", lang_ui, budget=budget))
    return brief, [t("copy.note.trimmed_brief", lang_ui, before=before, after=after, budget=budget)]


def fit_prompt(cm, engine: str, brief: Brief, template: Template, lang: str, rows: int, max_new: int,
               max_brief_tokens: int, lang_ui: str = "en") -> Prompt:
    """The prompt for this model: the brief shortened to what its context leaves after the answer."""
    count_tokens, render = cm.count_tokens, cm.chat_prompt
    if engine == "transformers":
        room = cm.context_tokens - max_new  # every row has its own cache
    else:
        room = cm.context_tokens - rows * max_new  # llama.cpp: the rows share one cache of n_ctx cells
    overhead = count_tokens(render(build_messages(Brief(product="x"), template, lang)))
    budget = min(max_brief_tokens, room - overhead - 8)
    if budget < 16:
        raise UserError(t("copy.error.context", lang_ui, context=cm.context_tokens, max_new=max_new))
    brief, notes = fit_brief(brief, lang, count_tokens, budget, lang_ui)
    start_text = prefill(template, lang) if engine != "openai" else ""
    text = render(build_messages(brief, template, lang)) + start_text
    return Prompt(brief, text, start_text, tuple(notes), count_tokens(text) if engine != "openai" else 0)


# ---- 4. start decoding --------------------------------------------------------------------------
def decode_request(prompt: Prompt, template: Template, lang: str, decoding: Decoding) -> DecodeRequest:
    """What every engine decodes: the fitted prompt (as messages and as text) and the sampling."""
    return DecodeRequest(messages=build_messages(prompt.brief, template, lang), prompt=prompt.text,
                         prefix=prompt.start_text, prompt_tokens=prompt.tokens, template=template, lang=lang,
                         product=prompt.brief.product, banned_words=tuple(prompt.brief.avoid_words()),
                         sampling=decoding)


def forward(work: Callable, stats: "Stats", out: queue.Queue) -> threading.Thread:
    """Run the engine's decoding call in a thread; its end (or its error, which the consumer raises)
    is the last item it puts on `out`."""
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
    return thread


def newest(out: queue.Queue) -> tuple[list[str] | None, str, object]:
    """Wait for the next item, take every one already waiting: (the newest step's texts or None, the
    last item's kind, its value). Only the newest step is shown when the consumer is slower."""
    items = [out.get()]
    while not out.empty():
        items.append(out.get_nowait())
    steps = [value for kind, value in items if kind == "step"]
    kind, value = items[-1]
    return (steps[-1] if steps else None), kind, value


# ---- the stages in order ------------------------------------------------------------------------
def generate(brief: Brief, template_key: str, language: str, options: Options | None = None,
             model: str | None = None, *, reg=None, stop: threading.Event | None = None,
             progress=None, lang_ui: str = "en", config: CopySettings | None = None):
    """Stream `Update`s for N variants; the last one has done=True and the finished variants.
    `config` defaults to the current settings."""
    config = config or CopySettings.current()
    # 1. check
    checked = check(brief, template_key, language, options or Options(), lang_ui, config)
    template, lang, notes = checked.template, checked.lang, list(checked.notes)
    model = check_model(model, lang_ui)
    reg = reg or default_registry
    spec = models.ensure_registered(model, reg)
    stop = stop or threading.Event()
    # 2. resolve decoding
    decoding = resolve_decoding(checked.options, template, config, lang_ui=lang_ui)
    rows = decoding.rows

    with reg.use(spec, progress) as cm:
        engine = getattr(cm, "engine", "transformers")
        # 3. fit the prompt
        prompt = fit_prompt(cm, engine, checked.brief, template, lang, rows, decoding.max_new_tokens,
                            config.max_brief_tokens, lang_ui)
        notes += prompt.notes
        notes.append(t("copy.note.engine", lang_ui, engine=engine, where=_where(cm, engine)))  # which path served it
        # 4. start decoding
        request = decode_request(prompt, template, lang, decoding)
        out: queue.Queue = queue.Queue()
        start = time.perf_counter()
        watch = cm.watch(request, stop, out, start)
        stats = Stats(prompt_tokens=request.prompt_tokens, seed=decoding.seed, engine=engine)
        thread = forward(lambda: cm.decode(request, watch, stop), stats, out)
        try:
            # 5. stream
            texts = [prompt.start_text] * rows
            while True:
                step, kind, value = newest(out)
                texts = step or texts
                if kind == "error":
                    raise value
                if kind == "end":
                    break
                stats.steps, stats.first_token_s = watch.steps, watch.first_token_s
                stats.seconds = time.perf_counter() - start
                yield Update([_display(x, template) for x in texts], stats=stats, notes=notes,
                             template=template, lang=lang)
            thread.join()
            stats.steps, stats.first_token_s = watch.steps, watch.first_token_s
            stats.decode_s = stats.seconds = time.perf_counter() - start
            # 6. finish variants: parse, repair with the model what is still wrong, fit the limits
            variants = [finish(x, template, lang, loop, lang_ui, ran_out)
                        for x, loop, ran_out in zip(watch.texts, watch.loops, watch.ran_out)]
            if not stop.is_set():
                yield Update([v.copy_text(template, lang) for v in variants], stats=stats, notes=notes,
                             template=template, lang=lang)
                if config.repair:
                    repair_start = time.perf_counter()
                    _repair(variants, template, lang, prompt.brief, completer(cm, stop, decoding.seed), lang_ui)
                    stats.repair_s = time.perf_counter() - repair_start
            stats.seconds = time.perf_counter() - start
            for variant in variants:
                repair.close_sentences(variant, template, lang)
                _check_variant(variant, template, lang, prompt.brief, lang_ui)
            yield Update([v.copy_text(template, lang) for v in variants], done=True, stopped=stop.is_set(),
                         variants=variants, notes=notes, stats=stats, template=template, lang=lang)
        finally:
            stop.set()  # the consumer went away (Stop, closed stream) or we are done: end the thread
            thread.join(timeout=60)
            if thread.is_alive():
                log.warning("copy generation thread did not end within 60 s of Stop")


def _display(text: str, template: Template) -> str:
    return tx.clean(text, template.max_hashtags)


def _where(cm, engine: str) -> str:
    if engine == "llama.cpp":
        return f"{getattr(cm, 'dtype', '') or 'GGUF'}, {cm.threads} threads, CPU"
    if engine == "transformers":
        return f"{getattr(cm.model, 'dtype', '')}, {cm.model.device}".replace("torch.", "")
    return getattr(cm, "loaded_from", "") or "server"


def _repair(variants, template, lang, brief, complete, lang_ui: str = "en") -> None:
    """Missing fields, over-long lines, a missing name, words to avoid: rewritten by the model."""
    for _ in range(2):  # a second round for what fitting the total limit took away (a name, a field)
        if not repair.apply(variants, template, lang, brief, complete, lang_ui):
            break
        for variant in variants:
            refit_total(variant, template, lang_ui)


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
    return streams.run_to_end(generate(*args, **kwargs))
