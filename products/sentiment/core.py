"""Sentiment analysis as plain functions: usable and testable without Gradio.

score_texts: preprocess (language, windows over the model's token limit) -> forward (batched,
per language) -> postprocess (window scores averaged, weighted by their length).
score_table: the same over a table read by `files.read_table`; every input row comes back, in order.
"""
from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from shared.i18n import t
from shared.ui import UserError

from products.sentiment import clauses
from products.sentiment import strings  # noqa: F401  (registers the messages)
from products.sentiment.settings import SentimentSettings
from products.sentiment.models import SENTIMENT

LANGUAGES = ("auto", "en", "zh")
MAX_TEXT_CHARS = 100_000  # one text; longer is refused rather than silently cut
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def detect_language(text: str) -> str:
    """'zh' when there are at least as many Chinese characters as Latin words, else 'en'."""
    cjk = len(_CJK.findall(text))
    latin_words = len(re.findall(r"[A-Za-z]+", text))
    return "zh" if cjk and cjk >= latin_words else "en"


@dataclass
class Scored:
    text: str
    language: str
    label: str
    probabilities: dict[str, float]
    windows: int = 1
    notes: list[str] = field(default_factory=list)
    model: str = ""
    clauses: list = field(default_factory=list)  # clauses.Clause, when scored by score_with_clauses
    overall: str = ""  # the label, or "mixed" (clauses of both polarities)


def windows(ids: list[int], size: int, overlap: int = 32) -> list[tuple[int, int]]:
    """Token ranges of at most `size` that cover `ids`, consecutive ranges overlapping a little."""
    if len(ids) <= size:
        return [(0, len(ids))]
    step = max(1, size - overlap)
    spans, start = [], 0
    while True:
        end = min(start + size, len(ids))
        spans.append((start, end))
        if end == len(ids):
            return spans
        start += step


def score_texts(texts: list[str], language: str = "auto", registry=None, batch_size: int | None = None,
                progress: Callable[[float, str], None] | None = None, lang_ui: str = "en",
                fast: bool = False) -> list[Scored]:
    """Score each text; every text must be non-empty (check with `check_text` first). `fast`: the
    embedded model's MiniLM heads whatever the default encoder (about 10x faster, less accurate)."""
    from shared.models import registry as default_registry

    registry = registry or default_registry
    batch_size = batch_size or SentimentSettings.current().batch
    if language not in LANGUAGES:
        raise UserError(t("sentiment.error.language", lang_ui, language=language))
    langs = [detect_language(text) if language == "auto" else language for text in texts]
    with contextlib.ExitStack() as stack:
        model = stack.enter_context(registry.use(SENTIMENT, progress))
        encoders, limits = {}, {}
        pieces: dict[str, list[tuple[int, str, int]]] = {}  # lang -> (text index, window text, tokens)
        for lang in dict.fromkeys(langs):  # each language's encoder, leased for the whole call
            if model.needs_encoder:
                encoders[lang] = stack.enter_context(registry.use(model.encoder_for(lang, fast, registry), progress))
            limits[lang] = model.limits(encoders.get(lang))
        for i, text in enumerate(texts):
            tokenizer, limit = limits[langs[i]]
            ids = tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
            for start, end in windows(ids, limit - 2):
                piece = text if end - start == len(ids) else tokenizer.decode(ids[start:end])
                pieces.setdefault(langs[i], []).append((i, piece, max(1, end - start)))
        sums: dict[int, np.ndarray] = {}
        weights = np.zeros(len(texts))
        counts = np.zeros(len(texts), dtype=int)
        done, total = 0, sum(len(p) for p in pieces.values())
        for lang, items in pieces.items():
            items.sort(key=lambda item: item[2])  # similar lengths batched together: less padding
            for start in range(0, len(items), batch_size):
                chunk = items[start:start + batch_size]
                probs = model.predict([p for _, p, _ in chunk], lang, encoders.get(lang), batch_size, fast)
                for (i, _, n), row in zip(chunk, probs):
                    sums[i] = sums.get(i, 0) + row * n
                    weights[i] += n
                    counts[i] += 1
                done += len(chunk)
                if progress and total > batch_size:
                    progress(done / total, t("sentiment.progress", lang_ui, done=done, total=total))
        results = []
        for i, text in enumerate(texts):
            labels = model.labels(langs[i])
            probs = sums[i] / weights[i]
            notes = []
            if counts[i] > 1:
                notes.append(t("sentiment.note.windows", lang_ui, windows=int(counts[i]), limit=limits[langs[i]][1]))
            results.append(Scored(text, langs[i], labels[int(np.argmax(probs))],
                                  {label: float(p) for label, p in zip(labels, probs)}, int(counts[i]), notes,
                                  getattr(model, "name", "")))
        return results


