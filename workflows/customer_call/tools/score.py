"""Scoring a finished Call against a scripted call's answer key: pure functions, no models.

Duck-typed: a call needs `items` (each with kind, issue, evidence), `email`, `turns` (speaker, start,
end), `roles` and `timings`; the key is the JSON make_audio.py writes (or Script.to_json() plus true
turn times): `complaints` and `liked` as [{"issue", "keywords"}], `turns` as [{"speaker", "start", "end"}].

Matching: a keyword identifies a key item when it occurs in the lower-cased text. English (ASCII)
keywords must start at a word start, so "nois" finds noise, noisy and noisier but "late" does not find
"translate"; ASCII keywords of three letters or fewer must be whole words ("app" is not "appreciate").
Punctuation and hyphens count as spaces on both sides ("check in" finds "check-in"). Chinese (any
non-ASCII) keywords match anywhere.
"""
from __future__ import annotations

import re
from collections import defaultdict
from statistics import mean

GOALS = {"found": 0.8, "precision": 0.9, "email": 0.8}
KINDS = {"complaint": "complaints", "liked": "liked"}


def _fold(text: str) -> str:
    text = (text or "").lower().replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(re.sub(r"[^\w']+", " ", text).split())


def _pattern(keyword: str) -> re.Pattern:
    word = _fold(keyword)
    tail = r"(?![a-z0-9'])" if len(word) <= 3 else ""
    return re.compile(r"(?<![a-z0-9'])" + re.escape(word) + tail)


def has_keyword(text: str, keywords) -> bool:
    """Whether any keyword identifies `text` (the rules in the module docstring)."""
    lowered, folded = (text or "").lower(), _fold(text)
    for keyword in keywords:
        if not keyword.strip():
            continue
        if keyword.isascii():
            if _pattern(keyword).search(folded):
                return True
        elif keyword.lower() in lowered:
            return True
    return False


def item_text(item) -> str:
    return f"{getattr(item, 'issue', '') or ''} {getattr(item, 'evidence', '') or ''}"


def matches(item, key: dict) -> bool:
    return has_keyword(item_text(item), key["keywords"])


def _share(hits: int, total: int) -> float | None:
    return hits / total if total else None


def found(items, key: dict, kind: str = "complaint") -> float | None:
    """Share of the key's items of `kind` matched by at least one extracted item of that kind
    (None when the key has none)."""
    wanted = key.get(KINDS[kind]) or []
    mine = [i for i in items if getattr(i, "kind", None) == kind]
    return _share(sum(any(matches(i, k) for i in mine) for k in wanted), len(wanted))


def precision(items, key: dict) -> float | None:
    """Share of extracted items (complaints and likes) that match some key item of their own kind
    (None when nothing was extracted: that shows as found = 0 instead)."""
    items = list(items)
    right = sum(getattr(i, "kind", None) in KINDS and any(matches(i, k) for k in key.get(KINDS[i.kind]) or [])
                for i in items)
    return _share(right, len(items))


def unmatched(items, key: dict) -> list:
    """The extracted items that match nothing of their kind in the key (to print)."""
    return [i for i in items if not (getattr(i, "kind", None) in KINDS
                                     and any(matches(i, k) for k in key.get(KINDS[i.kind]) or []))]


def email_coverage(email: str, key: dict) -> float | None:
    """Share of the key's complaints with at least one keyword in the email."""
    wanted = key.get("complaints") or []
    return _share(sum(has_keyword(email, k["keywords"]) for k in wanted), len(wanted))


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def _get(turn, name):
    return turn[name] if isinstance(turn, dict) else getattr(turn, name)


def speaker_map(turns, truth) -> dict[str, str | None]:
    """Each diarized speaker -> the script speaker ("agent" / "customer") it overlaps most in time
    (None when it overlaps no scripted turn, e.g. a label put on noise)."""
    time: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for t in turns:
        time[_get(t, "speaker")]  # every speaker gets an entry
        for r in truth:
            shared = _overlap(_get(t, "start"), _get(t, "end"), _get(r, "start"), _get(r, "end"))
            if shared > 0:
                time[_get(t, "speaker")][_get(r, "speaker")] += shared
    return {s: (max(sorted(by), key=by.get) if by else None) for s, by in time.items()}


def roles_right(turns, roles: dict, truth) -> float | None:
    """Share of diarized speakers (those that overlap some scripted turn) whose role in `roles` is the
    role of the script speaker they overlap most; None when no speaker overlaps any turn."""
    mapped = {s: r for s, r in speaker_map(turns, truth).items() if r is not None}
    return _share(sum((roles or {}).get(s) == r for s, r in mapped.items()), len(mapped))


def role_time(turns, roles: dict, truth) -> float | None:
    """Share of the overlapping speech time whose diarized speaker's role is the true speaker's."""
    right = total = 0.0
    for t in turns:
        role = (roles or {}).get(_get(t, "speaker"))
        for r in truth:
            shared = _overlap(_get(t, "start"), _get(t, "end"), _get(r, "start"), _get(r, "end"))
            total += shared
            right += shared if role == _get(r, "speaker") else 0.0
    return right / total if total else None


def score(call, key: dict) -> dict:
    """Every score of one call against its key (the JSON written beside its audio)."""
    items = list(getattr(call, "items", None) or [])
    turns = list(getattr(call, "turns", None) or [])
    truth = key.get("turns") or []
    return {
        "found": found(items, key, "complaint"),
        "liked_found": found(items, key, "liked"),
        "precision": precision(items, key),
        "email": email_coverage(getattr(call, "email", "") or "", key),
        "roles": roles_right(turns, getattr(call, "roles", {}), truth) if truth else None,
        "role_time": role_time(turns, getattr(call, "roles", {}), truth) if truth else None,
        "speakers": len({_get(t, "speaker") for t in turns}),
        "items": len(items),
        "complaints": sum(getattr(i, "kind", None) == "complaint" for i in items),
        "unmatched": [f"{getattr(i, 'kind', '?')}: {getattr(i, 'issue', '')}" for i in unmatched(items, key)],
        "timings": dict(getattr(call, "timings", None) or {}),
    }


METRICS = ("found", "precision", "email", "roles", "role_time", "liked_found")


def means(rows: list[dict]) -> dict:
    """Mean of each metric over the rows that have it (None where none has), plus mean step times."""
    out = {}
    for name in METRICS:
        values = [r[name] for r in rows if r.get(name) is not None]
        out[name] = mean(values) if values else None
    steps = sorted({s for r in rows for s in r.get("timings", {})})
    out["timings"] = {s: mean(r["timings"][s] for r in rows if s in r.get("timings", {})) for s in steps}
    out["calls"] = len(rows)
    return out


def meets(summary: dict) -> dict[str, bool | None]:
    """Each goal: met (True), missed (False) or not measured (None)."""
    return {name: (None if summary.get(name) is None else summary[name] >= goal) for name, goal in GOALS.items()}
