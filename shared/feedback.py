"""Feedback on any result, one component for every product: a rating refers to the request it rates
(by id, or this session's latest request of that product), is stored with that request's model and
template, and feeds the Insights tab. Products add buttons with `buttons(...)`; API callers use
`/feedback` (and `/feedback_requests` for this session's request ids).

Kinds: copy up / down / pick / edit; sentiment correction / confirm; recommend not_interested /
liked; speech correction (scored as word error rate against the model's transcript); image
favourite / down. User text (a correction, an edit, the rated input) is stored only with
AIPM_STORE_CONTENT=1.
"""
from __future__ import annotations

import re
import threading
import time
import uuid
from collections import OrderedDict

import gradio as gr

from shared import capture, store
from shared.config import settings
from shared.i18n import I18N, add, request_lang, t
from shared.ui import UserError, escape, user_errors

add({
    "feedback.thanks": ("Thank you: your feedback is recorded.", "谢谢，反馈已记录。"),
    "feedback.thanks_wer": ("Thank you: the model's transcript had a word error rate of {wer:.1%} against yours "
                            "({words} words).", "谢谢：模型的转写与你的校正相比，词错误率为 {wer:.1%}（{words} 个词）。"),
    "feedback.nothing": ("There is no result to rate yet: run {product} first.", "还没有可评价的结果：请先运行{product}。"),
    "feedback.kind": ("“{kind}” is not a kind of feedback for {product}; use one of: {kinds}.",
                      "“{kind}”不是{product}的反馈类型；可用：{kinds}。"),
    "feedback.label": ("“{value}” is not a label of this result; use one of: {labels}.",
                       "“{value}”不是此结果的标签；可用：{labels}。"),
    "feedback.text_needed": ("Write the corrected text first.", "请先写出校正后的文本。"),
    "feedback.item_needed": ("Pick which one you mean first.", "请先选择要评价的条目。"),
    "feedback.item_range": ("There is no {item} in that result (it has {count}).", "该结果中没有第 {item} 个（共 {count} 个）。"),
    "feedback.title": ("Feedback", "反馈"),
    "feedback.product": ("Product", "产品"), "feedback.kind_label": ("Kind", "类型"),
    "feedback.value": ("Value", "值"), "feedback.item": ("Item", "条目"), "feedback.text": ("Text", "文本"),
    "feedback.request_id": ("Request id (empty = your latest)", "请求编号（留空 = 最近一次）"),
    "feedback.send": ("Send feedback", "发送反馈"),
    "feedback.name.copy": ("Marketing copy", "营销文案"), "feedback.name.sentiment": ("Sentiment", "情感分析"),
    "feedback.name.recommend": ("Recommendations", "推荐"), "feedback.name.speech": ("Speech to text", "语音转文字"),
    "feedback.name.image": ("Image generation", "图像生成"),
})

PRODUCT_KINDS = {
    "copy": ("up", "down", "pick", "edit"),
    "sentiment": ("correction", "confirm"),
    "recommend": ("not_interested", "liked"),
    "speech": ("correction",),
    "image": ("favourite", "down"),
}
KINDS = tuple(dict.fromkeys(k for kinds in PRODUCT_KINDS.values() for k in kinds))
RATED_ACTIONS = {
    "copy": ("copy_generate", "copy_regenerate"),
    "sentiment": ("sentiment",),
    "recommend": ("recommend_user", "recommend_cold_start", "recommend_similar"),
    "speech": ("speech_transcribe",),
    "image": ("image_generate",),
}
SCORES = {"up": 1.0, "down": 0.0, "pick": 1.0, "confirm": 1.0, "favourite": 1.0, "liked": 1.0,
          "not_interested": 0.0}
MAX_TEXT = 100_000
_SESSIONS = 2048
_session_lock = threading.Lock()
_session_items: OrderedDict[tuple[str, str], dict[str, list[str]]] = OrderedDict()


# ---- word error rate -------------------------------------------------------------------------
_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+(?:'[^\W_]+)*", re.UNICODE)


def tokens(text: str) -> list[str]:
    """Words (lower case, no punctuation); each Chinese character counts as a word."""
    return _TOKEN.findall((text or "").lower())


def word_error_rate(reference: str, hypothesis: str) -> tuple[float, int]:
    """(edits / reference words, reference words): Levenshtein over words."""
    ref, hyp = tokens(reference), tokens(hypothesis)
    if not ref:
        return (0.0 if not hyp else 1.0), 0
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        row = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (r != h))
        previous = row
    return previous[-1] / len(ref), len(ref)


# ---- recording ---------------------------------------------------------------------------------
def session_items(session_hash: str | None, product: str) -> dict[str, list[str]]:
    """Items this session rated, by kind (recommendations: liked, not_interested), in memory."""
    with _session_lock:
        found = _session_items.get((session_hash or "", product), {})
        return {kind: list(items) for kind, items in found.items()}


def _remember_item(session_hash: str | None, product: str, kind: str, item: str) -> None:
    if not session_hash or not item:
        return
    with _session_lock:
        kinds = _session_items.setdefault((session_hash, product), {})
        _session_items.move_to_end((session_hash, product))
        for other in kinds.values():  # the latest opinion of an item wins
            if item in other:
                other.remove(item)
        kinds.setdefault(kind, []).append(item)
        while len(_session_items) > _SESSIONS:
            _session_items.popitem(last=False)