def score_with_clauses(texts: list[str], language: str = "auto", registry=None,
                       progress: Callable[[float, str], None] | None = None, lang_ui: str = "en",
                       fast: bool = False) -> list[Scored]:
    """score_texts, plus each text's clauses scored in the same call and its overall label
    (products/sentiment/clauses.py): "mixed" when confident positive and negative clauses meet."""
    langs = [detect_language(text) if language == "auto" else language for text in texts]
    split = [clauses.split_clauses(text, lang) for text, lang in zip(texts, langs)]
    extra = [(i, c) for i, parts in enumerate(split) if len(parts) > 1 for c in parts]
    scored = score_texts(list(texts) + [c for _, c in extra], language, registry, progress=progress,
                         lang_ui=lang_ui, fast=fast)
    whole, pieces = scored[:len(texts)], scored[len(texts):]
    for r in whole:
        r.clauses = [clauses.Clause(r.text, r.label, r.probabilities[r.label])]
    by_text: dict[int, list] = {}
    for (i, _), piece in zip(extra, pieces):
        by_text.setdefault(i, []).append(clauses.Clause(piece.text, piece.label, piece.probabilities[piece.label]))
    for i, r in enumerate(whole):
        r.clauses = by_text.get(i, r.clauses)
        r.overall = clauses.overall(r.label, r.clauses)
    return whole


def check_text(text, lang_ui: str = "en") -> str:
    if not isinstance(text, str) or not text.strip():
        raise UserError(t("sentiment.error.empty", lang_ui))
    if len(text) > MAX_TEXT_CHARS:
        raise UserError(t("sentiment.error.too_long", lang_ui, chars=len(text), limit=MAX_TEXT_CHARS))
    return text.strip()


# ---- tables (files.py reads and writes them; its names stay importable from here) ------------
def score_table(frame, column: str, language: str = "auto", registry=None,
                progress: Callable[[float, str], None] | None = None, lang_ui: str = "en", fast: bool = False):
    """The table, row for row and with its texts untouched, with language, label, mixed (clauses of
    both polarities), windows and one probability column per class added. An input column whose name a result column takes is kept
    as "<name> (input)"."""
    if column not in frame.columns:
        raise UserError(t("sentiment.error.column", lang_ui, column=column, columns=", ".join(frame.columns)))
    limit = SentimentSettings.current().max_rows
    if len(frame) > limit:
        raise UserError(t("sentiment.error.too_many_rows", lang_ui, rows=len(frame), limit=limit))
    texts = frame[column].fillna("").astype(str).str.strip()  # stripped for scoring only
    valid = (texts != "").to_numpy()
    if not valid.any():
        raise UserError(t("sentiment.error.empty_column", lang_ui, column=column))
    clipped = texts[valid].str.slice(0, MAX_TEXT_CHARS)
    results = score_with_clauses(clipped.tolist(), language, registry, progress=progress, lang_ui=lang_ui, fast=fast)
    labels: list[str] = []
    for r in results:
        labels += [label for label in r.probabilities if label not in labels]
    added = ["language", "label", "mixed", "windows"] + [f"p_{label}" for label in labels]
    out = frame.copy()
    out.columns = _keep_input_names(list(frame.columns), added)
    # positional, so a frame with any index (even repeated labels) gets each result on its own row
    rows = np.flatnonzero(valid)
    columns = {"language": np.full(len(out), "", dtype=object), "label": np.full(len(out), "(empty)", dtype=object),
               "mixed": np.full(len(out), "", dtype=object), "windows": np.zeros(len(out), dtype=int)}
    columns["language"][rows] = [r.language for r in results]
    columns["label"][rows] = [r.label for r in results]
    columns["mixed"][rows] = [r.overall == "mixed" for r in results]
    columns["windows"][rows] = [r.windows for r in results]
    for label in labels:
        columns[f"p_{label}"] = np.full(len(out), np.nan)
        columns[f"p_{label}"][rows] = [round(r.probabilities.get(label, np.nan), 4) for r in results]
    for name, values in columns.items():
        out[name] = values
    return out


def _keep_input_names(names: list[str], taken: list[str]) -> list[str]:
    """Input column names, renamed "<name> (input)" where a result column would overwrite them."""
    renamed = []
    for name in names:
        new = name
        while new in taken or (new != name and new in names):
            new = f"{new} (input)"
        renamed.append(new)
    return renamed


def label_distribution(scored):
    """Counts per label, for the chart."""
    import pandas as pd

    counts = scored["label"].value_counts()
    return pd.DataFrame({"label": counts.index.astype(str), "count": counts.values.astype(int)})
