"""Admin actions that improve the embedded sentiment model from its users' feedback.

"Retrain with feedback" collects the corrections stored with their texts (AIPM_STORE_CONTENT=1; a
👍 counts as a correction to the label the model gave), fine-tunes the heads on the original training
split plus those corrections (products/sentiment/retrain.py), and promotes the new heads as the next
version only when no language got worse on its fixed test split. "Restore previous" goes back to the
version the current one was trained from. Both unload the sentiment model so the next request loads
the version now current. `retrain_and_promote` is also the path of `simulate_feedback`.
"""
from __future__ import annotations


import gradio as gr
import numpy as np

from shared import admin
from shared.i18n import add, request_lang, t
from shared.models import registry
from shared.ui import UserError, user_errors

from products.sentiment import versions
from products.sentiment.models import SENTIMENT

add({
    "sentiment.retrain.title": ("Improve the model with feedback (admins)", "用反馈改进模型（管理员）"),
    "sentiment.retrain.intro": (
        "Fine-tunes the embedded heads on their training split plus users' corrections (stored with their texts "
        "only when the server runs with AIPM_STORE_CONTENT=1). The new heads are promoted only if no language "
        "gets worse on its fixed test split; the previous version can be restored.",
        "在原训练集加上用户更正的基础上微调内置分类头（只有服务器以 AIPM_STORE_CONTENT=1 运行时才会连同文本保存更正）。"
        "只有当每种语言在固定测试集上都不变差时才启用新分类头；可恢复到上一版本。"),
    "sentiment.retrain.run": ("Retrain with feedback", "用反馈重新训练"),
    "sentiment.retrain.restore": ("Restore previous version", "恢复上一版本"),
    "sentiment.retrain.header": ("| Language | Corrections | Test accuracy before → after | Test macro-F1 before → after "
                                 "| Held-out corrections, accuracy | Not worse |",
                                 "| 语言 | 更正数 | 测试集准确率 之前 → 之后 | 测试集宏 F1 之前 → 之后 | 留出更正的准确率 | 未变差 |"),
    "sentiment.retrain.none": ("Not enough corrections with their texts to retrain (at least {n} per language). "
                               "Corrections keep their texts only when the server runs with AIPM_STORE_CONTENT=1.",
                               "带文本的更正不足，无法重新训练（每种语言至少 {n} 条）。只有服务器以 AIPM_STORE_CONTENT=1 "
                               "运行时，更正才会保存文本。"),
    "sentiment.retrain.promoted": ("Promoted as **{version}**: the sentiment model now uses it.",
                                   "已启用为 **{version}**：情感分析模型现在使用该版本。"),
    "sentiment.retrain.kept": ("Not promoted: a language got worse on its test split, so the current heads stay.",
                               "未启用：有语言在测试集上变差，继续使用当前分类头。"),
    "sentiment.retrain.unchanged": ("Not promoted: every epoch of fine-tuning was worse on the corrections kept aside, "
                                    "or gave up validation accuracy, so the heads are unchanged.",
                                    "未启用：每一轮微调要么在留作选择的更正上更差，要么降低了验证集表现，分类头保持不变。"),
    "sentiment.retrain.current": ("Heads in use: **{version}** (versions: {versions}).",
                                  "当前分类头：**{version}**（全部版本：{versions}）。"),
    "sentiment.retrain.restored": ("Restored **{version}**: the sentiment model now uses it.",
                                   "已恢复 **{version}**：情感分析模型现在使用该版本。"),
    "sentiment.retrain.no_previous": ("The bundled heads (v0) are in use: there is no earlier version.",
                                      "正在使用内置分类头（v0），没有更早的版本。"),
    "sentiment.retrain.busy": ("The new version is saved; the model is in use right now, so it switches when it "
                               "is next loaded (System tab: unload sentiment).",
                               "新版本已保存；模型正在使用中，将在下次加载时切换（系统页：卸载 sentiment）。"),
    "sentiment.retrain.figure": ("Accuracy before and after", "重新训练前后的准确率"),
})

def _retrain():
    """The training code imports torch: only when an admin retrains, never at start-up."""
    from products.sentiment import retrain

    return retrain


def _heads():
    from products.sentiment import heads

    return heads


# ---- the pieces (module functions, so tests can swap the data and the encoder) --------------------
def corrections_from_store() -> dict[str, list[tuple[str, int]]]:
    """Per language, (text, label index) of every sentiment rating stored with its text; a text
    rated more than once keeps its latest label."""
    from sqlalchemy import select

    from shared import store
    from shared.store.schema import feedback

    store.writer().flush(5)
    query = (select(feedback.c.text, feedback.c.value, feedback.c.language)
             .where(feedback.c.product == "sentiment", feedback.c.text.is_not(None)).order_by(feedback.c.ts))
    latest: dict[str, dict[str, int]] = {}
    for text, value, lang in store.read(query).itertuples(index=False):
        labels = _heads().LABELS.get(lang or "")
        if labels and value in labels and isinstance(text, str) and text.strip():
            latest.setdefault(lang, {})[text.strip()] = labels.index(value)
    return {lang: list(rows.items()) for lang, rows in latest.items()}


