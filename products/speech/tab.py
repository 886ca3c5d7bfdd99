"""The Speech-to-text tab: upload or record, options, a streaming transcript, downloads, Stop."""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from products.speech import chinese, core, models, speakers
from shared import capture, feedback
from shared.i18n import I18N, add, request_lang, t
from shared.ui import HEAVY, HEAVY_LIMIT, UserError, progress_adapter, user_errors

add({
    "speech.fb.title": ("Correct the transcript (your correction scores the model: word error rate)",
                        "校正转写（你的校正用于评估模型：词错误率）"),
    "speech.fb.text": ("Corrected transcript", "校正后的转写"),
    "speech.fb.copy": ("Start from the transcript", "从转写开始编辑"),
    "speech.fb.send": ("Send correction", "提交校正"),
})

COLUMNS = ["start", "end", "speaker", "text"]
MEDIA_TYPES = [".wav", ".mp3", ".m4a", ".ogg", ".oga", ".opus", ".flac", ".webm", ".aac", ".wma",
               ".mp4", ".mov", ".mkv", ".avi"]


def _table(segments) -> list[list]:
    # times as text with two decimals: a number column would show 12.0 as 12
    return [[f"{s.start:.2f}", f"{s.end:.2f}", s.speaker, s.text.strip()] for s in segments]


@user_errors
def transcribe(audio, media, language: str = "auto", task: str = "transcribe", model: str = "",
               engine: str = "", word_timestamps: bool = True, max_line_width: float = 0,
               max_line_count: float = 0, initial_prompt: str = "", chinese_script: str = "simplified",
               vad: bool = True, label_speakers: bool = False, num_speakers: float = 0,
               request: gr.Request = None, progress=gr.Progress()):
    """Stream (status, transcript, segments table, files) while the audio is transcribed."""
    lang = request_lang(request)
    path = media or audio
    if not path:
        raise UserError(t("speech.error.no_file", lang))
    chosen = {"chinese": chinese_script} if chinese_script else {}  # else the setting's script
    options = core.default_options(
        language=language, task=task, word_timestamps=bool(word_timestamps), initial_prompt=(initial_prompt or "").strip(),
        vad_filter=bool(vad), speakers=bool(label_speakers), num_speakers=int(num_speakers or 0), **chosen)
    progress(0.0, desc=t("speech.decoding", lang))
    # core.transcribe checks the model, engine and options (before decoding the file), then decodes it
    last = None
    for last in core.transcribe(path, model=model or None, engine=engine or None, options=options,
                                progress=progress_adapter(progress), lang=lang):
        info = last.info
        if last.done:
            break
        progress(last.fraction, desc=t("speech.progress", lang, done=last.fraction * info.duration, total=info.duration))
        status = t("speech.status.running", lang, language=info.language, probability=info.language_probability,
                   done=last.fraction * info.duration, total=info.duration)
        if last.extra.get("speakers"):
            status = t("speech.status.speakers", lang)
        yield status, last.text, _table(last.segments), None
    info, model, engine = last.info, last.model, last.engine
    files = core.write_files(last, stem=Path(path).stem or "transcript",
                             max_line_width=int(max_line_width or 0) or None,
                             max_line_count=int(max_line_count or 0) or None)
    capture.note(model=model, engine=engine, audio_s=round(float(info.duration), 2),
                 tokens_out=len(feedback.tokens(last.text)), template=info.language, outputs=last.text,
                 memo={"transcript": last.text, "language": info.language})
    status = t("speech.status.done", lang, language=info.language, probability=info.language_probability,
               duration=info.duration, seconds=last.elapsed, rtf=last.rtf, model=model, engine=engine)
    yield status, last.text, _table(last.segments), files


def build_tab() -> None:
    gr.Markdown(I18N("speech.intro"))
    choices = models.configured_models()
    engines = models.available_engines() or list(models.ENGINES)
    with gr.Row():
        with gr.Column(scale=2):
            audio = gr.Audio(sources=["upload", "microphone"], type="filepath", label=I18N("speech.audio"))
            media = gr.File(label=I18N("speech.video"), file_types=MEDIA_TYPES, type="filepath", height=90)
            with gr.Row():
                language = gr.Dropdown(["auto"] + core.languages(), value="auto", label=I18N("speech.language"))
                task = gr.Radio([(I18N("speech.task.transcribe"), "transcribe"), (I18N("speech.task.translate"), "translate")],
                                value="transcribe", label=I18N("speech.task"))
            with gr.Accordion(I18N("speech.options"), open=False):
                with gr.Row():
                    model = gr.Dropdown(choices, value=choices[0], label=I18N("speech.model"))
                    engine = gr.Radio(engines, value=models.default_engine(), label=I18N("speech.engine"))
                words = gr.Checkbox(True, label=I18N("speech.words"))
                script = gr.Radio([(I18N(f"speech.chinese.{c}"), c) for c in chinese.SCRIPTS],
                                  value=core.default_options().chinese, label=I18N("speech.chinese"))
                with gr.Row():
                    width = gr.Slider(0, 80, value=42, step=1, label=I18N("speech.width"))
                    lines = gr.Slider(0, 4, value=2, step=1, label=I18N("speech.lines"))
                prompt = gr.Textbox(label=I18N("speech.prompt"), lines=1, max_length=500)
                vad = gr.Checkbox(core.default_options().vad_filter, label=I18N("speech.vad"))
                with gr.Row():
                    who = gr.Checkbox(False, label=I18N("speech.speakers"))
                    count = gr.Slider(0, speakers.MAX_SPEAKERS, value=0, step=1, label=I18N("speech.num_speakers"))
            with gr.Row():
                run = gr.Button(I18N("speech.run"), variant="primary")
                stop = gr.Button(I18N("speech.stop"), variant="stop")
        with gr.Column(scale=3):
            status = gr.Markdown()
            transcript = gr.Textbox(label=I18N("speech.transcript"), lines=8, buttons=["copy"], autoscroll=True)
            files = gr.File(label=I18N("speech.files"), file_count="multiple")
    table = gr.Dataframe(headers=COLUMNS, label=I18N("speech.segments"), wrap=True, max_height=360,
                         interactive=False)
    with gr.Accordion(I18N("speech.fb.title"), open=False):
        corrected = gr.Textbox(label=I18N("speech.fb.text"), lines=4, max_length=feedback.MAX_TEXT)
        with gr.Row():
            start_from = gr.Button(I18N("speech.fb.copy"), size="sm", scale=0, min_width=160)
            feedback.buttons("speech", [("speech.fb.send", "correction")], text=corrected)
        start_from.click(lambda text: text, transcript, corrected, queue=False, api_visibility="private")
    event = run.click(transcribe, [audio, media, language, task, model, engine, words, width, lines, prompt, script,
                                  vad, who, count],
                      [status, transcript, table, files], api_name="speech_transcribe",
                      concurrency_limit=HEAVY_LIMIT, concurrency_id=HEAVY)
    stop.click(None, None, None, cancels=[event], api_name="speech_stop", queue=False)
