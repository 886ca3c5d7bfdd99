"""Feedback on any result, one component for every product: a rating refers to the request it rates
(by id, or this session's latest request of that product), is stored with that request's model and
template, and feeds the Insights tab. Products add buttons with `buttons(...)`; API callers use
`/feedback` (and `/feedback_requests` for this session's request ids).

The kinds, their scores and their checks are each product's own (`Product.feedback`, see
shared/descriptor.py): this module knows no product. The checks products share (an item of the
result, a label, a corrected text scored by word error rate) are here for their hooks. User text (a
correction, an edit, the rated input) is stored only with AIPM_STORE_CONTENT=1.
"""
from __future__ import annotations

import re
import threading
import time
import uuid
from collections import OrderedDict

import gradio as gr

from shared import capture, descriptor, store
from shared.config import settings
from shared.descriptor import Rating
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
    "feedback.product_unknown": ("“{product}” is not a product of this app; use one of: {products}.",
                                 "“{product}”不是本应用的产品；可用：{products}。"),
})

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
    """Items this session rated, by kind (for kinds declared with remember_item), in memory."""
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
    declared = descriptor.get(product)
    if declared is None:
        raise UserError(t("feedback.product_unknown", lang, product=escape(str(product)[:40]),
                          products=", ".join(descriptor.names())))
    kind_of = declared.kind(kind)
    if kind_of is None:
        raise UserError(t("feedback.kind", lang, kind=escape(str(kind)[:40]), product=product,
                          kinds=", ".join(declared.kind_names)))
    rated = capture.get(request_id) if request_id else capture.latest(session_hash, declared.rated)
    if rated is None and not request_id:
        raise UserError(t("feedback.nothing", lang, product=t(declared.title, lang)))
    memo = rated.memo if rated is not None else {}
    fields = rated.fields if rated is not None else {}
    value, item, text = (value or "").strip(), (item or "").strip(), (text or "").strip()
    row = {"id": uuid.uuid4().hex, "ts": time.time(), "request_id": rated.id if rated else request_id,
           "product": product, "action": rated.action if rated else None, "model": fields.get("model"),
           "template": fields.get("template"), "preset": fields.get("preset"), "kind": kind,
           "value": value[:200] or None, "item": item[:200] or None, "score": kind_of.score,
           "session": session_hash, "lang": lang, "language": memo.get("language")}
    rating = Rating(kind, value, item, text, memo, lang)
    if kind_of.check is not None:
        kind_of.check(rating)  # raises UserError to refuse; fills updates, measures, content, message
    row.update(rating.updates)
    row.update(rating.measures)  # a known column (wer, words) or the measures JSON (shared/store/schema.py)
    if settings().store_content and rating.content:
        row["text"] = rating.content[:MAX_TEXT]
    store.submit("feedback", row)
    if kind_of.remember_item:
        _remember_item(session_hash, product, kind, item)
    if rating.message:
        row["message"] = rating.message
    return row


def message(row: dict, lang: str) -> str:
    """The thank-you line: a check hook's own (row["message"]), else the plain one."""
    if row.get("message"):
        key, values = row["message"]
        return t(key, lang, **values)
    return t("feedback.thanks", lang)


# ---- checks that products' hooks share -------------------------------------------------------
def require_text(rating: Rating) -> None:
    if not rating.text:
        raise UserError(t("feedback.text_needed", rating.lang))


def require_item(rating: Rating) -> None:
    if not rating.item:
        raise UserError(t("feedback.item_needed", rating.lang))


def check_item(rating: Rating) -> None:
    """An item of the result is named, within 1..memo["count"] when the result said how many it had."""
    require_item(rating)
    count = rating.memo.get("count")
    if count:
        try:
            ok = 1 <= int(rating.item) <= int(count)
        except ValueError:
            ok = False
        if not ok:
            raise UserError(t("feedback.item_range", rating.lang, item=escape(rating.item), count=count))


def check_label(rating: Rating) -> None:
    """A label given for a classified result (the model's own when confirmed) must be one of the result's
    labels; scored 1 when it agrees with the model, 0 when it corrects it."""
    labels = rating.memo.get("labels") or ()
    predicted = rating.memo.get("label")
    value = rating.memo.get("label", rating.value) if rating.kind == "confirm" else rating.value
    if labels and value not in labels:
        raise UserError(t("feedback.label", rating.lang, value=value, labels=", ".join(labels)))
    rating.updates.update(value=value, predicted=predicted)
    if predicted is not None:
        rating.updates["score"] = 1.0 if value == predicted else 0.0
    rating.content = rating.memo.get("text")


def score_correction(rating: Rating, original: str | None, thanks_with_rate: bool = False) -> None:
    """A corrected text against the model's (`original`): word error rate and words are measured; with
    `thanks_with_rate` the thank-you line tells the user the rate."""
    require_text(rating)
    if original is not None:
        wer, words = word_error_rate(rating.text, original)
        rating.measures.update(wer=wer, words=words)
        if thanks_with_rate:
            rating.message = ("feedback.thanks_wer", {"wer": wer, "words": words})
    rating.content = rating.text


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
        products = descriptor.registered()  # those the app registered before building (app.py)
        kinds = list(dict.fromkeys(k for p in products for k in p.kind_names))
        product = gr.Dropdown([p.name for p in products], value=products[0].name if products else None,
                              label=I18N("feedback.product"))
        kind = gr.Dropdown(kinds, value=kinds[0] if kinds else None, label=I18N("feedback.kind_label"))
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
