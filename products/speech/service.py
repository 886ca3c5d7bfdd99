"""Speech to text as a service: Whisper base and tiny.en as /v1/audio/transcriptions and
/v1/audio/translations models, and the native route (/api/v1/speech/transcribe) with the product's
own JSON, SRT, VTT and text. The plain functions of core.py do the work, with the tab's checks and
messages; shared/api does keys, limits, metering, uploads and errors."""
# No `from __future__ import annotations` here: FastAPI reads the native route's parameter types
# (UploadFile, Form), which are imported inside routes().
MODEL_IDS = {"whisper-base": "base", "whisper-tiny.en": "tiny.en"}  # service model id -> the product's model
RESPONSE_FORMATS = ("json", "srt", "vtt", "text")
# The tab's subtitle wrapping (its sliders' defaults); 0 = none.
LINE_WIDTH, LINE_COUNT = 42, 2


def product_model(name: str | None) -> str | None:
    """The product's model name for a service id ("whisper-base" -> "base"); product names pass as they are."""
    name = (name or "").strip()
    if name in ("", "default"):
        return None
    return MODEL_IDS.get(name, name)


def run(path: str, model: str | None = None, engine: str | None = None, language: str | None = None,
        task: str = "transcribe", word_timestamps: bool = True, prompt: str = "", vad: bool | None = None,
        chinese: str | None = None, speakers: bool = False, num_speakers: int = 0, lang: str = "en"):
    """The final update (core.Update) of a transcription of the file at `path`, as the tab runs it:
    options from the settings (beam size, VAD, Chinese script) with these on top, checked by core
    (model, engine, language, task, speakers) before the file is decoded; the stream run to its end."""
    from products.speech import core
    from shared import streams

    chosen = {}
    if vad is not None:
        chosen["vad_filter"] = bool(vad)
    if chinese:
        chosen["chinese"] = chinese
    options = core.default_options(
        language=language or "auto", task=task, word_timestamps=bool(word_timestamps),
        initial_prompt=(prompt or "").strip(), speakers=bool(speakers), num_speakers=int(num_speakers or 0), **chosen)
    return streams.run_to_end(core.transcribe(path, model=product_model(model), engine=engine or None,
                                              options=options, lang=lang))


def _transcript(update, words: bool):
    from shared.api import capabilities as cap

    segments = [cap.Segment(id=i, start=round(s.start, 3), end=round(s.end, 3), text=s.text.strip(),
                            speaker=s.speaker or None,
                            words=[{"word": w.word.strip(), "start": round(w.start, 3), "end": round(w.end, 3)}
                                   for w in s.words] if words else None)
                for i, s in enumerate(update.segments)]
    return cap.Transcript(text=update.text, language=update.info.language, duration=float(update.info.duration),
                          segments=segments)


def transcribe(path: str, options, model: str | None = None):
    """The "transcription" capability (shared/api/capabilities.py): TranscribeOptions -> Transcript, on
    `model` (default: the first of AIPM_SPEECH_MODELS). Word timestamps are always measured (accurate
    segment times, the tab's default); the words come back when asked for."""
    update = run(path, model=model, language=options.language, task=options.task, word_timestamps=True,
                 prompt=options.prompt, speakers=options.speakers, num_speakers=options.num_speakers)
    return _transcript(update, options.word_timestamps)


def transcribe_base(path: str, options):
    return transcribe(path, options, "base")


def transcribe_tiny_en(path: str, options):
    return transcribe(path, options, "tiny.en")


def as_json(update, words: bool = True) -> dict:
    """The product's JSON (the download the tab writes): language, its probability, duration, model,
    engine, real-time factor, text and segments (start, end, text, words, speaker)."""
    import json

    from products.speech import subtitles

    info = {"language": update.info.language, "language_probability": round(update.info.language_probability, 4),
            "duration": round(update.info.duration, 3), "model": update.model, "engine": update.engine,
            "real_time_factor": round(update.rtf, 4)}
    out = json.loads(subtitles.to_json(update.segments, info))
    for segment in out["segments"]:
        segment["speaker"] = segment.get("speaker") or None
        if not words:
            segment.pop("words", None)
    return out


def routes():
    """The native routes (imported when the API server is built, not when the app is)."""
    from fastapi import APIRouter, Depends, File, Form, UploadFile
    from fastapi.responses import PlainTextResponse

    from products.speech import subtitles
    from shared.api import uploads
    from shared.api.errors import ApiError
    from shared.api.guard import Call, metered

    router = APIRouter()

    @router.post("/transcribe", summary="Transcribe (or translate to English) an audio or video file")
    def transcribe_route(file: UploadFile = File(...), language: str = Form("auto"), task: str = Form("transcribe"),
                         model: str = Form(""), engine: str = Form(""), word_timestamps: bool = Form(True),
                         prompt: str = Form(""), vad: bool | None = Form(None), chinese: str = Form(""),
                         speakers: bool = Form(False), num_speakers: int = Form(0),
                         max_line_width: int = Form(LINE_WIDTH), max_line_count: int = Form(LINE_COUNT),
                         response_format: str = Form("json"),
                         call: Call = Depends(metered("speech", "speech_api"))):
        if response_format not in RESPONSE_FORMATS:
            raise ApiError(400, f"response_format must be one of: {', '.join(RESPONSE_FORMATS)}.", "invalid_input",
                           "response_format")
        if not (0 <= max_line_width <= 1000 and 0 <= max_line_count <= 100):
            raise ApiError(400, "max_line_width must be from 0 to 1000 and max_line_count from 0 to 100 (0: no limit).",
                           "invalid_input", "max_line_width")
        with uploads.saved(file, "audio") as path:
            update = run(str(path), model=model, engine=engine, language=language, task=task,
                         word_timestamps=word_timestamps, prompt=prompt[:1000], vad=vad, chinese=chinese,
                         speakers=speakers, num_speakers=num_speakers)
        call.model = update.model
        call.units(audio_s=round(float(update.info.duration), 2))
        width, count = max_line_width or None, max_line_count or None
        if response_format == "srt":
            return PlainTextResponse(subtitles.to_srt(update.segments, width, count), headers=call.headers)
        if response_format == "vtt":
            return PlainTextResponse(subtitles.to_vtt(update.segments, width, count), media_type="text/vtt",
                                     headers=call.headers)
        if response_format == "text":
            return PlainTextResponse(subtitles.to_txt(update.segments), headers=call.headers)
        return call.json(as_json(update, words=word_timestamps))

    return router
