"""What each OpenAI-compatible capability asks of the product that serves it (`Service.run`), and what
it gives back. The routes (openai_routes.py) turn these into OpenAI's JSON; products never see HTTP.

    embeddings     run(texts: list[str]) -> Embeddings
    chat           run(messages: list[dict], options: ChatOptions, stop: threading.Event) -> ChatStream
    transcription  run(path: str, options: TranscribeOptions) -> Transcript
    images         run(prompt: str, options: ImageOptions) -> list[Picture]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

CAPABILITIES = ("chat", "embeddings", "transcription", "images")


@dataclass
class Embeddings:
    vectors: object  # (texts, dimensions) float32 numpy array, unit rows
    tokens: int  # input tokens, for usage and metering


@dataclass
class ChatOptions:
    max_tokens: int | None = None
    temperature: float = 0.7
    top_p: float = 1.0
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    grammar: str = ""  # GBNF the answer must match, where the engine takes one (llama.cpp and its server)
    repetition_penalty: float = 1.0  # llama.cpp's and transformers' penalty (not in OpenAI's request)


@dataclass
class ChatStream:
    """Text deltas as they are decoded; `prompt_tokens`, `completion_tokens` and `finish_reason`
    ("stop" or "length") are final once `deltas` is exhausted."""
    deltas: Iterator[str]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"


@dataclass
class TranscribeOptions:
    language: str | None = None  # None: detected
    task: str = "transcribe"  # or "translate" (to English)
    prompt: str = ""
    word_timestamps: bool = False
    speakers: bool = False
    num_speakers: int = 0  # 0: found out
    temperature: float = 0.0


@dataclass
class Segment:
    id: int
    start: float
    end: float
    text: str
    speaker: str | None = None
    words: list[dict] | None = None  # {"word", "start", "end"}


@dataclass
class Transcript:
    text: str
    language: str
    duration: float
    segments: list[Segment]


@dataclass
class ImageOptions:
    n: int = 1
    width: int | None = None
    height: int | None = None
    seed: int | None = None
    steps: int | None = None
    guidance: float | None = None
    negative_prompt: str = ""


@dataclass
class Picture:
    png: bytes
    seed: int
    parameters: str  # the generation parameters, as embedded in the PNG
