"""The two Whisper engines behind one small interface.

`engine.run(audio, options, stop)` returns (info, iterator of lists of Segment): the iterator
yields segments as the engine produces them and stops early once `stop` is set.
faster-whisper's transcribe is already a lazy generator; for openai-whisper, whisper_loop.py runs
the same loop as its `transcribe` one 30-second window at a time.
"""
from __future__ import annotations

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


class OpenAIWhisperEngine:
    engine = "openai-whisper"

    def __init__(self, model, name: str, fp16: bool = False):
        self.model = model
        self.name = name
        self.fp16 = fp16

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
        from products.speech.whisper_loop import windows

        duration = len(audio) / SAMPLE_RATE
        if options.language:
            language, probability = options.language, 1.0
        else:
            language, probability = self.detect_language(audio)
        info = Info(language, probability, duration, self.multilingual)
        beam = {"beam_size": options.beam_size, "best_of": options.beam_size} if options.beam_size > 1 else {}

        def stream():
            for window in windows(self.model, audio, language=language, task=options.task,
                                  initial_prompt=options.initial_prompt or None,
                                  word_timestamps=options.word_timestamps, fp16=self.fp16, **beam):
                if stop.is_set():
                    break
                yield [_segment(s) for s in window]
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
