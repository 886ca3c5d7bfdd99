"""Any OpenAI-compatible server as the copy backend (vLLM, TGI, llama.cpp's server, Ollama, OpenAI).

Plain HTTP (httpx, which Gradio already brings) against `POST {AIPM_COPY_OPENAI_URL}/chat/completions`
with `stream: true`: one stream per variant, read together; Stop (or a variant that is done)
closes its stream, which ends the generation on the server. The structure is sent the way the
server takes it (AIPM_COPY_OPENAI_STRUCTURE): a GBNF `grammar` field (llama.cpp and
llama-cpp-python servers), a JSON schema as `response_format` (vLLM, TGI, Ollama, OpenAI), or none
(the same parse and repair as every engine).
"""
from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from products.copy import structure
from products.copy.engines import CopyEngine, DecodeRequest, TextWatch
from products.copy.settings import CopySettings
from products.copy.templates import Template

CONTEXT_TOKENS = 32768  # servers hold their own context; this only bounds the brief
REPAIR_SAMPLING = (0.7, 0.9)  # temperature, top_p of the repairs' candidates


class OpenAICopyModel(CopyEngine):
    engine = "openai"
    device = "remote"
    dtype = ""

    def __init__(self, url: str, model: str, name: str, key: str = "", structure_mode: str = "grammar",
                 timeout: float = 120.0):
        self.url = url.rstrip("/")
        self.model_name = model
        self.name = name
        self.key = key
        self.structure = structure_mode
        self.timeout = timeout
        self.context_tokens = CONTEXT_TOKENS
        self.loaded_from = self.url

    @classmethod
    def connect(cls, url: str, name: str) -> "OpenAICopyModel":
        """Check the server answers and pick its model (the configured one, else the first listed)."""
        import httpx

        config = CopySettings.current()
        key, mode = config.openai_key, config.openai_structure
        if mode not in ("grammar", "json_schema", "none"):
            raise ValueError(f"AIPM_COPY_OPENAI_STRUCTURE={mode!r}; use grammar, json_schema or none")
        model = config.openai_model
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        try:
            listed = httpx.get(f"{url.rstrip('/')}/models", headers=headers, timeout=10).json().get("data", [])
        except (httpx.HTTPError, ValueError) as err:
            raise ValueError(f"the server at {url} did not answer /models: {err}") from err
        ids = [m.get("id", "") for m in listed]
        if not model:
            if not ids:
                raise ValueError(f"the server at {url} lists no models; set AIPM_COPY_OPENAI_MODEL")
            model = ids[0]
        return cls(url, model, name, key, mode, config.openai_timeout)

    def memory_bytes(self) -> int:
        return 0  # the weights live on the server

    @staticmethod
    def count_tokens(text: str) -> int:
        return len(text.encode("utf-8")) // 3 + 1  # an upper-side estimate; the server has the tokenizer

    @staticmethod
    def chat_prompt(messages: list[dict]) -> str:
        return "\n\n".join(m["content"] for m in messages)  # for counting only: the server applies its template

    # ---- requests ---------------------------------------------------------------------------------
    def _body(self, messages, sampling: tuple[float, float], seed: int, max_new: int, grammar: str = "",
              schema: dict | None = None, stream: bool = True) -> dict:
        temperature, top_p = sampling
        body = {"model": self.model_name, "messages": messages, "max_tokens": int(max_new), "stream": stream,
                "temperature": float(temperature), "top_p": float(top_p), "seed": int(seed)}
        if grammar and self.structure == "grammar":
            body["grammar"] = grammar
        if schema is not None and self.structure == "json_schema":
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": "copy", "schema": schema,
                                                                              "strict": True}}
        return body

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {self.key}"} if self.key else {}

    def _stream(self, client, body: dict, on_text, stop: threading.Event, done: threading.Event,
                ran_out: threading.Event | None = None) -> str:
        import httpx

        text = ""
        with client.stream("POST", f"{self.url}/chat/completions", json=body, headers=self._headers()) as response:
            if response.status_code >= 400:
                response.read()
                raise RuntimeError(f"the server answered {response.status_code}: {response.text[:300]}")
            try:
                for line in response.iter_lines():
                    if stop.is_set() or done.is_set():
                        break  # leaving the block closes the stream: the server stops generating
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    choice = (json.loads(data).get("choices") or [{}])[0]
                    if choice.get("finish_reason") == "length" and ran_out is not None:
                        ran_out.set()  # the server's token budget ended it
                    piece = (choice.get("delta") or {}).get("content") or ""
                    if piece:
                        text += piece
                        on_text(text)
            except httpx.RemoteProtocolError:
                if not (stop.is_set() or done.is_set()):
                    raise
        return text

    def decode(self, request: DecodeRequest, watch: TextWatch, stop: threading.Event) -> None:
        """Stream the request's variants at once (a thread per stream); `watch` sees the texts after each piece."""
        import httpx

        messages, prefix, template, lang = request.messages, request.prefix, request.template, request.lang
        rows, sampling = request.rows, request.sampling
        mode = self.structure
        if mode == "json_schema":
            messages = _ask_json(messages, template, lang)
        grammar = structure.grammar(template, lang, _product(messages), prefilled=False) if mode == "grammar" else ""
        schema = structure.json_schema(template) if mode == "json_schema" else None
        texts = [""] * rows
        pieces = [0] * rows
        done = [threading.Event() for _ in range(rows)]
        lock = threading.Lock()
        errors: list[BaseException] = []

        def shown(raw_text: str) -> str:
            return structure.partial_json_text(raw_text) if mode == "json_schema" else raw_text

        def on_text(row: int, raw_text: str) -> None:
            with lock:
                texts[row] = shown(raw_text)
                pieces[row] += 1
                flags = watch.see(list(texts))
                watch.steps = max(pieces)  # steps per variant, as the other engines count them
                for i, flag in enumerate(flags):
                    if flag:
                        done[i].set()

        def one(row: int, client) -> None:
            try:
                body = self._body(messages, (sampling.temperature, sampling.top_p), sampling.seed + row,
                                  sampling.max_new_tokens, grammar, schema)
                cut = threading.Event()
                final = self._stream(client, body, lambda x: on_text(row, x), stop, done[row], cut)
                watch.ran_out[row] = cut.is_set() and not stop.is_set()
                if mode == "json_schema":
                    try:
                        final = structure.from_json(json.loads(final), template, lang)
                    except ValueError:
                        final = shown(final)
                with lock:
                    texts[row] = final
                    watch.texts[row] = prefix + final
            except BaseException as err:
                errors.append(err)

        with httpx.Client(timeout=self.timeout) as client:
            threads = [threading.Thread(target=one, args=(row, client), daemon=True) for row in range(rows)]
            for thread in threads:
                thread.start()
            for thread in threads:
                while thread.is_alive():
                    thread.join(timeout=0.1)
        if errors and not stop.is_set():
            raise errors[0]

    def complete(self, requests, n: int, stop: threading.Event, seed: int = 0, max_new: int = 120) -> list[list[str]]:
        """n candidates per request, non-streaming, a few requests at a time."""
        import httpx

        jobs = [(r, k, messages, grammar) for r, (messages, grammar, _) in enumerate(requests) for k in range(n)]
        out: list[list[str]] = [[] for _ in requests]
        with httpx.Client(timeout=self.timeout) as client:
            def ask(job):
                r, k, messages, grammar = job
                if stop.is_set():
                    return r, ""
                body = self._body(messages, REPAIR_SAMPLING, seed + 97 * r + k, max_new, grammar if self.structure == "grammar"
                                  else "", None, stream=False)
                response = client.post(f"{self.url}/chat/completions", json=body, headers=self._headers())
                response.raise_for_status()
                return r, response.json()["choices"][0]["message"]["content"] or ""

            with ThreadPoolExecutor(max_workers=5) as pool:
                for r, text in pool.map(ask, jobs):
                    out[r].append(text)
        return out


def _product(messages) -> str:
    """The product name from the brief block of the user message (first line, after its label)."""
    first = messages[-1]["content"].split("\n", 1)[0]
    for label in ("Product: ", "产品："):
        if first.startswith(label):
            return first[len(label):].strip()
    return ""


def _ask_json(messages, template: Template, lang: str) -> list[dict]:
    keys = ", ".join(f'"{f.key}": [{f.required}-{f.lines} strings]' for f in template.fields)
    note = f"\n\n以 JSON 回答：{{{keys}}}" if lang == "zh" else f"\n\nAnswer in JSON: {{{keys}}}"
    return messages[:-1] + [{"role": "user", "content": messages[-1]["content"] + note}]


def wait_ready(url: str, timeout: float = 120.0) -> bool:
    """True once the server lists its models (for tests and scripts that start one)."""
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if httpx.get(f"{url.rstrip('/')}/models", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False
