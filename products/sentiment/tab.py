"""The Sentiment tab: one text (batched across users), or a whole file with progress."""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from shared import capture, feedback
from shared.i18n import I18N, STRINGS, add, request_lang, t
from shared.outputs import request_dir
from shared.ui import HEAVY, HEAVY_LIMIT, UserError, escape, progress_adapter, user_errors, examples
from shared.validate import batch_problem
from shared.zerogpu import gpu

from products.sentiment import clauses, core, files, improve

add({
    "sentiment.fb.wrong": ("Wrong? The right label is", "结果不对？正确的标签是"),
    "sentiment.fb.send": ("Send correction", "提交更正"),
    "sentiment.fb.confirm": ("👍 Right", "👍 正确"),
})

EXAMPLES = [
    ["I absolutely love this phone, the battery lasts for days!", "auto"],
    ["The delivery was late and the box arrived broken. Never again.", "auto"],
    ["The meeting has been moved to 3pm on Thursday.", "auto"],
    ["The battery life is fantastic but the screen scratches way too easily.", "auto"],
    ["菜的味道很好，但是送餐太慢了，到的时候都凉了。", "auto"],
    ["酒店位置很好，房间干净，下次还会再来。", "auto"],
    ["质量很差，用了两天就坏了，非常失望。", "auto"],
]


def label_text(label: str, lang_ui: str) -> str:
    """The label in the page's language; a configured model's own label names stay as they are."""
    key = f"sentiment.label.{label}"
    return t(key, lang_ui) if key in STRINGS["en"] else label


@gpu(duration=30)
@user_errors
def analyse(texts: list[str], languages: list[str], request: gr.Request = None):
    """Batched endpoint: concurrent requests share one forward pass per language.

    Bad input in a batch of one raises gr.Error; in a larger batch only that request gets the
    message, so one user's empty box never fails another user's request. (Gradio 6.31's
    `validator=` does not work with `batch=True`, so validation happens here.)"""
    lang_ui = request_lang(request)
    results: list = [None] * len(texts)
    spans: list = [None] * len(texts)
    notes: list = [""] * len(texts)
    errors: list = [None] * len(texts)
    todo = {}
    for i, (text, language) in enumerate(zip(texts, languages)):
        try:
            if problem := batch_problem(i):  # refused at the edge (shared/validate.py)
                raise UserError(problem)
            todo.setdefault(language, []).append((i, core.check_text(text, lang_ui)))
        except UserError as err:
            errors[i] = err
            notes[i] = f"⚠️ {escape(err)}"  # one bad request must not fail the others in its batch
            capture.note(index=i, outcome="user_error")
    for language, items in todo.items():
        for (i, text), scored in zip(items, core.score_with_clauses([x for _, x in items], language, lang_ui=lang_ui)):
            results[i] = scored.probabilities  # gr.Label: {class: probability}, shown as bars
            spans[i] = clauses.highlighted(scored.clauses)
            capture.note(index=i, model=scored.model, template=scored.language, rows=1, inputs=text,
                         outputs=scored.probabilities, memo={"label": scored.label, "language": scored.language,
                                                             "labels": list(scored.probabilities), "text": text})
            notes[i] = " ".join([t("sentiment.note.overall", lang_ui, label=label_text(scored.overall, lang_ui)),
                                 t("sentiment.note.language", lang_ui, language=scored.language)] + scored.notes)
    if len(texts) == 1 and errors[0] is not None:
        raise errors[0]
    return [results, spans, notes]


COLUMNS = "sentiment-columns"  # reading uploads for their columns: queued, but not behind the model
COLUMNS_LIMIT = 4


@user_errors
def list_columns(file, request: gr.Request = None):
    """The upload's columns and a guess at the text column; read with the same limits as scoring."""
    if not file:
        return gr.update(choices=[], value=None)
    frame = files.read_table(file, request_lang(request))
    return gr.update(choices=list(frame.columns), value=files.guess_text_column(frame))


@gpu(duration=120)
@user_errors
def score_file(file, column: str, language: str, fast: bool = False, request: gr.Request = None,
               progress=gr.Progress()):
    import time

    lang_ui = request_lang(request)
    if not file:
        raise UserError(t("sentiment.error.no_file", lang_ui))
    start = time.perf_counter()
    frame = files.read_table(file, lang_ui)
    column = column or files.guess_text_column(frame)
    scored = core.score_table(frame, column, language, progress=progress_adapter(progress), lang_ui=lang_ui,
                              fast=bool(fast))
    out_path = files.write_results(scored, request_dir("sentiment") / f"{Path(file).stem}-sentiment.csv")
    empty = int((scored["label"] == "(empty)").sum())
    languages = ", ".join(f"{k} {v}" for k, v in scored.loc[scored["language"] != "", "language"].value_counts().items())
    summary = t("sentiment.summary", lang_ui, rows=len(scored) - empty, empty=empty,
                seconds=time.perf_counter() - start, languages=languages)
    summary += " " + t("sentiment.summary.rows", lang_ui, rows_in=len(frame), rows_out=len(scored))
    capture.note(rows=len(frame), template=language)
    return scored.head(1000), core.label_distribution(scored), str(out_path), summary


