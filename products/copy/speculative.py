"""Speculative decoding for the llama.cpp engine: a small draft model guesses, the copy model checks.

Qwen2.5-Coder 0.5B and 1.5B share one tokenizer. Each step, the 0.5B (`Draft`, its own llama.cpp context,
one sequence per row) guesses the next few tokens of every row greedily; the 1.5B evaluates every row's
last token and its guesses in one batch, and then samples position by position with the row's own
sampler chain and grammar, keeping guesses while they equal what it sampled. The first token it samples
that differs from the guess (or the one after the last guess) is kept too, so every step keeps at
least one token. The cells of the guesses it did not keep are removed from both caches.

Why the text is the copy model's own: every kept token is *sampled by the copy model* from its logits
at that position, given exactly the tokens before it, with the row's chain (penalties, top-k, top-p,
temperature, seed) and grammar, one draw per kept token as in plain decoding. The guesses only decide
how many positions are evaluated in one batch. So at temperature 0 the text is plain decoding's, token
for token, and with sampling it is the same distribution (for a greedy draft this is the standard
accept/reject rule: a guess is kept with the probability the copy model gives it, and a rejected one is
replaced by a draw from the rest).

Where it pays: a batch of k+1 positions costs the CPU little more than one (the weights are read once),
so each accepted guess is a token almost for free, while the 0.5B costs about a third of a 1.5B step
per guess.
"""
from __future__ import annotations

import threading
import time

import numpy as np

from products.copy.llama_batch import Result, Row, Sampling, common_prefix, shown_text


# Rows decoded with guesses: the variants of one request. The repairs' 16-row batches decode plainly:
# with that many rows a CPU step is already compute-bound and guesses only add work.
MOST_ROWS = 5


class Draft:
    """The draft model's side: a LlamaCopyModel of the small GGUF, whose sequences follow the rows."""

    def __init__(self, model, tokens: int = 4):
        self.model = model
        self.tokens = tokens  # guesses per row and step
        self.known: dict[int, list[int]] = {}  # row -> the tokens its sequence holds (the engine's lock guards it)

    @property
    def memory_bytes(self) -> int:
        return self.model.memory_bytes()

    def begin(self, prompts: list[list[int]]) -> None:
        """Every row's sequence holds its prompt (the common prefix evaluated once, as the copy model does)."""
        m = self.model
        shared = common_prefix(prompts) if len(prompts) > 1 else len(prompts[0]) - 1
        m._prefix(prompts[0][:shared], len(prompts))
        for row, tokens in enumerate(prompts):
            m._eval(tokens[shared:], shared, [row], logits=False)
        self.known = {row: list(tokens) for row, tokens in enumerate(prompts)}

    def _argmax(self, index: int) -> int:
        m = self.model
        logits = np.ctypeslib.as_array(m._L.llama_get_logits_ith(m._ctx, index), shape=(m.n_vocab,))
        return int(logits.argmax())

    def guess(self, histories: dict[int, list[int]], counts: dict[int, int]) -> dict[int, list[int]]:
        """Up to counts[row] greedy guesses after each row's history (prompt and kept tokens)."""
        m = self.model
        L, batch = m._L, m._batch
        guesses: dict[int, list[int]] = {row: [] for row in histories}
        rows = [row for row in histories if counts[row] > 0]
        if not rows:
            return guesses
        # 1. Feed each row what its sequence lacks (the copy model's last token or two), logits at the end.
        feeds = {row: histories[row][len(self.known[row]):] for row in rows}
        if sum(len(f) for f in feeds.values()) > 512:  # rare: a long catch-up, row by row
            for row in rows:
                m._eval(feeds[row][:-1], len(self.known[row]), [row], logits=False)
                self.known[row] += feeds[row][:-1]
                feeds[row] = feeds[row][-1:]
        last = {}
        b = 0
        for row in rows:
            for j, token in enumerate(feeds[row]):
                batch.token[b], batch.pos[b] = token, len(self.known[row]) + j
                batch.n_seq_id[b], batch.seq_id[b][0] = 1, row
                batch.logits[b] = j == len(feeds[row]) - 1
                if batch.logits[b]:
                    last[row] = b
                b += 1
            self.known[row] = list(histories[row])
        batch.n_tokens = b
        m._check(L.llama_decode(m._ctx, batch))
        for row in rows:
            guesses[row].append(self._argmax(last[row]))
        # 2. One token per row and step after that, for the rows that want more.
        while True:
            live = [row for row in rows if len(guesses[row]) < counts[row]]
            if not live:
                return guesses
            for b, row in enumerate(live):
                batch.token[b], batch.pos[b] = guesses[row][-1], len(self.known[row])
                batch.n_seq_id[b], batch.seq_id[b][0] = 1, row
                batch.logits[b] = True
                self.known[row].append(guesses[row][-1])
            batch.n_tokens = len(live)
            m._check(L.llama_decode(m._ctx, batch))
            for b, row in enumerate(live):
                guesses[row].append(self._argmax(b))

    def keep(self, row: int, history: list[int]) -> None:
        """The row's sequence keeps only what agrees with the tokens the copy model kept."""
        known = self.known[row]
        n = next((i for i, (a, b) in enumerate(zip(known, history)) if a != b), min(len(known), len(history)))
        if n < len(known):
            mem = self.model._L.llama_get_memory(self.model._ctx)
            self.model._L.llama_memory_seq_rm(mem, row, n, -1)
            del known[n:]


