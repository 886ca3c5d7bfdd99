"""Sentiment analysis as plain functions: usable and testable without Gradio.

score_texts: preprocess (language, windows over the model's token limit) -> forward (batched,
per language) -> postprocess (window scores averaged, weighted by their length).
read_table / score_table: the same over a CSV, TSV or XLSX file.
"""
from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from shared.config import settings
from shared.encoder import ENCODER
from shared.i18n import t
from shared.ui import UserError

from products.sentiment import strings  # noqa: F401  (registers the messages)
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
                progress: Callable[[float, str], None] | None = None, lang_ui: str = "en") -> list[Scored]:
    """Score each text; every text must be non-empty (check with `check_text` first)."""
    from shared.models import registry as default_registry

    registry = registry or default_registry
    batch_size = batch_size or settings().sentiment_batch
    if language not in LANGUAGES:
        raise UserError(t("sentiment.error.language", lang_ui, language=language))
    with contextlib.ExitStack() as stack:
        model = stack.enter_context(registry.use(SENTIMENT, progress))
        encoder = stack.enter_context(registry.use(ENCODER, progress)) if model.needs_encoder else None
        tokenizer, limit = model.limits(encoder)
        pieces: dict[str, list[tuple[int, str, int]]] = {}  # lang -> (text index, window text, tokens)
        langs = []
        for i, text in enumerate(texts):
            lang = detect_language(text) if language == "auto" else language
            langs.append(lang)
            ids = tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
            for start, end in windows(ids, limit - 2):
                piece = text if end - start == len(ids) else tokenizer.decode(ids[start:end])
                pieces.setdefault(lang, []).append((i, piece, max(1, end - start)))
        sums: dict[int, np.ndarray] = {}
        weights = np.zeros(len(texts))
        counts = np.zeros(len(texts), dtype=int)
        done, total = 0, sum(len(p) for p in pieces.values())
        for lang, items in pieces.items():
            for start in range(0, len(items), batch_size):
                chunk = items[start:start + batch_size]
                probs = model.predict([p for _, p, _ in chunk], lang, encoder, batch_size)
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
                notes.append(t("sentiment.note.windows", lang_ui, windows=int(counts[i]), limit=limit))
            results.append(Scored(text, langs[i], labels[int(np.argmax(probs))],
                                  {label: float(p) for label, p in zip(labels, probs)}, int(counts[i]), notes))
        return results


def check_text(text, lang_ui: str = "en") -> str:
    if not isinstance(text, str) or not text.strip():
        raise UserError(t("sentiment.error.empty", lang_ui))
    if len(text) > MAX_TEXT_CHARS:
        raise UserError(t("sentiment.error.too_long", lang_ui, chars=len(text), limit=MAX_TEXT_CHARS))
    return text.strip()


# ---- files -----------------------------------------------------------------------------------
_ENCODINGS = ("utf-8-sig", "utf-16", "gb18030", "cp1252")


def _decode(raw: bytes, lang_ui: str) -> str:
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16")
    for encoding in ("utf-8-sig", "gb18030", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UserError(t("sentiment.error.encoding", lang_ui))


def read_table(path: str | Path, lang_ui: str = "en"):
    """A DataFrame from a CSV, TSV or XLSX upload, with a clear message for anything else."""
    import pandas as pd

    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, dtype=str)
        elif suffix in (".csv", ".tsv", ".txt"):
            text = _decode(path.read_bytes(), lang_ui)
            sep = "\t" if suffix == ".tsv" or (suffix == ".txt" and "\t" in text[:2000]) else ","
            frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
        else:
            raise UserError(t("sentiment.error.file_type", lang_ui, suffix=suffix or "?"))
    except UserError:
        raise
    except Exception as err:
        raise UserError(t("sentiment.error.corrupt", lang_ui, detail=f"{type(err).__name__}: {err}")) from err
    if frame.empty or len(frame.columns) == 0:
        raise UserError(t("sentiment.error.no_rows", lang_ui))
    frame.columns = [str(c) for c in frame.columns]
    return frame


def guess_text_column(frame) -> str:
    """The column most likely to hold the texts: a telling name, else the longest strings."""
    for name in frame.columns:
        if name.strip().lower() in {"text", "review", "comment", "content", "message", "tweet", "body", "评论", "内容", "文本"}:
            return name
    lengths = {c: frame[c].astype(str).str.len().mean() for c in frame.columns}
    return max(lengths, key=lengths.get)


def score_table(frame, column: str, language: str = "auto", registry=None,
                progress: Callable[[float, str], None] | None = None, lang_ui: str = "en"):
    """The table with language, label and one probability column per class added."""
    import pandas as pd

    if column not in frame.columns:
        raise UserError(t("sentiment.error.column", lang_ui, column=column, columns=", ".join(frame.columns)))
    limit = settings().sentiment_max_rows
    if len(frame) > limit:
        raise UserError(t("sentiment.error.too_many_rows", lang_ui, rows=len(frame), limit=limit))
    texts = frame[column].fillna("").astype(str).str.strip()
    valid = texts != ""
    if not valid.any():
        raise UserError(t("sentiment.error.empty_column", lang_ui, column=column))
    clipped = texts[valid].str.slice(0, MAX_TEXT_CHARS)
    results = score_texts(clipped.tolist(), language, registry, progress=progress, lang_ui=lang_ui)
    out = frame.copy()
    out["language"], out["label"], out["windows"] = "", "", 0
    labels = []
    for r in results:
        labels += [label for label in r.probabilities if label not in labels]
    for label in labels:
        out[f"p_{label}"] = np.nan
    idx = clipped.index
    out.loc[idx, "language"] = [r.language for r in results]
    out.loc[idx, "label"] = [r.label for r in results]
    out.loc[idx, "windows"] = [r.windows for r in results]
    for label in labels:
        out.loc[idx, f"p_{label}"] = [round(r.probabilities.get(label, np.nan), 4) for r in results]
    out.loc[~valid, "label"] = "(empty)"
    return out


def label_distribution(scored):
    """Counts per label, for the chart."""
    import pandas as pd

    counts = scored["label"].value_counts()
    return pd.DataFrame({"label": counts.index.astype(str), "count": counts.values.astype(int)})
