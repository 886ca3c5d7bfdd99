"""The two Whisper engines behind one small interface.

`engine.run(audio, options, stop)` returns (info, iterator of lists of Segment): the iterator
yields segments as the engine produces them and stops early once `stop` is set.
faster-whisper's transcribe is already a lazy generator. openai-whisper's `transcribe` is one
call; it runs in a worker thread, and its progress bar hook (called after each 30-second window)
passes on the new segments and ends the call when `stop` is set.
"""
from __future__ import annotations

import queue
import sys
import threading
from dataclasses import dataclass, field

import numpy as np

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    word: str
    probability: float


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    speaker: str = ""  # set when speakers are asked for (products/speech/speakers.py)


@dataclass
class Options:
    language: str | None = None  # None = detect
    task: str = "transcribe"  # or "translate" (to English)
    word_timestamps: bool = True  # accurate segment times (measured: bench/bench_speech_timing.py)
    initial_prompt: str = ""
    beam_size: int = 1
    vad_filter: bool = False
    chinese: str = "simplified"  # script of Chinese transcripts: "simplified" or "traditional"
    speakers: bool = False  # label who spoke when
    num_speakers: int = 0  # 0 = found by clustering


@dataclass
class Info:
    language: str
    language_probability: float
    duration: float
    multilingual: bool
    extra: dict = field(default_factory=dict)


class Stopped(Exception):
    """Raised inside openai-whisper's loop when the user stops the run."""


class FasterWhisperEngine:
    engine = "faster-whisper"

    def __init__(self, model, name: str, device: str, compute_type: str, rss_bytes: int):
        self.model = model
        self.name = name
        self.device = device
        self.dtype = compute_type
        self._bytes = rss_bytes

    @classmethod
    def load(cls, location: str, device: str, compute_type: str, threads: int, download_root, name: str):
        import psutil
        from faster_whisper import WhisperModel

        before = psutil.Process().memory_info().rss
        model = WhisperModel(location, device=device, compute_type=compute_type, cpu_threads=threads,
                             download_root=download_root, local_files_only=download_root is None)
        grown = psutil.Process().memory_info().rss - before
        return cls(model, name, device, compute_type, max(grown, 1))

    def memory_bytes(self) -> int:  # CTranslate2 keeps its weights outside torch
        return self._bytes

    @property
    def multilingual(self) -> bool:
        return bool(self.model.model.is_multilingual)

    def run(self, audio: np.ndarray, options: Options, stop: threading.Event):
        segments, info = self.model.transcribe(
            audio, language=options.language, task=options.task, beam_size=options.beam_size,
            best_of=options.beam_size, initial_prompt=options.initial_prompt or None,
            word_timestamps=options.word_timestamps, vad_filter=options.vad_filter,
            condition_on_previous_text=True)
        result = Info(info.language, float(info.language_probability), float(info.duration), self.multilingual)

        def stream():
            for seg in segments:
                if stop.is_set():
                    break
                words = tuple(Word(float(w.start), float(w.end), w.word, float(w.probability))
                              for w in (seg.words or ()))
                yield [Segment(float(seg.start), float(seg.end), seg.text, words)]
        return result, stream()


# ---- openai-whisper: a progress-bar hook in place of its tqdm --------------------------------
_hooks = threading.local()


class _HookedBar:
    """Stands in for tqdm.tqdm inside whisper.transcribe while a hook is set on this thread."""

    def __init__(self, hook):
        self.hook = hook
        self.n = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n):
        self.n += n
        # whisper.transcribe calls update() right after appending the window's segments.
        caller = sys._getframe(1).f_locals
        self.hook(self.n, caller.get("all_segments"))


class _TqdmShim:
    def __init__(self, real):
        self._real = real

    def tqdm(self, *args, **kwargs):
        hook = getattr(_hooks, "hook", None)
        return _HookedBar(hook) if hook is not None else self._real.tqdm(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._real, name)