def verify(guess: list[int], sample, ends) -> list[int]:
    """The tokens one row keeps at one step. `sample(j)` draws the model's own token at position j, where
    the model has seen the row's last token and guess[:j]; a guess is kept while it equals the draw, and
    the first draw that differs (or follows the last guess, or ends the text) is kept too. Each kept
    token is one draw, in order, exactly as plain decoding draws them."""
    got = []
    for j in range(len(guess) + 1):
        token = sample(j)
        got.append(token)
        if ends(token) or j == len(guess) or token != guess[j]:
            break
    return got


def measured_tokens(engine, options: tuple[int, ...] = (0, 2, 4)) -> int:
    """How many guesses per step pay on this machine for this model and draft (0: none, plain decoding
    is faster): greedy decodes of a short copy prompt timed per kept token, measured once per machine
    and cached (shared/threads.py). On a 2-core CPU a batch of k+1 positions costs about as much as k
    single steps and the draft a good share of one, so plain decoding can win there."""
    from shared import threads

    draft = engine.draft
    prompt = engine.chat_prompt([{"role": "user", "content": "Write two sentences of ad copy for BrewMate Pro, a "
                                                          "quiet smart coffee maker with 20 recipes in its app."}])

    def probe(tokens: int) -> float:
        engine.draft = draft if tokens else None
        draft.tokens = tokens or draft.tokens
        started = time.perf_counter()
        result = engine.decode_rows([Row(prompt)], Sampling(temperature=0), 24, threading.Event())
        return (time.perf_counter() - started) / max(1, result.steps)

    names = f"speculative {engine.loaded_from.rsplit('/', 1)[-1]} + {draft.model.loaded_from.rsplit('/', 1)[-1]}"
    try:
        return threads.choose(names, probe, options=list(options), default=0)
    finally:
        engine.draft = draft


def decode(engine, draft: Draft, prompts: list[list[int]], pending: dict[int, int], chains, grammars,
           max_new: int, stop: threading.Event, on_step, start: float) -> Result:
    """The copy model's decode loop with guesses: rows, chains and grammars as LlamaCopyModel._decode made
    them, `pending` each row's first token (sampled from its prompt). Each step's kept tokens are shown
    to `on_step` one position at a time, so the watcher stops a row exactly where plain decoding would."""
    L = engine._L
    mem = L.llama_get_memory(engine._ctx)
    n = len(prompts)
    kept: list[list[int]] = [[] for _ in range(n)]  # tokens kept per row; the last is not yet in the cache
    pieces, texts = [b""] * n, [""] * n
    finished, ran_out = [False] * n, [False] * n
    active = list(range(n))
    steps, first = 0, None
    drafted = accepted = 0
    for row, token in pending.items():  # the first tokens were sampled without the grammar's accept
        if grammars[row] is not None and not L.llama_vocab_is_eog(engine._vocab, token):
            L.llama_sampler_accept(grammars[row], token)
    new = {row: [token] for row, token in pending.items()}
    draft.begin(prompts)
    while True:
        # 1. Show the step's tokens one position at a time (EOG ends a row; the watcher may end one).
        for i in range(max((len(v) for v in new.values()), default=0)):
            moved = False
            for row in list(active):
                if i >= len(new.get(row, ())):
                    continue
                token = new[row][i]
                if L.llama_vocab_is_eog(engine._vocab, token):
                    active.remove(row)
                    finished[row] = True
                    continue
                kept[row].append(token)
                pieces[row] += engine.piece(token)
                texts[row] = shown_text(pieces[row])
                moved = True
            if not moved:
                continue
            steps += 1
            if first is None:
                first = time.perf_counter() - start
            if on_step is not None:
                done = on_step(list(texts))
                active = [row for row in active if not (done and done[row])]
            for row in list(active):
                if len(kept[row]) >= max_new:
                    active.remove(row)
                    ran_out[row] = not stop.is_set()
            new = {row: v for row, v in new.items() if row in active}
        if not active or stop.is_set():
            break
        # 2. Guess, then evaluate every row's last token and its guesses in one batch.
        histories = {row: prompts[row] + kept[row] for row in active}
        counts = {row: min(draft.tokens, max_new - len(kept[row]) - 1, 511 // len(active) - 1) for row in active}
        guesses = draft.guess(histories, counts)
        batch = engine._batch
        index: dict[tuple[int, int], int] = {}
        b = 0
        for row in active:
            at = len(prompts[row]) + len(kept[row]) - 1
            for j, token in enumerate([kept[row][-1]] + guesses[row]):
                batch.token[b], batch.pos[b] = token, at + j
                batch.n_seq_id[b], batch.seq_id[b][0] = 1, row
                batch.logits[b] = True
                index[row, j] = b
                b += 1
        batch.n_tokens = b
        engine._check(L.llama_decode(engine._ctx, batch))
        # 3. Sample position by position; keep guesses while they match.
        new = {}
        for row in active:
            guess = guesses[row]

            def sample(j: int, row=row) -> int:
                token = engine._sample(row, chains, grammars, {row: index[row, j]})
                if grammars[row] is not None and not L.llama_vocab_is_eog(engine._vocab, token):
                    L.llama_sampler_accept(grammars[row], token)
                return token

            got = verify(guess, sample, lambda token: L.llama_vocab_is_eog(engine._vocab, token))
            drafted += len(guess)
            accepted += len(got) - 1
            # Cells of the last token and the kept guesses stay; those of the rejected guesses go.
            L.llama_memory_seq_rm(mem, row, len(prompts[row]) + len(kept[row]) + len(got) - 1, -1)
            draft.keep(row, prompts[row] + kept[row] + got[:-1])
            new[row] = got
    engine.last_acceptance = (accepted, drafted)
    texts = [p.decode("utf-8", "ignore") for p in pieces]
    return Result(texts, steps, max(len(p) for p in prompts), first, finished, ran_out, drafted, accepted)
