"""The llama.cpp engine: GGUF chat models run straight from the file (no conversion, no bf16 cache).

Built on the llama-cpp-python binding's C API (`llama_cpp`), not its high-level `Llama` class,
because that class decodes one sequence at a time: here every variant is its own sequence in one
batch (one prompt evaluation shared by all, then one decode step per token for all of them).
Each row has its own sampler chain (repetition penalty, top-k, top-p, temperature, seed) and,
optionally, its own GBNF grammar. The grammar is applied the way llama.cpp's own `common_sampler`
does by default: sample without it, check the one token, and only when it is rejected re-sample
with the grammar over the whole vocabulary (checking 150k tokens every step would cost more than
the decode).

Prompt processing is the slow part on a small CPU (a 200-token prompt takes seconds), so the
longest prefix common to a call's prompts is evaluated once into a cache sequence and shared by
every row (`llama_memory_seq_cp`: the cells are shared, not copied), and it stays there for the
next call: the repairs and a Regenerate start from the same system prompt and brief.
"""
from __future__ import annotations

import ctypes
import os
import threading
import time
import numpy as np

from products.copy import speculative, structure
from products.copy.engines import CopyEngine, DecodeRequest, TextWatch
from products.copy.llama_batch import Result, Row, Sampling, common_prefix, shown_text

SETUP_STEP = "llama.cpp"  # its step in setup_steps.py (the tab's note while it runs)
REPAIR_SAMPLING = Sampling(temperature=0.7, top_p=0.9, top_k=40, repetition_penalty=1.05)

_backend_ready = threading.Lock()
_backend_done = False


def available() -> bool:
    try:
        import llama_cpp  # noqa: F401
        return True
    except Exception:  # not installed, or its shared library does not load on this machine
        return False


def _rss() -> int:
    try:
        import psutil

        return psutil.Process().memory_info().rss
    except Exception:
        return 0


