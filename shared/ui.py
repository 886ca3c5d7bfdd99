"""What every product tab shares: turning failures into messages a customer understands,
progress that includes the first-use model load, and the queue's concurrency groups.
"""
from __future__ import annotations

import contextlib
import functools
import html
import inspect
import logging
import threading
import uuid

from shared.i18n import request_lang, t
from shared.registry import MemoryBudgetError, ModelInUseError, ModelLoadError

log = logging.getLogger(__name__)

# Events that run a model share one concurrency group, so two heavy jobs never fight over
# the same CPU cores or GPU; light events (status, listing columns) run freely.
HEAVY = "heavy-model"
HEAVY_LIMIT = 1


class UserError(ValueError):
    """Bad input, with a message meant for the user (already in their language)."""


def escape(text) -> str:
    """User text made safe to show in a toast or Markdown: no HTML is rendered from it."""
    return html.escape(str(text), quote=False)


def internal_error(err: BaseException, lang: str = "en"):
    """A real bug: logged with its traceback under an id that the user is shown."""
    import gradio as gr

    error_id = uuid.uuid4().hex[:10]
    log.error("unexpected error %s: %s", error_id, err, exc_info=err)
    error = gr.Error(t("common.error.internal", lang, id=error_id), print_exception=False)
    error.error_id = error_id  # recorded with the request (shared/capture.py)
    return error


def to_gr_error(err: Exception, lang: str = "en"):
    """The message a user sees for an exception. Messages may repeat user input, so they are
    escaped (Gradio renders a toast's message as HTML)."""
    import gradio as gr

    if isinstance(err, gr.Error):
        return err
    if isinstance(err, UserError):
        return gr.Error(escape(err), print_exception=False)
    if isinstance(err, ModelLoadError):
        return gr.Error(escape(t("common.error.model", lang, detail=str(err))), print_exception=False)
    if isinstance(err, MemoryBudgetError):  # "busy": others hold the room; "budget": it never fits
        key = "common.error.busy" if getattr(err, "kind", "") == "busy" else "common.error.budget"
        return gr.Error(escape(t(key, lang, detail=str(err))), print_exception=False)
    if isinstance(err, ModelInUseError):
        return gr.Error(escape(t("common.error.in_use", lang, name=err.name, leases=err.leases)),
                        print_exception=False)
    return internal_error(err, lang)


def user_errors(fn):
    """Wrap an event handler (function or generator): any exception reaches the user as gr.Error,
    with a traceback in the log for the unexpected ones. The handler may take `request`."""
    signature = inspect.signature(fn)

    def lang_of(args, kwargs):
        try:
            request = signature.bind_partial(*args, **kwargs).arguments.get("request")
        except TypeError:
            request = None
        return request_lang(request)

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as err:
                raise to_gr_error(err, lang_of(args, kwargs)) from err
        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as err:
            raise to_gr_error(err, lang_of(args, kwargs)) from err
    return wrapper


def progress_adapter(progress):
    """A registry Progress callback that feeds a gr.Progress (or nothing)."""
    if progress is None:
        return None

    def report(fraction: float, desc: str) -> None:
        try:
            progress(fraction, desc=desc)
        except Exception:  # progress is cosmetic; never fail the work for it
            pass
    return report


def examples(samples: list, inputs: list, **kwargs):
    """gr.Examples without column headers: Gradio 6.31 shows translated (I18N) component labels
    in an Examples table as raw `__i18n__{...}` text, and the inputs are labelled right above."""
    import gradio as gr

    block = gr.Examples(samples, inputs=inputs, **kwargs)
    block.dataset.headers = []
    return block


class SessionStops:
    """One Stop flag per browser session, for streaming work that checks a flag between steps.

        with stops.running(request) as stop:   # in the generator
            for step in work(stop=stop): yield step
        stops.stop(request)                    # in the Stop button's handler

    When the generator ends or Gradio closes it (Stop cancels the event, the page closes), the
    flag is set, so a model thread working for it ends too.
    """

    def __init__(self):
        self._flags: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(request) -> str:
        return getattr(request, "session_hash", None) or "default"

    @contextlib.contextmanager
    def running(self, request):
        key, stop = self.key(request), threading.Event()
        with self._lock:
            self._flags[key] = stop
        try:
            yield stop
        finally:
            stop.set()
            with self._lock:
                if self._flags.get(key) is stop:
                    del self._flags[key]

    def stop(self, request) -> bool:
        """Set this session's flag; False when nothing of this session is running."""
        with self._lock:
            stop = self._flags.get(self.key(request))
        if stop is None:
            return False
        stop.set()
        return True
