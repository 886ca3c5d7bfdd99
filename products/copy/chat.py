"""Plain chat on the copy models, for /v1/chat/completions: messages in, text deltas out, streamed as
they are decoded, on the same registry models (and leases) the Copy tab uses. No template, no
structure: what an OpenAI client expects.

    stream = chat("qwen-0.5b", [{"role": "user", "content": "Hi"}], ChatOptions(max_tokens=32), stop)
    for delta in stream.deltas: ...          # stream.completion_tokens, .finish_reason after the last

Each engine writes the whole text so far to `on_text(text) -> halt?` from a decoding thread; this
module turns those snapshots into deltas, cuts at the caller's stop strings and never splits one.
"""
from __future__ import annotations

import queue
import threading

from shared.api.capabilities import ChatOptions, ChatStream
from shared.i18n import t
from shared.models import registry as default_registry
from shared.seeds import parse_seed
from shared.ui import UserError

from products.copy import models, strings  # noqa: F401  (strings registers the messages)

DEFAULT_MAX_TOKENS = 512
_END = object()


def chat(model: str, messages: list[dict], options: ChatOptions, stop: threading.Event, reg=None) -> ChatStream:
    """A ChatStream whose deltas hold the model's lease while they are read (closing them gives it back)."""
    if model not in models.configured_models():
        raise UserError(t("copy.error.model", "en", name=model, known=", ".join(models.configured_models())))
    stream = ChatStream(deltas=iter(()))
    stream.deltas = _deltas(models.ensure_registered(model, reg or default_registry), messages, options, stop,
                            stream, reg or default_registry)
    return stream


def _deltas(spec: str, messages, options: ChatOptions, stop: threading.Event, stream: ChatStream, reg):
    seed = parse_seed(options.seed if options.seed is not None else -1)
    with reg.use(spec) as engine:
        prompt_tokens = engine.count_tokens(engine.chat_prompt(messages))
        room = int(getattr(engine, "context_tokens", 4096)) - prompt_tokens - 1
        if room < 1:
            raise UserError(f"The messages are {prompt_tokens} tokens; the model's context holds "
                            f"{int(getattr(engine, 'context_tokens', 4096))}.")
        max_new = min(options.max_tokens or DEFAULT_MAX_TOKENS, room)
        cut = StopCut(options.stop)
        snapshots: queue.Queue = queue.Queue()
        outcome: dict = {}
        halt = threading.Event()  # ends this decode; the caller's `stop` is only read, never set here

        def on_text(text: str) -> bool:
            snapshots.put(text)
            if cut.hit(text) or stop.is_set():
                halt.set()
            return halt.is_set()

        def run():
            try:
                outcome["result"] = RUNNERS[engine.engine](engine, messages, options, seed, max_new, halt, on_text)
            except BaseException as err:  # raised in the reader below
                outcome["error"] = err
            finally:
                snapshots.put(_END)

        worker = threading.Thread(target=run, name="copy-chat", daemon=True)
        worker.start()
        sent = last = ""
        try:
            while (text := snapshots.get()) is not _END:
                last = text
                visible = cut.visible(text)
                if len(visible) > len(sent) and visible.startswith(sent):
                    yield visible[len(sent):]
                    sent = visible
        finally:
            halt.set()  # a reader that stops early (a dropped stream) ends the decode
            worker.join()
        if "error" in outcome:
            raise outcome["error"]
        final = cut.final(last)  # the held-back tail, now that no stop string can complete
        if len(final) > len(sent) and final.startswith(sent):
            yield final[len(sent):]
        tokens_in, tokens_out, ended = outcome["result"]
        stream.prompt_tokens = tokens_in or prompt_tokens
        stream.completion_tokens = tokens_out
        stream.finish_reason = "stop" if ended or cut.stopped else "length"


