"""Speech to text as plain functions: decode, transcribe (streaming), write transcript files.

    for update in transcribe("talk.mp3", model="base"):
        print(update.fraction, update.new)

Each update carries the segments so far, the new ones, the fraction of the audio done, the
detected language with its probability, and at the end the real-time factor. Closing the
generator stops the engine at its next segment (faster-whisper) or window (openai-whisper).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

import numpy as np

from products.speech import audio as audio_io  # noqa: E402
from products.speech import chinese, models, speakers, strings, subtitles, timing  # noqa: E402,F401  (strings registers the texts)
from products.speech.engines import SAMPLE_RATE, Info, Options, Segment  # noqa: E402
from products.speech.settings import SpeechSettings  # noqa: E402
from shared.config import settings  # noqa: E402
from shared.i18n import t  # noqa: E402
from shared import streams  # noqa: E402
from shared.outputs import request_dir  # noqa: E402
from shared.ui import UserError  # noqa: E402

TASKS = ("transcribe", "translate")


def languages() -> list[str]:
    """Whisper's language codes (from whichever engine is installed)."""
    try:
        from faster_whisper.tokenizer import _LANGUAGE_CODES

        return list(_LANGUAGE_CODES)
    except ImportError:
        pass
    try:
        from whisper.tokenizer import LANGUAGES

        return list(LANGUAGES)
    except ImportError:  # neither engine here: a machine that sends speech to a remote server
        from products.speech.remote import WHISPER_LANGUAGES

        return list(WHISPER_LANGUAGES)


def max_seconds(config: SpeechSettings | None = None) -> float:
    return (config or SpeechSettings.current()).max_seconds


def beam_size() -> int:
    return SpeechSettings.current().beam_size


def load_audio(path: str | None, lang: str = "en", config: SpeechSettings | None = None) -> np.ndarray:
    return audio_io.load_audio(path, max_seconds(config), settings().max_upload_mb * 1_000_000, lang)


@dataclass
class Update:
    info: Info
    segments: list[Segment]
    new: list[Segment]
    fraction: float
    elapsed: float
    done: bool = False
    stopped: bool = False
    model: str = ""
    engine: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def rtf(self) -> float:
        return self.elapsed / self.info.duration if self.info.duration else 0.0

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())


def resolve(model: str | None, engine: str | None, lang: str = "en") -> tuple[str, str]:
    model = model or models.configured_models()[0]
    engine = engine or models.default_engine()
    if model not in models.configured_models():
        raise UserError(t("speech.error.model", lang, model=model, choices=", ".join(models.configured_models())))
    if model == models.REMOTE:  # the server runs its own engine, whichever one is chosen here
        return model, models.REMOTE
    if engine not in models.ENGINES or not models.engine_installed(engine):
        raise UserError(t("speech.error.engine", lang, engine=engine, choices=", ".join(models.available_engines())))
    return model, engine


def check_options(options: Options, model: str, lang: str = "en") -> Options:
    """A cleaned copy of `options` (language code normalised, "auto" -> None; whole number of speakers),
    or UserError naming the bad choice; the caller's Options are left as they were."""
    language = (options.language or "").strip().lower()
    options = replace(options, language=None if language in ("", "auto") else language)
    if options.language and options.language not in languages():
        raise UserError(t("speech.error.language", lang, language=options.language))
    if options.task not in TASKS:
        raise UserError(t("speech.error.task", lang, task=options.task))
    if model.endswith(".en") and options.language not in (None, "en"):
        raise UserError(t("speech.error.english_only", lang, model=model))
    if options.chinese not in chinese.SCRIPTS:
        raise UserError(t("speech.error.chinese", lang, script=options.chinese, choices=", ".join(chinese.SCRIPTS)))
    if not 0 <= int(options.num_speakers) <= speakers.MAX_SPEAKERS:
        raise UserError(t("speech.error.num_speakers", lang, n=options.num_speakers, most=speakers.MAX_SPEAKERS))
    if options.speakers and not speakers.installed() and model != models.REMOTE:  # a remote server may label them
        raise UserError(t("speech.error.no_diarizer", lang))
    return replace(options, num_speakers=int(options.num_speakers))


def default_options(config: SpeechSettings | None = None, **overrides) -> Options:
    """Options from the settings (beam size, VAD, Chinese script; default: the current ones), with
    `overrides` on top."""
    config = config or SpeechSettings.current()
    values = dict(beam_size=config.beam_size, vad_filter=config.vad, chinese=config.chinese)
    return Options(**{**values, **overrides})