def setup_note(lang: str) -> str:
    """While the set-up steps run in the background (a Space, setup_steps.py): what scores meanwhile."""
    from products.sentiment import gemma
    from shared import setup
    from shared.setup_note import waiting_text

    return waiting_text(lang, [(setup.EMBEDDED_STEP, "sentiment.setup.packages"), (gemma.SETUP_STEP, "sentiment.setup.gemma")],
                        gemma.SETUP_STEP, "sentiment.setup.failed")


def build_tab() -> None:
    from shared.setup_note import live_note

    gr.Markdown(I18N("sentiment.intro"))
    live_note(setup_note)
    with gr.Tab(I18N("sentiment.single")):
        with gr.Row():
            with gr.Column(scale=3):
                text = gr.Textbox(label=I18N("sentiment.text"), lines=4, max_length=core.MAX_TEXT_CHARS)
                language = gr.Radio(list(core.LANGUAGES), value="auto", label=I18N("sentiment.language"))
                button = gr.Button(I18N("sentiment.analyse"), variant="primary")
            with gr.Column(scale=2):
                label = gr.Label(label=I18N("sentiment.probabilities"), num_top_classes=3)
                spans = gr.HighlightedText(label=I18N("sentiment.clauses"), show_legend=True, combine_adjacent=False,
                                           color_map={"positive": "green", "negative": "red", "neutral": "gray"})
                note = gr.Markdown()
        with gr.Row(equal_height=True):
            right = gr.Radio(["negative", "neutral", "positive"], label=I18N("sentiment.fb.wrong"), scale=3)
            feedback.buttons("sentiment", [("sentiment.fb.send", "correction"), ("sentiment.fb.confirm", "confirm")],
                             value=right)
        examples(EXAMPLES, inputs=[text, language])
        gr.on([button.click, text.submit], analyse, [text, language], [label, spans, note], api_name="sentiment",
              batch=True, max_batch_size=16, concurrency_limit=HEAVY_LIMIT, concurrency_id=HEAVY)
    with gr.Tab(I18N("sentiment.batch")):
        with gr.Row():
            file = gr.File(label=I18N("sentiment.file"), file_types=[".csv", ".tsv", ".txt", ".xlsx"], type="filepath")
            with gr.Column():
                column = gr.Dropdown(label=I18N("sentiment.column"), choices=[], allow_custom_value=True)
                file_language = gr.Radio(list(core.LANGUAGES), value="auto", label=I18N("sentiment.language"))
                fast = gr.Checkbox(False, label=I18N("sentiment.fast"), info=I18N("sentiment.fast_info"))
                score = gr.Button(I18N("sentiment.score_file"), variant="primary")
        summary = gr.Markdown()
        with gr.Row():
            chart = gr.BarPlot(x="label", y="count", label=I18N("sentiment.distribution"), scale=1)
            download = gr.File(label=I18N("sentiment.download"), scale=1)
        table = gr.Dataframe(label=I18N("sentiment.results"), wrap=True, max_height=420)
        file.change(list_columns, [file], [column], api_name="sentiment_columns",
                    concurrency_limit=COLUMNS_LIMIT, concurrency_id=COLUMNS)
        score.click(score_file, [file, column, file_language, fast], [table, chart, download, summary],
                    api_name="sentiment_file", concurrency_limit=HEAVY_LIMIT, concurrency_id=HEAVY)
    build_improve()


def build_improve() -> None:
    """Admins: retrain with feedback (guarded) and restore the previous heads; figures before/after."""
    with gr.Accordion(I18N("sentiment.retrain.title"), open=False):
        gr.Markdown(I18N("sentiment.retrain.intro"))
        with gr.Row(equal_height=True):
            password = gr.Textbox(label=I18N("admin.password"), type="password", max_length=200, scale=2)
            run = gr.Button(I18N("sentiment.retrain.run"), variant="primary", scale=1)
            restore = gr.Button(I18N("sentiment.retrain.restore"), scale=1)
        versions_line = gr.Markdown()
        report = gr.Markdown()
        figure = gr.BarPlot(x="bar", y="accuracy", color="stage", x_label_angle=-20, y_lim=[0, 1],
                            label=I18N("sentiment.retrain.figure"))
    # One retrain at a time, outside the scoring queue (the first run encodes the training texts).
    run.click(improve.retrain_action, [password], [report, figure, versions_line], api_name="sentiment_retrain",
              concurrency_limit=1, concurrency_id="sentiment-retrain")
    restore.click(improve.restore_action, [password], [report, versions_line], api_name="sentiment_restore",
                  concurrency_limit=1, concurrency_id="sentiment-retrain")