class LlamaCopyModel(CopyEngine):
    """A GGUF chat model in llama.cpp with room for `seqs` parallel sequences of `n_ctx` tokens in all."""

    engine = "llama.cpp"
    device = "cpu"
    draft = None  # a speculative.Draft: a smaller model with the same tokenizer that guesses ahead
    last_acceptance = (0, 0)  # (guesses kept, guesses made) by the last speculative decode

    def __init__(self, path: str, name: str, n_ctx: int = 4096, threads: int = 2, seqs: int = 5):
        """`threads` 0: measured once per machine on this model (shared/threads.py)."""
        import llama_cpp as L

        global _backend_done
        with _backend_ready:
            if not _backend_done:
                from llama_cpp import _logger

                _logger.set_verbose(False)  # llama.cpp's load log is pages long; errors still show
                L.llama_backend_init()
                _backend_done = True
        self._L = L
        self.name = name
        self.loaded_from = path
        self._lock = threading.Lock()  # one decode at a time per context
        before = _rss()
        mparams = L.llama_model_default_params()
        if hasattr(L, "LLAMA_LOAD_MODE_NONE"):
            # Read, not mapped: llama.cpp repacks the weights for this CPU's kernels into memory of its
            # own, and a mapped file's pages stayed resident beside that copy (peak RSS 2.0 GB for the
            # 1.5B against 1.4 GB read; same speed: bench/bench_copy.py --skip ...).
            mparams.load_mode = L.LLAMA_LOAD_MODE_NONE
        self._model = L.llama_model_load_from_file(path.encode(), mparams)
        if not self._model:
            raise ValueError(f"llama.cpp could not load {path}")
        self._vocab = L.llama_model_get_vocab(self._model)
        self.n_vocab = L.llama_vocab_n_tokens(self._vocab)
        cparams = L.llama_context_default_params()
        cparams.n_ctx = n_ctx
        cparams.n_batch = 512
        cparams.n_ubatch = 512
        cparams.n_seq_max = seqs + 1  # the last sequence holds the cached prefix
        cparams.kv_unified = True  # the variants share the prompt's cells
        cparams.n_threads = cparams.n_threads_batch = threads or default_threads()
        self._ctx = L.llama_init_from_model(self._model, cparams)
        if not self._ctx:
            L.llama_model_free(self._model)
            raise ValueError(f"llama.cpp could not create a context of {n_ctx} tokens for {path}")
        self.seqs = seqs
        self._cache_seq = seqs
        self._cached: list[int] = []  # the tokens whose cells the cache sequence holds
        self.threads = threads or default_threads()
        self.context_tokens = L.llama_n_ctx(self._ctx)
        self._batch = L.llama_batch_init(512, 0, seqs + 1)
        meta = self._meta()
        self.chat_template = meta.get("tokenizer.chat_template", "")
        if not self.chat_template:
            self.close()
            raise ValueError(f"{path} has no chat template; use an instruction-tuned (chat) GGUF")
        self.dtype = meta.get("general.file_type_name", "") or self._desc().split(" ")[-1]
        self._decode([Row("<|im_start|>")], Sampling(temperature=0), 1, threading.Event())  # touch the weights
        if not threads:
            self.threads = self._measure_threads()
        # Real memory: what the process grew by (mmap pages touched, KV cache, compute buffers),
        # at least the weights' size.
        self._bytes = max(_rss() - before, int(L.llama_model_size(self._model)))

    def thread_probe(self, n: int) -> float:
        """Seconds to decode 8 tokens of a short prompt with n threads (the context keeps n threads)."""
        from shared import threads as th

        self._L.llama_set_n_threads(self._ctx, n, n)
        prompt = "<|im_start|>user\nWrite one line about coffee.<|im_end|>\n<|im_start|>assistant\n"
        return th.timed(lambda: self._decode([Row(prompt)], Sampling(temperature=0), 8, threading.Event()))

    def _measure_threads(self) -> int:
        """The thread count measured for this model file on this machine (once; cached)."""
        from shared import threads as th

        best = th.choose(f"llama.cpp {os.path.basename(self.loaded_from)}", self.thread_probe)
        self._L.llama_set_n_threads(self._ctx, best, best)
        return best

    # ---- what core and the registry ask of a model (products/copy/engines.py) ---------------------
    def memory_bytes(self) -> int:
        return self._bytes + (self.draft.memory_bytes if self.draft is not None else 0)

    def attach_draft(self, model, tokens: int) -> None:
        """Speculative decoding with `model` (a LlamaCopyModel) as the draft: it must tokenize as this
        model does, or its guesses would be other tokens."""
        probe = "Headline: BrewMate Pro – 20 recipes, quiet brew.\n标题：云朵枕，贴合颈椎。"
        if model.n_vocab != self.n_vocab or model.tokenize(probe) != self.tokenize(probe):
            raise ValueError(f"{model.loaded_from} does not share {self.loaded_from}'s tokenizer: it cannot draft")
        if model.seqs < self.seqs or model.context_tokens < self.context_tokens:
            raise ValueError("the draft model needs as many sequences and as much context as the model")
        self.draft = speculative.Draft(model, tokens)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def chat_prompt(self, messages: list[dict]) -> str:
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        return env.from_string(self.chat_template).render(messages=messages, add_generation_prompt=True,
                                                          bos_token="", eos_token="")

    def tokenize(self, text: str) -> list[int]:
        L = self._L
        data = text.encode("utf-8")
        size = len(data) + 16
        buf = (L.llama_token * size)()
        n = L.llama_tokenize(self._vocab, data, len(data), buf, size, False, True)
        if n < 0:
            size = -n
            buf = (L.llama_token * size)()
            n = L.llama_tokenize(self._vocab, data, len(data), buf, size, False, True)
        return list(buf[:n])

    def piece(self, token: int) -> bytes:
        buf = ctypes.create_string_buffer(64)
        n = self._L.llama_token_to_piece(self._vocab, token, buf, 64, 0, False)
        return buf.raw[:max(0, n)]

    def word_tokens(self, words: list[str]) -> tuple[int, ...]:
        """Single tokens that spell a word (any case, with or without a leading space): banned for avoid-words."""
        ids = set()
        for word in words:
            for form in {word, word.lower(), word.capitalize(), word.upper()}:
                for spelled in (form, " " + form):
                    tokens = self.tokenize(spelled)
                    if len(tokens) == 1:
                        ids.add(tokens[0])
        return tuple(sorted(ids))

    def close(self) -> None:
        L = self._L
        if self.draft is not None:
            self.draft.model.close()
            self.draft = None
        if getattr(self, "_batch", None) is not None:
            L.llama_batch_free(self._batch)
            self._batch = None
        if getattr(self, "_ctx", None):
            L.llama_free(self._ctx)
            self._ctx = None
        if getattr(self, "_model", None):
            L.llama_model_free(self._model)
            self._model = None

    # ---- decoding -------------------------------------------------------------------------------
    def decode(self, request: DecodeRequest, watch: TextWatch, stop: threading.Event) -> Result:
        """The request's variants as rows of one batch, each with the template's grammar and its own seed."""
        sampling = request.sampling
        grammar = structure.grammar(request.template, request.lang, request.product)
        banned = self.word_tokens(list(request.banned_words)) if request.banned_words else ()
        rows = [Row(request.prompt, grammar, sampling.seed + i, banned) for i in range(sampling.rows)]
        chain = Sampling(temperature=float(sampling.temperature), top_p=float(sampling.top_p),
                         top_k=int(sampling.top_k), repetition_penalty=float(sampling.repetition_penalty or 1.0))
        result = self.decode_rows(rows, chain, sampling.max_new_tokens, stop, on_step=watch.see)
        watch.ran_out = list(result.ran_out) or watch.ran_out
        return result

    def complete(self, requests, n: int, stop: threading.Event, seed: int = 0, max_new: int = 120) -> list[list[str]]:
        """n candidates for each (messages, grammar, banned words), up to the context's sequences per batch."""
        rows = []
        for r, (messages, grammar, banned) in enumerate(requests):
            prompt = self.chat_prompt(messages)
            ids = self.word_tokens(banned) if banned else ()
            rows += [(r, Row(prompt, grammar, seed + 97 * r + k, ids)) for k in range(n)]
        out: list[list[str]] = [[] for _ in requests]
        step = max(1, self.seqs)
        for at in range(0, len(rows), step):
            if stop.is_set():
                break
            chunk = rows[at:at + step]
            result = self.decode_rows([row for _, row in chunk], REPAIR_SAMPLING, max_new, stop)
            for (r, _), text in zip(chunk, result.texts):
                out[r].append(text)
        return out

    def decode_rows(self, rows: list[Row], sampling: Sampling, max_new: int, stop: threading.Event,
                    on_step=None) -> Result:
        """Decode every row together until each ends (EOG, its grammar complete, `on_step` says done),
        `max_new` tokens, or `stop` is set. on_step(texts) -> list of done flags, after every step."""
        while not self._lock.acquire(timeout=0.1):  # another request is decoding on this context
            if stop.is_set():
                return Result([""] * len(rows), finished=[False] * len(rows))
        try:
            return self._decode(rows, sampling, max_new, stop, on_step)
        finally:
            self._lock.release()

    def _meta(self) -> dict:
        L = self._L
        out = {}
        buf = ctypes.create_string_buffer(1 << 16)
        for i in range(L.llama_model_meta_count(self._model)):
            L.llama_model_meta_key_by_index(self._model, i, buf, len(buf))
            key = buf.value.decode("utf-8", "replace")
            n = L.llama_model_meta_val_str_by_index(self._model, i, buf, len(buf))
            if n >= len(buf):
                big = ctypes.create_string_buffer(n + 1)
                L.llama_model_meta_val_str_by_index(self._model, i, big, len(big))
                out[key] = big.value.decode("utf-8", "replace")
            else:
                out[key] = buf.value.decode("utf-8", "replace")
        return out

    def _desc(self) -> str:
        buf = ctypes.create_string_buffer(256)
        self._L.llama_model_desc(self._model, buf, 256)
        return buf.value.decode("utf-8", "replace")

    def _chain(self, row: Row, sampling: Sampling):
        L = self._L
        chain = L.llama_sampler_chain_init(L.llama_sampler_chain_default_params())
        if row.banned:
            biases = (L.llama_logit_bias * len(row.banned))(*[L.llama_logit_bias(t, -float("inf")) for t in row.banned])
            L.llama_sampler_chain_add(chain, L.llama_sampler_init_logit_bias(self.n_vocab, len(row.banned), biases))
        if sampling.repetition_penalty and sampling.repetition_penalty != 1:
            L.llama_sampler_chain_add(chain, L.llama_sampler_init_penalties(self.n_vocab, 64, sampling.repetition_penalty, 0.0, 0.0))
        if sampling.temperature <= 0:
            L.llama_sampler_chain_add(chain, L.llama_sampler_init_greedy())
        else:
            L.llama_sampler_chain_add(chain, L.llama_sampler_init_top_k(int(sampling.top_k)))
            L.llama_sampler_chain_add(chain, L.llama_sampler_init_top_p(float(sampling.top_p), 1))
            L.llama_sampler_chain_add(chain, L.llama_sampler_init_temp(float(sampling.temperature)))
            L.llama_sampler_chain_add(chain, L.llama_sampler_init_dist(row.seed & 0xFFFFFFFF))
        return chain

    def grammar_sampler(self, grammar: str):
        g = self._L.llama_sampler_init_grammar(self._vocab, grammar.encode("utf-8"), b"root")
        if not g:
            raise ValueError("llama.cpp rejected the grammar:\n" + grammar)
        return g

    def _allowed(self, grammar, token: int) -> bool:
        L = self._L
        data = (L.llama_token_data * 1)(L.llama_token_data(token, 0.0, 0.0))
        arr = L.llama_token_data_array(data, 1, -1, False)
        L.llama_sampler_apply(grammar, ctypes.byref(arr))
        return data[0].logit != -float("inf")

    def _resample(self, chain, grammar, idx: int) -> int:
        """The token the chain picks among those the grammar allows (the rare, full-vocabulary path)."""
        L = self._L
        logits = np.ctypeslib.as_array(L.llama_get_logits_ith(self._ctx, idx), shape=(self.n_vocab,))
        data = np.empty(self.n_vocab, dtype=[("id", np.int32), ("logit", np.float32), ("p", np.float32)])
        data["id"] = np.arange(self.n_vocab, dtype=np.int32)
        data["logit"] = logits
        data["p"] = 0.0
        arr = L.llama_token_data_array(data.ctypes.data_as(L.llama_token_data_p), self.n_vocab, -1, False)
        L.llama_sampler_apply(grammar, ctypes.byref(arr))
        L.llama_sampler_apply(chain, ctypes.byref(arr))
        return int(data["id"][arr.selected])

    def _decode(self, rows: list[Row], sampling: Sampling, max_new: int, stop: threading.Event, on_step=None) -> Result:
        L = self._L
        n = len(rows)
        if n > self.seqs:
            raise ValueError(f"at most {self.seqs} sequences at once")
        start = time.perf_counter()
        prompts = [self.tokenize(r.prompt) for r in rows]
        shared = common_prefix(prompts)
        groups: dict[tuple, list[int]] = {}
        for i, tokens in enumerate(prompts):
            groups.setdefault(tuple(tokens[shared:]), []).append(i)
        need = shared + sum(len(p) for p in groups) + n * (max_new + (self.draft.tokens if self.draft else 0))
        if need > self.context_tokens:
            raise ValueError(f"{need} tokens do not fit the context of {self.context_tokens}")
        self._prefix(prompts[0][:shared], n)
        chains = [self._chain(r, sampling) for r in rows]
        grammars = [self.grammar_sampler(r.grammar) if r.grammar else None for r in rows]
        out_index = [0] * n
        batch = self._batch
        try:
            # 1. Each distinct prompt once, its cells shared by the rows that start from it; every
            # row's first token is sampled from its prompt's last logits.
            pending = self._first_tokens(groups, shared, chains, grammars)  # row -> token to feed next
            if self.draft is not None and n <= speculative.MOST_ROWS:  # 2. the draft guesses, one batch checks
                return speculative.decode(self, self.draft, prompts, pending, chains, grammars, max_new, stop,
                                          on_step, start)
            pieces = [b""] * n
            texts = [""] * n
            active = list(range(n))
            finished = [False] * n
            steps = 0
            first = None
            while active and steps < max_new and not stop.is_set():
                for row in list(active):
                    token = pending.pop(row) if row in pending else self._sample(row, chains, grammars, out_index)
                    if L.llama_vocab_is_eog(self._vocab, token):
                        active.remove(row)
                        finished[row] = True
                        continue
                    if grammars[row] is not None:
                        L.llama_sampler_accept(grammars[row], token)
                    pieces[row] += self.piece(token)
                    texts[row] = shown_text(pieces[row])
                    pending[row] = token
                steps += 1
                if first is None:
                    first = time.perf_counter() - start
                if on_step is not None:
                    done = on_step(list(texts))
                    for row in list(active):
                        if done and done[row]:
                            active.remove(row)
                            pending.pop(row, None)
                active = [r for r in active if r in pending]
                if not active or steps >= max_new or stop.is_set():
                    break
                batch.n_tokens = len(active)
                for j, row in enumerate(active):
                    batch.token[j] = pending.pop(row)
                    batch.pos[j] = len(prompts[row]) + steps - 1
                    batch.n_seq_id[j] = 1
                    batch.seq_id[j][0] = row
                    batch.logits[j] = True
                    out_index[row] = j
                self._check(L.llama_decode(self._ctx, batch))
            texts = [p.decode("utf-8", "ignore") for p in pieces]
            ran_out = [row in active and steps >= max_new and not stop.is_set() for row in range(n)]
            return Result(texts, steps, max(len(p) for p in prompts), first, finished, ran_out)
        finally:
            for chain in chains:
                L.llama_sampler_free(chain)
            for grammar in grammars:
                if grammar is not None:
                    L.llama_sampler_free(grammar)

    def _prefix(self, tokens: list[int], rows: int) -> None:
        """Make the cache sequence hold `tokens` (re-using what it already holds) and give its cells to
        sequences 0..rows-1; everything else is dropped."""
        L = self._L
        mem = L.llama_get_memory(self._ctx)
        keep = next((i for i, (a, b) in enumerate(zip(self._cached, tokens)) if a != b), min(len(self._cached), len(tokens)))
        for seq in range(self.seqs):
            L.llama_memory_seq_rm(mem, seq, -1, -1)
        if not L.llama_memory_seq_rm(mem, self._cache_seq, keep, -1):
            L.llama_memory_clear(mem, True)
            keep = 0
        self._cached = []
        self._eval(tokens[keep:], keep, [self._cache_seq], logits=False)
        self._cached = list(tokens)
        for seq in range(rows):
            L.llama_memory_seq_cp(mem, self._cache_seq, seq, 0, len(tokens))

    def _eval(self, tokens: list[int], at: int, seqs: list[int], logits: bool) -> None:
        """Evaluate `tokens` from position `at` into `seqs`, in chunks of the batch size; the last
        token's logits when asked."""
        L = self._L
        batch = self._batch
        for start in range(0, len(tokens), 512):
            chunk = tokens[start:start + 512]
            batch.n_tokens = len(chunk)
            for j, token in enumerate(chunk):
                batch.token[j], batch.pos[j] = token, at + start + j
                batch.n_seq_id[j] = len(seqs)
                for k, seq in enumerate(seqs):
                    batch.seq_id[j][k] = seq
                batch.logits[j] = False
            batch.logits[len(chunk) - 1] = logits and start + len(chunk) == len(tokens)
            self._check(L.llama_decode(self._ctx, batch))

    def _first_tokens(self, groups, shared: int, chains, grammars) -> dict:
        """Evaluate every distinct rest of a prompt (once for all its rows, all in one batch: one
        bigger matrix product is faster than several small ones) and sample each row's first token."""
        L = self._L
        batch = self._batch
        items = [(tokens, members, j) for tokens, members in groups.items() for j in range(len(tokens))]
        first = {}
        for start in range(0, len(items), 512):
            chunk = items[start:start + 512]
            batch.n_tokens = len(chunk)
            ends = []
            for b, (tokens, members, j) in enumerate(chunk):
                batch.token[b], batch.pos[b] = tokens[j], shared + j
                batch.n_seq_id[b] = len(members)
                for k, member in enumerate(members):
                    batch.seq_id[b][k] = member
                batch.logits[b] = j == len(tokens) - 1
                if batch.logits[b]:
                    ends.append((members, b))
            self._check(L.llama_decode(self._ctx, batch))
            for members, b in ends:  # logits of this batch only: sample before the next one
                for member in members:
                    first[member] = self._sample(member, chains, grammars, {member: b})
        return first

    def _sample(self, row: int, chains, grammars, out_index) -> int:
        L = self._L
        idx = out_index[row]
        token = L.llama_sampler_sample(chains[row], self._ctx, idx)
        grammar = grammars[row]
        if grammar is not None and not self._allowed(grammar, token):
            token = self._resample(chains[row], grammar, idx)
        return token

    @staticmethod
    def _check(code: int) -> None:
        if code != 0:
            raise RuntimeError(f"llama_decode failed ({code}): the context is full or the batch is invalid")


def default_threads() -> int:
    """The threads a context starts with before (or without) a measurement (shared/threads.py's rule)."""
    from shared.threads import rule

    return rule()
