"""products/copy/engines.py without a model: every engine takes one DecodeRequest the same way, and the
repairs reach each engine's `complete` the same way."""
import inspect
import queue
import threading
import time

from products.copy import engines, structure
from products.copy.engines import CopyEngine, DecodeRequest, TextWatch
from products.copy.llama_batch import Result
from products.copy.llama_engine import LlamaCopyModel
from products.copy.openai_engine import OpenAICopyModel
from products.copy.options import Decoding
from products.copy.templates import TEMPLATES
from products.copy.transformers_engine import TransformersCopyModel

ENGINES = (TransformersCopyModel, LlamaCopyModel, OpenAICopyModel)


def request(rows: int = 2, seed: int = 40, prefix: str = "") -> DecodeRequest:
    sampling = Decoding(rows=rows, max_new_tokens=24, temperature=0.6, top_p=0.8, top_k=30, repetition_penalty=1.2,
                        no_repeat_ngram=0, seed=seed)
    messages = [{"role": "system", "content": "You write copy."}, {"role": "user", "content": "Product: BrewMate\n..."}]
    return DecodeRequest(messages=messages, prompt="<prompt>" + prefix, prefix=prefix, prompt_tokens=3,
                         template=TEMPLATES["tagline"], lang="en", product="BrewMate", banned_words=("cheap",),
                         sampling=sampling)


def watch_for(req: DecodeRequest, stop: threading.Event) -> TextWatch:
    return TextWatch(req.rows, req.template, req.lang, stop, queue.Queue(), time.perf_counter(), req.prefix)


def test_every_engine_answers_the_same_calls():
    for engine in ENGINES:
        assert issubclass(engine, CopyEngine)
        for name in ("decode", "complete", "count_tokens", "chat_prompt"):
            assert getattr(engine, name) is not getattr(CopyEngine, name), (engine, name)
        assert list(inspect.signature(engine.decode).parameters) == ["self", "request", "watch", "stop"]
        assert list(inspect.signature(engine.complete).parameters)[:5] == ["self", "requests", "n", "stop", "seed"]


def test_completer_hands_the_requests_to_the_engines_complete():
    calls = []

    class Fake(CopyEngine):
        def __init__(self, name):
            self.engine = name

        def complete(self, requests, n, stop, seed=0):
            calls.append((self.engine, requests, n, seed))
            return [[self.engine]]

    stop, requests = threading.Event(), [([{"role": "user", "content": "x"}], "", [])]
    assert engines.completer(Fake("openai"), stop, 5)(requests, 2) == [["openai"]]
    assert engines.completer(Fake("llama.cpp"), stop, 6)(requests, 2) == [["llama.cpp"]]
    assert engines.completer(Fake("transformers"), stop, 7)(requests, 1) == [["transformers"]]
    assert calls == [("openai", requests, 2, 5), ("llama.cpp", requests, 2, 6), ("transformers", requests, 1, 7)]


def test_llama_decodes_the_request_as_one_row_per_variant():
    engine = object.__new__(LlamaCopyModel)  # no model loaded: decode_rows is recorded instead
    seen = {}
    engine.word_tokens = lambda words: (17,) if words == ["cheap"] else ()

    def decode_rows(rows, sampling, max_new, stop, on_step=None):
        seen.update(rows=rows, sampling=sampling, max_new=max_new, on_step=on_step)
        return Result(["a", "b"], prompt_tokens=3)

    engine.decode_rows = decode_rows
    req, stop = request(prefix="Tagline: "), threading.Event()
    watch = watch_for(req, stop)
    assert engine.decode(req, watch, stop).prompt_tokens == 3
    grammar = structure.grammar(req.template, "en", "BrewMate")
    assert [(r.prompt, r.grammar, r.seed, r.banned) for r in seen["rows"]] == \
        [("<prompt>Tagline: ", grammar, 40, (17,)), ("<prompt>Tagline: ", grammar, 41, (17,))]
    sampling = seen["sampling"]
    assert (sampling.temperature, sampling.top_p, sampling.top_k, sampling.repetition_penalty) == (0.6, 0.8, 30, 1.2)
    assert seen["max_new"] == 24 and seen["on_step"] == watch.see


def test_the_server_streams_each_variant_with_its_own_seed(monkeypatch):
    engine = OpenAICopyModel("http://127.0.0.1:9/v1", "qwen", "copy-openai", structure_mode="none")
    bodies = []

    def stream(client, body, on_text, stop, done, ran_out=None):
        bodies.append(body)
        on_text("Brew better")
        return "Brew better"

    monkeypatch.setattr(engine, "_stream", stream)
    req, stop = request(), threading.Event()
    watch = watch_for(req, stop)
    engine.decode(req, watch, stop)
    assert sorted(b["seed"] for b in bodies) == [40, 41]
    assert {(b["temperature"], b["top_p"], b["max_tokens"]) for b in bodies} == {(0.6, 0.8, 24)}
    assert all(b["messages"] == req.messages for b in bodies)
    assert watch.texts == ["Brew better", "Brew better"]
