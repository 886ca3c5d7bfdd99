"""A line in a tab while a set-up step it waits for runs (shared/setup.py): "faster engine installing:
step 2 of 4, 3 min so far". The product renders the text (it knows which steps it waits for and what it
runs on meanwhile); this polls the status file every few seconds while a set-up is in progress, and
stops polling once it has finished."""
from __future__ import annotations

from typing import Callable

import gradio as gr

from shared import setup
from shared.i18n import request_lang, t


def in_progress() -> bool:
    """A set-up is running (or about to start in the background) with this cache."""
    data = setup.read_status()
    if data is None:
        return setup.background_wanted()
    return data.get("finished") is None and not any(
        r.get("state") == setup.INTERRUPTED for r in data.get("steps", []))


def live_note(render: Callable[[str], str], every: float = 3.0) -> gr.Markdown:
    """A Markdown that shows render(lang) (often ""), refreshed while a set-up is in progress."""
    note = gr.Markdown(lambda: render("en"))  # a callable value is read again on every page load
    timer = gr.Timer(every, active=in_progress() or setup.background_wanted())

    def tick(request: gr.Request = None):
        return render(request_lang(request)), gr.Timer(active=in_progress())

    timer.tick(tick, None, [note, timer], api_visibility="private", queue=False, show_progress="hidden")
    return note


def waiting_text(lang: str, waits: list[tuple[str, str]], step: str, failed_key: str) -> str:
    """The line of a tab that waits on set-up steps: waits = [(step, i18n key)] in order, the first one
    still running wins ("{step} of {total}, {minutes}" come from the status); then `failed_key` if its own
    `step` failed; else "" (nothing to say)."""
    for waited, key in waits:
        waiting = setup.waiting_on(waited)
        if waiting:
            return t(key, lang, **waiting)
    failed = setup.failed(step)
    return t(failed_key, lang, note=failed) if failed else ""