def record(product: str, kind: str, value: str = "", item: str = "", text: str = "", request_id: str = "",
           request=None) -> dict:
    """Check and store one piece of feedback; returns the stored row (without content when off)."""
    lang = request_lang(request)
    session_hash = getattr(request, "session_hash", None)
    if product not in PRODUCT_KINDS:
        raise UserError(t("feedback.kind", lang, kind=kind, product=product, kinds=", ".join(PRODUCT_KINDS)))
    if kind not in PRODUCT_KINDS[product]:
        raise UserError(t("feedback.kind", lang, kind=kind, product=product, kinds=", ".join(PRODUCT_KINDS[product])))
    rated = capture.get(request_id) if request_id else capture.latest(session_hash, RATED_ACTIONS[product])
    if rated is None and not request_id:
        raise UserError(t("feedback.nothing", lang, product=t(f"feedback.name.{product}", lang)))
    memo = rated.memo if rated is not None else {}
    fields = rated.fields if rated is not None else {}
    value, item, text = (value or "").strip(), (item or "").strip(), (text or "").strip()
    row = {"id": uuid.uuid4().hex, "ts": time.time(), "request_id": rated.id if rated else request_id,
           "product": product, "action": rated.action if rated else None, "model": fields.get("model"),
           "template": fields.get("template"), "preset": fields.get("preset"), "kind": kind,
           "value": value[:200] or None, "item": item[:200] or None, "score": SCORES.get(kind),
           "session": session_hash, "lang": lang, "language": memo.get("language")}
    content = None
    if product == "sentiment":
        labels = memo.get("labels") or ()
        value = memo.get("label", value) if kind == "confirm" else value
        if labels and value not in labels:
            raise UserError(t("feedback.label", lang, value=value, labels=", ".join(labels)))
        row.update(value=value, predicted=memo.get("label"))
        if memo.get("label") is not None:
            row["score"] = 1.0 if value == memo.get("label") else 0.0
        content = memo.get("text")
    elif product == "speech" or kind == "edit":
        if not text:
            raise UserError(t("feedback.text_needed", lang))
        original = memo.get("transcript") if product == "speech" else _variant(memo, item)
        if original is not None:
            row["wer"], row["words"] = word_error_rate(text, original)
        content = text
    elif product in ("image", "copy"):
        _check_item(item, memo.get("count"), lang)
    elif product == "recommend":
        if not item:
            raise UserError(t("feedback.item_needed", lang))
    if settings().store_content and content:
        row["text"] = content[:MAX_TEXT]
    store.submit("feedback", row)
    if product == "recommend":
        _remember_item(session_hash, product, kind, item)
    return row


def _variant(memo: dict, item: str) -> str | None:
    variants = memo.get("variants") or []
    try:
        return variants[int(item) - 1]
    except (ValueError, IndexError):
        return None


def _check_item(item: str, count, lang: str) -> None:
    if not item:
        raise UserError(t("feedback.item_needed", lang))
    if count:
        try:
            ok = 1 <= int(item) <= int(count)
        except ValueError:
            ok = False
        if not ok:
            raise UserError(t("feedback.item_range", lang, item=escape(item), count=count))


def message(row: dict, lang: str) -> str:
    if row.get("wer") is not None and row["product"] == "speech":
        return t("feedback.thanks_wer", lang, wer=row["wer"], words=row["words"])
    return t("feedback.thanks", lang)


# ---- the UI and the API --------------------------------------------------------------------------
@user_errors
def send(product: str, kind: str, value: str = "", item: str = "", text: str = "", request_id: str = "",
         request: gr.Request = None) -> str:
    """API: /feedback. Returns a confirmation (with the request id it was attached to)."""
    row = record(product, kind, value, item, text, request_id, request)
    return f"{message(row, request_lang(request))} ({row['request_id'] or '-'})"


def my_requests(request: gr.Request = None) -> list[dict]:
    """API: /feedback_requests. This session's recent requests, newest last (ids to refer to)."""
    return [{"request_id": r.id, "product": r.product, "action": r.action,
             "time": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.ts)), "outcome": r.outcome}
            for r in capture.session_requests(getattr(request, "session_hash", None))]


def buttons(product: str, choices: list[tuple[str, str]], value=None, item=None, text=None, then=None):
    """Feedback buttons for a product's tab: one per (label key, kind); each sends the given
    components' values for this session's latest result. Returns the status Markdown."""
    made = [(gr.Button(I18N(label), size="sm", scale=0, min_width=120), kind) for label, kind in choices]
    status = gr.Markdown()
    for button, kind in made:
        def handler(value_=None, item_=None, text_=None, request: gr.Request = None, kind=kind):
            lang = request_lang(request)
            row = record(product, kind, str(value_ or ""), str(item_ or ""), str(text_ or ""), "", request)
            return message(row, lang)
        inputs = [c if c is not None else gr.State("") for c in (value, item, text)]
        event = button.click(user_errors(handler), inputs, status, api_visibility="private",
                             concurrency_limit=8, concurrency_id="feedback")
        if then is not None:
            then(event)
    return status


def build_api() -> None:
    """The hidden components behind /feedback (validated like every input: SafeBlocks)."""
    with gr.Group(visible=False):
        product = gr.Dropdown(list(PRODUCT_KINDS), value="sentiment", label=I18N("feedback.product"))
        kind = gr.Dropdown(list(KINDS), value="confirm", label=I18N("feedback.kind_label"))
        value = gr.Textbox(label=I18N("feedback.value"), max_length=200)
        item = gr.Textbox(label=I18N("feedback.item"), max_length=200)
        text = gr.Textbox(label=I18N("feedback.text"), max_length=MAX_TEXT)
        request_id = gr.Textbox(label=I18N("feedback.request_id"), max_length=32)
        out = gr.Markdown()
        go = gr.Button(I18N("feedback.send"))
        listed = gr.JSON()
        go.click(send, [product, kind, value, item, text, request_id], out, api_name="feedback",
                 concurrency_limit=8, concurrency_id="feedback")
        gr.Button(visible=False).click(my_requests, None, listed, api_name="feedback_requests", queue=False)
