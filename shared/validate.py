"""Every request's inputs are checked once, at the edge, before any work: in `SafeBlocks.process_api`,
which every event of the app goes through (browser and API alike).

The rules come from the components themselves, so the server enforces exactly what the browser does:
a Textbox's `max_length`, a Slider's or Number's range, a Radio's or Dropdown's choices, a Checkbox's
true/false, a File's shape; and the number of values an endpoint takes. Text is normalised (lone
surrogates become U+FFFD, NUL characters go), numbers must be finite. A failure is a `gr.Error` that
names the field, its range and what was sent, in the request's language, with user text escaped.

Batched events (several users' requests in one call) must not fail together for one bad request:
a bad sample's values are replaced by the components' defaults, and the handler asks
`batch_problem(i)` for the message of sample i.
"""
from __future__ import annotations

import contextvars
import logging
import math
import re

import gradio as gr
from gradio import components

from shared import capture
from shared.i18n import add, request_lang, t
from shared.ui import escape, internal_error

log = logging.getLogger(__name__)

add({
    "validate.count": ("This action takes {needed} values ({names}); {got} were sent.",
                       "此操作需要 {needed} 个值（{names}），但收到 {got} 个。"),
    "validate.number": ("“{field}” must be a number from {lo} to {hi}; got {value}.",
                        "“{field}”必须是 {lo} 到 {hi} 之间的数字；收到的是 {value}。"),
    "validate.finite": ("“{field}” must be a finite number; got {value}.", "“{field}”必须是有限的数字；收到的是 {value}。"),
    "validate.text": ("“{field}” must be text; got {value}.", "“{field}”必须是文本；收到的是 {value}。"),
    "validate.too_long": ("“{field}” is {n} characters long; the most is {limit}.",
                          "“{field}”长度为 {n} 个字符，最多 {limit} 个。"),
    "validate.choice": ("“{field}” must be one of: {choices}; got {value}.",
                        "“{field}”必须是以下之一：{choices}；收到的是 {value}。"),
    "validate.list": ("“{field}” must be a list of values; got {value}.", "“{field}”必须是一个值的列表；收到的是 {value}。"),
    "validate.bool": ("“{field}” must be true or false; got {value}.", "“{field}”必须是 true 或 false；收到的是 {value}。"),
    "validate.file": ("“{field}” must be a file (in Python: gradio_client.handle_file(path)); got {value}.",
                      "“{field}”必须是文件（Python 中使用 gradio_client.handle_file(path)）；收到的是 {value}。"),
})

_SURROGATE = re.compile("[\ud800-\udfff]")
_SHOWN_CHARS = 60  # how much of a bad value a message repeats
_batch_problems: contextvars.ContextVar[dict[int, str] | None] = contextvars.ContextVar("batch_problems", default=None)


class InvalidInput(ValueError):
    """One input is not acceptable; the message is for the user (translated; escaped where shown)."""


# ---- text ------------------------------------------------------------------------------------
def clean_text(text: str) -> str:
    """Text any library can encode: lone surrogates (invalid in UTF-8) become U+FFFD, NULs go."""
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
    return text.replace("\x00", "")


