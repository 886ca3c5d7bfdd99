"""Seeds, read the same way by every product: one rule, one message.

None, '', -1 or 'random' give a fresh random seed; a whole number from 0 up is used modulo 2**32
(what torch generators and llama.cpp take); anything else, and numbers past 64 bits (which JSON
clients and the result tables cannot carry), is refused with a message that says what to send.
"""
from __future__ import annotations

import random
import re

from shared.i18n import add, t
from shared.ui import UserError

SEED_SPAN = 2**32  # seeds in use are in [0, SEED_SPAN)
LARGEST = 2**63 - 1  # the largest seed accepted (a signed 64-bit integer)

add({
    "seed.invalid": ("The seed '{seed}' is not a whole number from 0 to {largest}: leave it empty (or -1) for a "
                     "random seed.", "种子“{seed}”不是 0 到 {largest} 之间的整数：留空（或 -1）即随机种子。"),
})


def random_seed() -> int:
    return random.randrange(SEED_SPAN)


def parse_seed(value, lang: str = "en") -> int:
    """The seed to use for `value` (see the module docstring); UserError when it cannot be one."""
    def refuse():
        shown = str(value)
        return UserError(t("seed.invalid", lang, seed=shown if len(shown) <= 40 else shown[:40] + "…",
                           largest=LARGEST))

    if value is None:
        return random_seed()
    if isinstance(value, bool):
        raise refuse()
    if isinstance(value, float):
        if not value.is_integer():
            raise refuse()
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in {"", "-1", "random"}:
            return random_seed()
        if not re.fullmatch(r"[+-]?\d{1,20}", text):
            raise refuse()
        value = int(text)
    if not isinstance(value, int):
        raise refuse()
    if value == -1:
        return random_seed()
    if value < 0 or value > LARGEST:
        raise refuse()
    return value % SEED_SPAN