def transcribe(source, model: str | None = None, engine: str | None = None, options: Options | None = None,
               progress=None, lang: str = "en", registry=None, config: SpeechSettings | None = None) -> Iterator[Update]:
    """Stream the transcription of `source` (a path, or 16 kHz mono float32 samples); limits and
    defaults from `config` (default: the current settings)."""
    if registry is None:
        from shared.models import registry
    config = config or SpeechSettings.current()
    model, engine = resolve(model, engine, lang)
    models.ensure_registered(model, registry)
    options = check_options(options or default_options(config), model, lang)
    samples = source if isinstance(source, np.ndarray) else load_audio(source, lang, config)
    samples = np.ascontiguousarray(samples, dtype=np.float32)
    if samples.size > config.max_seconds * SAMPLE_RATE:
        raise UserError(t("speech.error.too_long", lang, seconds=samples.size / SAMPLE_RATE, limit=config.max_seconds))
    audio_io.check_not_silent(samples, lang)
    duration = samples.size / SAMPLE_RATE
    stop = threading.Event()
    with registry.use(models.spec_name(model, engine), progress) as runner:
        start = time.perf_counter()
        segments: list[Segment] = []
        fraction = 0.0
        base = dict(model=model, engine=engine)
        info = None
        for offset, chunk in chunks(samples, getattr(runner, "chunk_seconds", CHUNK_SECONDS)):
            # The language is detected on the first chunk and kept for the rest.
            chunk_options = options if info is None else replace(options, language=options.language or info.language)
            chunk_info, stream = runner.run(chunk, chunk_options, stop)
            if info is None:
                info = chunk_info
                info.duration = duration
                script = options.chinese if chinese.applies(info.language, options.task) else None
                yield Update(info, [], [], 0.0, time.perf_counter() - start, **base)
            try:
                for batch in stream:
                    new = [shift(s, offset) for s in batch if s.text.strip()]
                    if not new:
                        continue
                    if script:  # every file and the table follow the chosen script
                        new = [chinese.convert_segment(s, script) for s in new]
                    segments.extend(new)
                    # never backwards, even when a model's timestamps are
                    fraction = max(fraction, min(1.0, max(s.end for s in new) / duration) if duration else 1.0)
                    yield Update(info, list(segments), new, fraction, time.perf_counter() - start, **base)
            except BaseException:  # Stop (the generator is closed) or a failure: end the engine's work now
                stop.set()
                raise
            finally:
                stream.close()
        stop.set()
    if not segments:
        raise UserError(t("speech.error.no_speech", lang))
    if options.vad_filter:  # the final times, trimmed to the speech (products/speech/timing.py)
        segments = timing.snap(segments, timing.speech_regions(samples))
    # on the whole audio, once the transcript is there (Stop ends before this); a remote server that
    # labelled every segment already did it, one that did not is helped here when the diarizer is installed
    labelled = all(s.speaker for s in segments)
    if options.speakers and not labelled and (engine != models.REMOTE or speakers.installed()):
        yield Update(info, list(segments), [], 1.0, time.perf_counter() - start, extra={"speakers": "running"}, **base)
        with registry.use(speakers.SPEC, progress) as diarizer:
            turns = diarizer.turns(samples, options.num_speakers or None)
        segments = speakers.assign(segments, turns)
    yield Update(info, segments, [], 1.0, time.perf_counter() - start, done=True, **base)


CHUNK_SECONDS = 600  # long audio is transcribed 10 minutes at a time, so memory does not grow with its length


def chunks(samples: np.ndarray, seconds: int = CHUNK_SECONDS):
    """(offset in seconds, samples) pieces of at most `seconds`; a short tail joins the piece before it."""
    size = seconds * SAMPLE_RATE
    starts = list(range(0, max(1, samples.size), size))
    if len(starts) > 1 and samples.size - starts[-1] < 30 * SAMPLE_RATE:
        starts.pop()
    for i, first in enumerate(starts):
        last = starts[i + 1] if i + 1 < len(starts) else samples.size
        yield first / SAMPLE_RATE, samples[first:last]


def shift(segment: Segment, offset: float) -> Segment:
    if not offset:
        return segment
    words = tuple(replace(w, start=w.start + offset, end=w.end + offset) for w in segment.words)
    return replace(segment, start=segment.start + offset, end=segment.end + offset, words=words)


def run_to_end(source, **kwargs) -> Update:
    """The final update of `transcribe` (all segments, language, real-time factor)."""
    return streams.run_to_end(transcribe(source, **kwargs))


def write_files(update: Update, stem: str = "transcript", folder: str | Path | None = None,
                max_line_width: int | None = None, max_line_count: int | None = None) -> list[str]:
    """Write SRT, VTT, TXT and JSON files for a finished transcription; returns their paths."""
    folder = Path(folder or request_dir("speech"))  # swept by age (shared/outputs.py)
    folder.mkdir(parents=True, exist_ok=True)
    info = {"language": update.info.language, "language_probability": round(update.info.language_probability, 4),
            "duration": round(update.info.duration, 3), "model": update.model, "engine": update.engine,
            "real_time_factor": round(update.rtf, 4)}
    outputs = {
        "srt": subtitles.to_srt(update.segments, max_line_width, max_line_count),
        "vtt": subtitles.to_vtt(update.segments, max_line_width, max_line_count),
        "txt": subtitles.to_txt(update.segments),
        "json": subtitles.to_json(update.segments, info),
    }
    paths = []
    for suffix, text in outputs.items():
        path = folder / f"{stem}.{suffix}"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    return paths