def clean_strings(value):
    """clean_text applied to every string inside a JSON-like value."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_strings(v) for v in value]
    if isinstance(value, dict):
        return {clean_strings(k) if isinstance(k, str) else k: clean_strings(v) for k, v in value.items()}
    return value


def shown(value) -> str:
    """A bad value as a message repeats it: short (escaped where it is shown, like all messages)."""
    text = repr(clean_strings(value))
    if len(text) > _SHOWN_CHARS:
        text = text[:_SHOWN_CHARS] + "…"
    return text


# ---- one component's value -------------------------------------------------------------------
def field_name(block, index: int, lang: str) -> str:
    label = getattr(block, "label", None)
    key = getattr(label, "key", None)  # gr.I18n data carries its key
    if key:
        return t(key, lang)
    if isinstance(label, str) and label:
        return label
    return f"input {index + 1}"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _choices(block) -> list:
    return [value for _, value in (block.choices or [])]


def check_value(block, value, field: str, lang: str):
    """The value cleaned, or InvalidInput. None (an empty field) passes: handlers say what is missing."""
    if value is None:
        return None
    value = clean_strings(value)
    if isinstance(block, (components.Slider, components.Number)):
        if not _is_number(value):
            raise InvalidInput(_range_message(block, field, value, lang))
        if not math.isfinite(value):
            raise InvalidInput(_range_message(block, field, value, lang))
        lo, hi = block.minimum, block.maximum
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise InvalidInput(_range_message(block, field, value, lang))
        return value
    if isinstance(block, components.Checkbox):
        if not isinstance(value, bool):
            raise InvalidInput(t("validate.bool", lang, field=field, value=shown(value)))
        return value
    if isinstance(block, components.Textbox):
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) or \
                (isinstance(value, float) and not math.isfinite(value)):
            raise InvalidInput(t("validate.text", lang, field=field, value=shown(value)))
        value = str(value)
        limit = getattr(block, "max_length", None)
        if limit and len(value) > limit:
            raise InvalidInput(t("validate.too_long", lang, field=field, n=len(value), limit=limit))
        return value
    if isinstance(block, (components.Dropdown, components.Radio, components.CheckboxGroup)):
        multiple = isinstance(block, components.CheckboxGroup) or getattr(block, "multiselect", False)
        if multiple and not isinstance(value, list):
            raise InvalidInput(t("validate.list", lang, field=field, value=shown(value)))
        values = value if multiple else [value]
        custom = getattr(block, "allow_custom_value", False)
        allowed = _choices(block)
        for item in values:
            if isinstance(item, (list, dict)) or (not custom and item not in allowed):
                listed = ", ".join(str(c) for c in allowed[:12]) + (", …" if len(allowed) > 12 else "")
                raise InvalidInput(t("validate.choice", lang, field=field, choices=listed, value=shown(item)))
        return value
    if isinstance(block, (components.File, components.Audio, components.Image, components.Video)):
        files = value if isinstance(value, list) else [value]
        if not files or not all(isinstance(f, dict) and (f.get("path") or f.get("url")) for f in files):
            raise InvalidInput(t("validate.file", lang, field=field, value=shown(value)))
        return value
    return value


def _range_message(block, field: str, value, lang: str) -> str:
    lo, hi = block.minimum, block.maximum
    if lo is None and hi is None:
        return t("validate.finite", lang, field=field, value=shown(value))
    return t("validate.number", lang, field=field, lo=_fmt(lo, "−∞"), hi=_fmt(hi, "∞"), value=shown(value))


def _fmt(bound, missing: str) -> str:
    if bound is None:
        return missing
    return f"{bound:g}" if isinstance(bound, float) else str(bound)


def check_count(blocks: list, inputs: list, lang: str) -> None:
    """InvalidInput when fewer values came than the endpoint takes, naming them all."""
    if len(inputs) < len(blocks):
        names = ", ".join(field_name(b, i, lang) for i, b in enumerate(blocks))
        raise InvalidInput(t("validate.count", lang, needed=len(blocks), names=names, got=len(inputs)))


def check_inputs(block_fn, inputs: list, lang: str) -> list:
    """Every input of one request, cleaned; InvalidInput names the first bad one."""
    blocks = list(block_fn.inputs)
    check_count(blocks, inputs, lang)
    cleaned = list(inputs)
    for i, block in enumerate(blocks):
        if isinstance(block, components.Component) and not block.stateful:
            cleaned[i] = check_value(block, inputs[i], field_name(block, i, lang), lang)
    return cleaned


def batch_problem(index: int) -> str | None:
    """In a batched handler: the validation message of sample `index`, if it was bad."""
    problems = _batch_problems.get()
    return problems.get(index) if problems else None


class SafeBlocks(gr.Blocks):
    """gr.Blocks whose every event checks its inputs first (see the module's docstring), and whose
    unexpected errors outside the handlers (preprocessing, postprocessing) carry an error id."""

    async def process_api(self, block_fn, inputs, state=None, request=None, iterator=None, *args, **kwargs):
        fn = self.fns[block_fn] if isinstance(block_fn, int) else block_fn
        first_request = request[0] if isinstance(request, list) and request else request
        lang = request_lang(first_request)
        event_id = kwargs.get("event_id")
        records = capture.resume(event_id) if iterator is not None else self._begin(fn, request, lang, event_id)
        token, measuring = None, capture.activate(records)
        try:
            if iterator is None and inputs is not None:  # a streaming event's later steps send no inputs
                if fn.batch:
                    inputs, problems = self._check_batch(fn, inputs, request)
                    token = _batch_problems.set(problems)
                    for k in problems:
                        capture.note(index=k, outcome="user_error")
                else:
                    try:
                        inputs = check_inputs(fn, list(inputs), lang)
                    except InvalidInput as err:
                        raise gr.Error(escape(err), print_exception=False) from None
                    capture.from_inputs(records, fn, inputs)
            try:
                output = await super().process_api(fn, inputs, state, request, iterator, *args, **kwargs)
            except gr.Error:
                raise
            except Exception as err:
                raise internal_error(err, lang) from err
        except gr.Error as err:
            error_id = getattr(err, "error_id", None)
            capture.finish(records, "server_error" if error_id else "user_error", error_id, event_id)
            raise
        except BaseException:  # cancelled (Stop, a closed page)
            capture.finish(records, "cancelled", event_id=event_id)
            raise
        finally:
            capture.deactivate(measuring)
            if token is not None:
                _batch_problems.reset(token)
        if isinstance(output, dict) and output.get("is_generating"):
            capture.keep_streaming(event_id, records)
        else:
            capture.finish(records, event_id=event_id)
        return output

    def _begin(self, fn, request, lang: str, event_id):
        """Open this event's records (one per request of a batch); never fails the event."""
        try:
            queue = getattr(self, "_queue", None)
            live = getattr(queue, "event_ids_to_events", None) or {}
            if capture._pending:
                capture.sweep_cancelled(live)
            event = live.get(event_id) if event_id else None
            requests = request if isinstance(request, list) else [request]
            langs = [request_lang(r) for r in requests] if len(requests) > 1 else [lang]
            return capture.begin(fn, requests, langs, getattr(event, "enqueue_time", None))
        except Exception:
            log.debug("capture did not start", exc_info=True)
            return None

    @staticmethod
    def _check_batch(fn, inputs, requests) -> tuple[list, dict[int, str]]:
        blocks = list(fn.inputs)
        try:
            check_count(blocks, inputs, request_lang(requests[0] if isinstance(requests, list) and requests else requests))
        except InvalidInput as err:
            raise gr.Error(escape(err), print_exception=False) from None
        samples = [list(s) for s in zip(*inputs)]
        problems: dict[int, str] = {}
        for k, sample in enumerate(samples):
            request = requests[k] if isinstance(requests, list) and k < len(requests) else requests
            try:
                samples[k] = check_inputs(fn, sample, request_lang(request))
            except InvalidInput as err:
                problems[k] = str(err)
                samples[k] = [getattr(b, "value", None) for b in blocks]  # passes Gradio's own checks
        return [list(column) for column in zip(*samples)] if samples else inputs, problems
