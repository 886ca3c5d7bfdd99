"""The Customer call tab: a recording in, each step's result shown as it finishes (Stop at any step
keeps what is done), every result editable, and "re-run from" a step after an edit."""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from shared import capture, feedback
from shared.i18n import I18N, add, request_lang
from shared.ui import HEAVY, HEAVY_LIMIT, SessionStops, examples, user_errors

from workflows.customer_call import report, strings  # noqa: F401  (strings registers the texts)
from workflows.customer_call.pipeline import STEPS, Call, Item, Turn, analyse

STOPS = SessionStops()
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "assets" / "calls"
TURN_COLUMNS = ["turn", "speaker", "name", "role", "start", "end", "text"]
ITEM_COLUMNS = ["kind", "issue", "evidence", "turn", "time", "severity"]
STEP_NAMES = {"transcript": "1 transcript", "sentiment": "2 sentiment", "issues": "3 likes and complaints",
              "email": "4 follow-up email", "image": "5 header image"}

add({
    "call.audio": ("Call recording", "通话录音"), "call.language": ("Language", "语言"),
    "call.run": ("Analyse the call", "分析通话"), "call.stop": ("Stop", "停止"),
    "call.rerun": ("Re-run from", "从此步重新运行"), "call.rerun_go": ("Re-run", "重新运行"),
    "call.transcript": ("Transcript (edit the text, names or roles, then re-run from sentiment)",
                        "文字记录（可修改文字、姓名或角色，然后从情绪分析重新运行）"),
    "call.sentiment": ("Customer sentiment over the call", "客户情绪随通话的变化"),
    "call.sentiment_table": ("Customer turns", "客户发言"),
    "call.items": ("What the customer liked and complained about (edit, then re-run from the email)",
                   "客户喜欢和抱怨的内容（可修改，然后从邮件重新运行）"),
    "call.email": ("Follow-up email (editable)", "跟进邮件（可编辑）"),
    "call.image_prompt": ("Image prompt (edit, then re-run from the image)", "图像提示词（可修改，然后从图像重新运行）"),
    "call.image": ("Header image", "邮件头图"), "call.files": ("Report, JSON and subtitles", "报告、JSON 和字幕"),
    "call.json": ("Every step as JSON", "每一步的 JSON"),
    "call.fb.turn": ("Turn", "发言编号"), "call.fb.wrong_sentiment": ("Wrong sentiment for this turn", "这段情绪判断有误"),
    "call.fb.missed": ("A complaint it missed", "遗漏的问题"), "call.fb.missed_send": ("Report missed complaint", "提交遗漏的问题"),
    "call.fb.email_up": ("👍 Email", "👍 邮件"), "call.fb.email_down": ("👎 Email", "👎 邮件"),
    "call.fb.email_edit": ("Send my edit of the email", "提交我修改后的邮件"),
    "call.fb.transcript_fix": ("Corrected transcript", "校正后的文字记录"),
    "call.fb.transcript_send": ("Send the corrected transcript", "提交校正后的文字记录"),
    "call.feedback": ("Feedback on each step", "对每一步的反馈"),
})


def status_line(call: Call) -> str:
    parts = []
    for step in STEPS:
        if step in call.done:
            parts.append(f"✅ {STEP_NAMES[step]} ({call.timings.get(step, 0):.1f} s)")
        elif step == call.running:
            parts.append(f"⏳ {STEP_NAMES[step]}")
        else:
            parts.append(f"⬜ {STEP_NAMES[step]}")
    notes = "".join(f"\n\n⚠️ {note}" for note in call.notes)
    return " · ".join(parts) + notes


def turn_rows(call: Call) -> list[list]:
    return [[i + 1, t.speaker, call.name(t.speaker), call.roles.get(t.speaker, ""), t.start, t.end, t.text]
            for i, t in enumerate(call.turns)]


def item_rows(call: Call) -> list[list]:
    return [[i.kind, i.issue, i.evidence, i.turn + 1, i.time, i.severity] for i in call.items]


def sentiment_points(call: Call) -> list[dict]:
    return [{"time": row["time"], "score": row["score"], "label": row["label"]} for row in call.sentiment]


def outputs_of(call: Call):
    import pandas as pd

    done = not call.running
    files = report.write_all(call) if done and call.done else None
    sentiment_rows = [[row["turn"] + 1, row["time"], row["label"], row["score"], "↕" if row["turn"] in call.changes
                       else ""] for row in call.sentiment]
    return (status_line(call), pd.DataFrame(turn_rows(call), columns=TURN_COLUMNS),
            pd.DataFrame(sentiment_points(call), columns=["time", "score", "label"]),
            pd.DataFrame(sentiment_rows, columns=["turn", "time", "label", "score", "changed"]),
            pd.DataFrame(item_rows(call), columns=ITEM_COLUMNS), call.email, call.image_prompt, call.image,
            files, call.to_json(), call.to_json())


def _note(call: Call) -> None:
    """What this request measured and what feedback compares with."""
    audio = max([t.end for t in call.turns] + [0.0])
    capture.note(audio_s=round(audio, 2), turns=len(call.turns), items=len(call.items), steps=len(call.done),
                 template=call.language,
                 memo={"transcript": " ".join(t.text for t in call.turns), "email": call.email,
                       "count": len(call.turns), "language": call.language})


@user_errors
def run_call(audio, language: str, request: gr.Request = None):
    """Stream the whole workflow on a recording (API: /call_analyse)."""
    if not audio:
        raise gr.Error("Record or upload a call first." if request_lang(request) == "en" else "请先录制或上传通话。")
    with STOPS.running(request) as stop:
        for call in analyse(audio, language or "auto", stop=stop):
            if not call.running:
                _note(call)
            yield outputs_of(call)