class StopCut:
    """The caller's stop strings: text is shown only up to the first one, and the tail that could
    still become one is held back until the next token says otherwise."""

    def __init__(self, words: list[str]):
        self.words = [w for w in words if w]
        self.stopped = False

    def hit(self, text: str) -> bool:
        self.stopped = self.stopped or any(w in text for w in self.words)
        return self.stopped

    def visible(self, text: str) -> str:
        cut = min((text.index(w) for w in self.words if w in text), default=None)
        if cut is not None:
            return text[:cut]
        hold = max((len(w) - 1 for w in self.words), default=0)
        for size in range(hold, 0, -1):  # the longest tail that starts a stop string
            if any(w.startswith(text[-size:]) for w in self.words):
                return text[:-size]
        return text

    def final(self, text: str) -> str:
        cut = min((text.index(w) for w in self.words if w in text), default=None)
        return text if cut is None else text[:cut]


# ---- one runner per engine: (prompt tokens, completion tokens, ended by the model) ---------------
def run_llama(engine, messages, options: ChatOptions, seed: int, max_new: int, stop, on_text):
    from products.copy.llama_batch import Row, Sampling

    sampling = Sampling(temperature=float(options.temperature), top_p=float(options.top_p), top_k=40,
                        repetition_penalty=float(options.repetition_penalty))
    result = engine.decode_rows([Row(engine.chat_prompt(messages), options.grammar, seed)], sampling, max_new, stop,
                                on_step=lambda texts: [on_text(texts[0])])
    on_text(result.texts[0])
    return result.prompt_tokens, result.steps, bool(result.finished and result.finished[0])


def run_transformers(engine, messages, options: ChatOptions, seed: int, max_new: int, stop, on_text):
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    inputs = engine._inputs(engine.chat_prompt(messages))
    prompt_len = int(inputs["input_ids"].shape[1])
    tokenizer = engine.tokenizer

    class Watch(StoppingCriteria):
        def __call__(self, input_ids, scores=None, **kwargs):
            text = tokenizer.decode(input_ids[0, prompt_len:], skip_special_tokens=True)
            halt = on_text(text) or stop.is_set()
            return torch.full((input_ids.shape[0],), halt, dtype=torch.bool, device=input_ids.device)

    torch.manual_seed(seed)
    sample = options.temperature > 0
    with torch.inference_mode():
        out = engine.model.generate(**inputs, max_new_tokens=max_new, do_sample=sample,
                                    temperature=options.temperature if sample else None,
                                    top_p=options.top_p if sample else None,
                                    stopping_criteria=StoppingCriteriaList([Watch()]),
                                    repetition_penalty=options.repetition_penalty if options.repetition_penalty != 1
                                    else None,
                                    eos_token_id=engine.stop_token_ids() or None,
                                    pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
    new = out[0, prompt_len:]
    on_text(tokenizer.decode(new, skip_special_tokens=True))
    ended = bool(len(new)) and int(new[-1]) in set(engine.stop_token_ids())
    return prompt_len, int(len(new)), ended


def run_openai(engine, messages, options: ChatOptions, seed: int, max_new: int, stop, on_text):
    import json

    import httpx

    body = {"model": engine.model_name, "messages": messages, "max_tokens": max_new, "stream": True,
            "temperature": options.temperature, "top_p": options.top_p, "seed": seed,
            "stream_options": {"include_usage": True}}
    if options.grammar:
        body["grammar"] = options.grammar  # llama.cpp's server honours it; others ignore it
    text, usage, finish = "", {}, None
    with httpx.Client(timeout=engine.timeout) as client, \
            client.stream("POST", f"{engine.url}/chat/completions", json=body, headers=engine._headers()) as response:
        if response.status_code >= 400:
            response.read()
            raise RuntimeError(f"the server answered {response.status_code}: {response.text[:300]}")
        for line in response.iter_lines():
            if not line.startswith("data:") or line.strip() == "data: [DONE]":
                continue
            chunk = json.loads(line[5:])
            usage = chunk.get("usage") or usage
            for choice in chunk.get("choices") or ():
                text += (choice.get("delta") or {}).get("content") or ""
                finish = choice.get("finish_reason") or finish
            if on_text(text):
                break
    return usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0), finish == "stop"


RUNNERS = {"llama.cpp": run_llama, "transformers": run_transformers, "openai": run_openai}