def load_data(lang: str) -> tuple[dict, dict]:
    """(splits, vectors) of one language: the shipped model's training protocol
    (products/sentiment/experiment.py, "full"), vectors of the language's encoder (cached)."""
    from products.sentiment import experiment, models
    from products.sentiment.encoders import GEMMA
    from products.sentiment.remote import spec_for
    from products.sentiment.vector_cache import embed

    encoder = models.chosen_encoders()[lang]
    parts = experiment.splits(lang, "full", experiment.GEMMA_POOLS if encoder == GEMMA else None)
    splits = {k: [(r.text, r.label) for r in parts[k]] for k in ("train", "val", "test")}
    pool = sorted({r.text for v in parts.values() for r in v})  # the same pool tools/train.py embeds: one cache
    where = {text: i for i, text in enumerate(pool)}
    vectors = embed(pool, f"{encoder}-{lang}-pool", spec_for(encoder))
    return splits, {k: vectors[[where[text] for text, _ in v]] for k, v in splits.items()}


def encode(texts: list[str], lang: str = "en") -> np.ndarray:
    """Vectors of a few corrections from the language's encoder (not cached: they change with every retrain)."""
    from products.sentiment import models
    from products.sentiment.remote import spec_for

    with registry.use(spec_for(models.chosen_encoders()[lang])) as encoder:
        return encoder.encode(list(texts), batch_size=64)


def current_heads() -> tuple[dict, str]:
    from products.sentiment import models

    heads, version, _, _ = models.current_heads()
    return heads, version


def switch_model() -> bool:
    """Unload sentiment so its next use loads the current version; False while it is in use."""
    from shared.registry import ModelInUseError

    try:
        registry.unload(SENTIMENT)
        return True
    except ModelInUseError:
        return False


# ---- the shared path: the admin action and simulate_feedback ----------------------------------------
def retrain_and_promote(corrections: dict, heads: dict | None = None, data=None, embed=None,
                        promote: bool = True) -> tuple[dict, str | None]:
    """Retrain every language with enough corrections; promote when the guard allows (and `promote`).
    Returns (result with the retrained heads under "heads", the promoted version or None)."""
    if heads is None:
        heads, _ = current_heads()
    wanted = [lang for lang, rows in corrections.items() if lang in _heads().LABELS and len(rows) >= _retrain().MIN_CORRECTIONS]
    data = dict(data or {})
    for lang in wanted:
        if lang not in data:
            data[lang] = load_data(lang)
    result = _retrain().retrain(heads, {lang: corrections[lang] for lang in wanted}, data, embed or encode)
    version = None
    if promote and result["promote"]:
        import json

        from products.sentiment import models

        _, _, encoders, temperatures = models.current_heads()
        version = versions.promote(result["heads"], {"languages": result["languages"]},
                                   {"encoders": json.dumps(encoders), "temperatures": json.dumps(temperatures)})
    return result, version


def figure_rows(result: dict) -> list[dict]:
    """Accuracy before/after per language on its test split and its held-out corrections: one bar
    each (a bar per row, so before and after stand side by side instead of stacking)."""
    rows = []
    for r in result["languages"]:
        for name, key in (("test", "test"), ("held-out corrections", "held")):
            for stage in ("before", "after"):
                if r.get(f"{key}_{stage}"):
                    rows.append({"bar": f"{r['language']} {name}: {stage}", "stage": stage,
                                 "accuracy": r[f"{key}_{stage}"]["accuracy"]})
    return rows


def status_line(lang_ui: str) -> str:
    return t("sentiment.retrain.current", lang_ui, version=versions.current_name(),
             versions=", ".join(v["version"] for v in versions.history()))


# ---- the endpoints ----------------------------------------------------------------------------------
def _plot(result: dict):
    import pandas as pd

    return pd.DataFrame(figure_rows(result), columns=["bar", "stage", "accuracy"])


@user_errors
def retrain_action(password: str = "", request: gr.Request = None):
    """API: /sentiment_retrain (admins). The report (Markdown), the before/after figure and the versions."""
    lang = request_lang(request)
    admin.require(password, lang)
    result, version = retrain_and_promote(corrections_from_store())
    text = _retrain().report_markdown(result, version, lang)
    if version and not switch_model():
        text += "\n\n" + t("sentiment.retrain.busy", lang)
    return text, _plot(result), status_line(lang)


@user_errors
def restore_action(password: str = "", request: gr.Request = None):
    """API: /sentiment_restore (admins). Back to the version the current one was trained from."""
    lang = request_lang(request)
    admin.require(password, lang)
    previous = versions.previous()
    if previous is None:
        raise UserError(t("sentiment.retrain.no_previous", lang))
    versions.restore(previous)
    text = t("sentiment.retrain.restored", lang, version=previous)
    if not switch_model():
        text += "\n\n" + t("sentiment.retrain.busy", lang)
    return text, status_line(lang)