@user_errors
def rerun(step: str, state: dict, turns, items, email: str, image_prompt: str, request: gr.Request = None):
    """Apply the edits on screen to the call, then re-run from `step` (API: /call_rerun)."""
    call = edited(Call.from_json(state or {}), turns, items, email, image_prompt)
    with STOPS.running(request) as stop:
        for call in analyse(call.audio, call.language, call=call, from_step=step, stop=stop):
            if not call.running:
                _note(call)
            yield outputs_of(call)


def edited(call: Call, turns, items, email: str, image_prompt: str) -> Call:
    """The call with what the user changed in the tables and boxes."""
    import pandas as pd

    if isinstance(turns, pd.DataFrame) and not turns.empty:
        call.turns = [Turn(str(r["speaker"]), float(r["start"]), float(r["end"]), str(r["text"]))
                      for _, r in turns.iterrows() if str(r["text"]).strip()]
        for _, r in turns.iterrows():
            call.names[str(r["speaker"])] = str(r["name"]).strip() or str(r["speaker"])
            if str(r["role"]) in ("agent", "customer"):
                call.roles[str(r["speaker"])] = str(r["role"])
    if isinstance(items, pd.DataFrame):
        call.items = []
        for _, r in items.iterrows():
            if not str(r["issue"]).strip():
                continue
            turn = int(r["turn"]) - 1 if str(r["turn"]).strip().isdigit() else -1
            time_s = call.turns[turn].start if 0 <= turn < len(call.turns) else 0.0
            kind = str(r["kind"]) if str(r["kind"]) in ("liked", "complaint") else "complaint"
            call.items.append(Item(kind, str(r["issue"]), str(r["evidence"]), turn, time_s, str(r["severity"])))
    call.email = email or call.email
    call.image_prompt = image_prompt or call.image_prompt
    return call


def stop_call(request: gr.Request = None) -> None:
    STOPS.stop(request)


def bundled_examples() -> list[list]:
    return [[str(path), "auto"] for path in sorted(EXAMPLES_DIR.glob("*.flac"))]


def results() -> list:
    """The components a run streams into, in outputs_of's order (the overview shows them too)."""
    status = gr.Markdown()
    turns = gr.Dataframe(headers=TURN_COLUMNS, label=I18N("call.transcript"), interactive=True, wrap=True,
                         max_height=360)
    with gr.Row():
        plot = gr.LinePlot(x="time", y="score", label=I18N("call.sentiment"), y_lim=[-1, 1])
        sentiment = gr.Dataframe(label=I18N("call.sentiment_table"), interactive=False, max_height=260)
    items = gr.Dataframe(headers=ITEM_COLUMNS, label=I18N("call.items"), interactive=True, wrap=True)
    with gr.Row():
        email = gr.Textbox(label=I18N("call.email"), lines=10, max_length=20000, scale=3)
        with gr.Column(scale=1, min_width=200):
            image = gr.Image(label=I18N("call.image"), type="filepath", interactive=False)
            image_prompt = gr.Textbox(label=I18N("call.image_prompt"), max_length=300)
    files = gr.File(label=I18N("call.files"), file_count="multiple")
    with gr.Accordion(I18N("call.json"), open=False):
        details = gr.JSON()
    state = gr.JSON(visible=False)
    return [status, turns, plot, sentiment, items, email, image_prompt, image, files, details, state]


def build_tab() -> None:
    gr.Markdown(I18N("call.intro"))
    with gr.Row():
        with gr.Column(scale=2, min_width=300):
            audio = gr.Audio(sources=["upload", "microphone"], type="filepath", label=I18N("call.audio"))
            language = gr.Radio([("auto", "auto"), ("English", "en"), ("中文", "zh")], value="auto",
                                label=I18N("call.language"))
            with gr.Row():
                run = gr.Button(I18N("call.run"), variant="primary")
                stop = gr.Button(I18N("call.stop"), variant="stop")
            with gr.Row():
                step = gr.Dropdown(list(STEPS), value="sentiment", label=I18N("call.rerun"), scale=2)
                again = gr.Button(I18N("call.rerun_go"), scale=1)
            if bundled_examples():
                examples(bundled_examples(), inputs=[audio, language])
        with gr.Column(scale=5):
            outputs = results()
            status, turns, plot, sentiment, items, email, image_prompt, image, files, details, state = outputs
            with gr.Accordion(I18N("call.feedback"), open=False):
                with gr.Row():
                    turn_no = gr.Textbox(label=I18N("call.fb.turn"), max_length=4, scale=0, min_width=90)
                    feedback.buttons("customer_call", [("call.fb.wrong_sentiment", "wrong_sentiment")], item=turn_no)
                missed = gr.Textbox(label=I18N("call.fb.missed"), max_length=500)
                feedback.buttons("customer_call", [("call.fb.missed_send", "missed_complaint")], text=missed)
                feedback.buttons("customer_call", [("call.fb.email_up", "email_up"), ("call.fb.email_down", "email_down"),
                                                   ("call.fb.email_edit", "email_edit")], text=email)
                fixed = gr.Textbox(label=I18N("call.fb.transcript_fix"), lines=4, max_length=100_000)
                feedback.buttons("customer_call", [("call.fb.transcript_send", "transcript_fix")], text=fixed)
    event = run.click(run_call, [audio, language], outputs, api_name="call_analyse",
                      concurrency_limit=HEAVY_LIMIT, concurrency_id=HEAVY)
    again_event = again.click(rerun, [step, state, turns, items, email, image_prompt], outputs, api_name="call_rerun",
                              concurrency_limit=HEAVY_LIMIT, concurrency_id=HEAVY)
    stop.click(stop_call, None, None, cancels=[event, again_event], api_name="call_stop", queue=False)