def _install_shim():
    import whisper  # noqa: F401  (loads whisper.transcribe, the module, whose name the function shadows)

    wt = sys.modules["whisper.transcribe"]
    if not isinstance(wt.tqdm, _TqdmShim):
        wt.tqdm = _TqdmShim(wt.tqdm)


class OpenAIWhisperEngine:
    engine = "openai-whisper"

    def __init__(self, model, name: str, fp16: bool = False):
        self.model = model
        self.name = name
        self.fp16 = fp16
        _install_shim()

    @property
    def device(self):
        return self.model.device

    @property
    def dtype(self):
        return "float16" if self.fp16 else "float32"

    @property
    def multilingual(self) -> bool:
        return bool(self.model.is_multilingual)

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        import torch
        from whisper.audio import N_FRAMES, N_SAMPLES, log_mel_spectrogram, pad_or_trim

        if not self.multilingual:
            return "en", 1.0
        mel = log_mel_spectrogram(torch.from_numpy(audio[:N_SAMPLES]), self.model.dims.n_mels, padding=N_SAMPLES)
        mel = pad_or_trim(mel, N_FRAMES).to(self.model.device)
        if self.fp16:
            mel = mel.half()
        with torch.inference_mode():
            _, probs = self.model.detect_language(mel)
        language = max(probs, key=probs.get)
        return language, float(probs[language])

    def run(self, audio: np.ndarray, options: Options, stop: threading.Event):
        import whisper

        duration = len(audio) / SAMPLE_RATE
        if options.language:
            language, probability = options.language, 1.0
        else:
            language, probability = self.detect_language(audio)
        info = Info(language, probability, duration, self.multilingual)
        events: queue.Queue = queue.Queue()
        seen = [0]

        def hook(frames, all_segments):
            if all_segments is not None and len(all_segments) > seen[0]:
                events.put(("segments", [dict(s) for s in all_segments[seen[0]:]]))
                seen[0] = len(all_segments)
            if stop.is_set():
                raise Stopped()

        def work():
            _hooks.hook = hook
            try:
                kwargs = {"beam_size": options.beam_size, "best_of": options.beam_size} if options.beam_size > 1 else {}
                result = whisper.transcribe(
                    self.model, audio, verbose=False, language=language, task=options.task,
                    initial_prompt=options.initial_prompt or None, word_timestamps=options.word_timestamps,
                    condition_on_previous_text=True, fp16=self.fp16, **kwargs)
                if len(result["segments"]) > seen[0]:  # any not passed on by the hook
                    events.put(("segments", result["segments"][seen[0]:]))
                events.put(("done", None))
            except Stopped:
                events.put(("done", None))
            except BaseException as err:  # handed to the consumer, raised there
                events.put(("error", err))
            finally:
                _hooks.hook = None

        thread = threading.Thread(target=work, name="openai-whisper", daemon=True)

        def stream():
            thread.start()
            try:
                while True:
                    kind, payload = events.get()
                    if kind == "done":
                        return
                    if kind == "error":
                        raise payload
                    yield [_segment(s) for s in payload]
            finally:
                stop.set()  # a consumer that stops early ends the worker at its next window
                thread.join()
        return info, stream()


def _segment(raw: dict) -> Segment:
    words = tuple(Word(float(w["start"]), float(w["end"]), w["word"], float(w.get("probability", 0.0)))
                  for w in raw.get("words") or ())
    return with_word_times(Segment(float(raw["start"]), float(raw["end"]), raw["text"], words))


def with_word_times(segment: Segment) -> Segment:
    """A segment spans its words: openai-whisper keeps a segment's start at its timestamp token even
    when the first word's aligned start is earlier (faster-whisper already uses the words' times)."""
    if not segment.words:
        return segment
    return Segment(segment.words[0].start, max(segment.words[-1].end, segment.words[0].start), segment.text,
                   segment.words)
