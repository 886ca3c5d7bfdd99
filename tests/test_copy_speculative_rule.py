"""The rule of speculative decoding (products/copy/speculative.py: verify) on a toy model with no numerics:
whatever the draft guesses, the kept tokens are the model's own draws, in order, so greedy and seeded
sampled texts are plain decoding's token for token; a good draft only means fewer steps."""
from __future__ import annotations

import random

from products.copy.speculative import verify

VOCAB, END = 50, 0


def model(history: tuple[int, ...]) -> list[float]:
    """A deterministic toy next-token distribution over VOCAB tokens (END ends the text)."""
    rng = random.Random(hash(history[-3:]) & 0xFFFFFFFF)
    weights = [rng.random() ** 4 for _ in range(VOCAB)]
    weights[END] = 0.02
    return weights


def draw(history, rng, greedy) -> int:
    weights = model(history)
    if greedy:
        return max(range(VOCAB), key=weights.__getitem__)
    return rng.choices(range(VOCAB), weights)[0]


def plain(prompt, seed, greedy, most=60):
    rng, out = random.Random(seed), []
    while len(out) < most:
        token = draw(tuple(prompt + out), rng, greedy)
        if token == END:
            break
        out.append(token)
    return out


def speculative(prompt, seed, greedy, guesser, k=4, most=60):
    rng, out, steps = random.Random(seed), [], 0
    while len(out) < most:
        guess = guesser(tuple(prompt + out), min(k, most - len(out) - 1))
        got = verify(guess, lambda j: draw(tuple(prompt + out + guess[:j]), rng, greedy), lambda t: t == END)
        steps += 1
        ended = got[-1] == END
        out += got[:-1] if ended else got
        if ended:
            break
    return out[:most], steps


def perfect(history, k):  # the model's own greedy choices
    guess = []
    for _ in range(k):
        guess.append(draw(history + tuple(guess), None, True))
    return guess


def wrong(history, k):
    return [(history[-1] * 7 + i) % VOCAB or 1 for i in range(k)]


def test_greedy_text_is_plain_decodings_whatever_the_draft_guesses():
    for prompt in ([3, 4, 5], [9], [1, 2, 3, 4, 5, 6]):
        want = plain(prompt, 0, greedy=True)
        good, good_steps = speculative(prompt, 0, True, perfect)
        bad, bad_steps = speculative(prompt, 0, True, wrong)
        assert good == want and bad == want
        assert good_steps < bad_steps  # a good draft keeps several tokens a step


def test_sampled_text_is_the_same_draws_for_the_same_seed():
    for seed in range(20):
        want = plain([7, 8], seed, greedy=False)
        assert speculative([7, 8], seed, False, perfect)[0] == want
        assert speculative([7, 8], seed, False, wrong)[0] == want


def test_the_first_differing_draw_and_the_end_are_kept():
    assert verify([5, 6, 7], lambda j: [5, 9, 1][j], lambda t: t == END) == [5, 9]
    assert verify([5, 6], lambda j: [5, 6, 8][j], lambda t: t == END) == [5, 6, 8]  # all kept, plus one
    assert verify([5, 6], lambda j: [END, 6, 8][j], lambda t: t == END) == [END]
    assert verify([], lambda j: 4, lambda t: t == END) == [4]  # no guesses: a plain step
