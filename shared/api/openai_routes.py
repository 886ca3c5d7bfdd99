"""OpenAI-compatible endpoints, so the official `openai` SDK works unchanged: /v1/models, chat
completions (streamed or not), embeddings, audio transcriptions and translations, image generations.
Each call goes to the registered product service (`Product.services`) that serves the named model for
the capability; the shared sentence encoder serves embeddings too."""
from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from typing import Literal

import numpy as np
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from shared import descriptor
from shared.api import capabilities as cap
from shared.api import uploads
from shared.api.errors import ApiError
from shared.api.guard import Call, guarded, metered, outcome_of
from shared.api.subtitles import as_srt, as_vtt

router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])
MAX_EMBEDDING_INPUTS = 2048
MAX_EMBEDDING_CHARS = 100_000
MAX_CHAT_TOKENS = 4096
MAX_IMAGES = 4


def services(capability: str | None = None) -> list[tuple[str, descriptor.Service]]:
    """(product, service) for every registered service of the capability, plus the shared ones."""
    from shared.encoder import SERVICE as shared_encoder

    found = [(p.name, s) for p in descriptor.registered() for s in p.offered_services()
             if capability is None or s.capability == capability]
    if capability in (None, "embeddings"):
        found.append(("-", shared_encoder))
    return found


def resolve(capability: str, model: str | None) -> tuple[str, descriptor.Service]:
    """The service that serves `model` for the capability (its default for None or "default"); 404 else."""
    offered = services(capability)
    if not offered:
        raise ApiError(404, f"No model on this server does {capability}.", "model_not_found", "model")
    if model in (None, "", "default"):
        return next(((p, s) for p, s in offered if s.default), offered[0])
    for product, service in offered:
        if service.model == model:
            return product, service
    names = ", ".join(s.model for _, s in offered)
    raise ApiError(404, f"The model '{model}' does not exist or does not do {capability}; use one of: {names}.",
                   "model_not_found", "model")


# ---- models ------------------------------------------------------------------------------------
@router.get("/models")
def list_models(call: Call = Depends(metered("-", "models"))):
    return call.json({"object": "list", "data": [
        {"id": s.model, "object": "model", "created": 0, "owned_by": product if product != "-" else "shared",
         "capability": s.capability, "description": s.description} for product, s in services()]})


# ---- embeddings --------------------------------------------------------------------------------
class EmbeddingRequest(BaseModel):
    input: str | list[str]
    model: str | None = None
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(default=None, ge=1)
    user: str | None = None


@router.post("/embeddings")
def embeddings(body: EmbeddingRequest, request: Request):
    texts = [body.input] if isinstance(body.input, str) else list(body.input)
    if not texts or len(texts) > MAX_EMBEDDING_INPUTS:
        raise ApiError(400, f"input must hold 1 to {MAX_EMBEDDING_INPUTS} texts; got {len(texts)}.", "invalid_input",
                       "input")
    for i, text in enumerate(texts):
        if not text or len(text) > MAX_EMBEDDING_CHARS:
            raise ApiError(400, f"input[{i}] must be a non-empty text of at most {MAX_EMBEDDING_CHARS} characters.",
                           "invalid_input", "input")
    product, service = resolve("embeddings", body.model)
    with guarded(request, product, "embeddings") as call:
        call.model = service.model
        result: cap.Embeddings = service.run(texts)
        vectors = np.asarray(result.vectors, dtype=np.float32)
        if body.dimensions is not None:
            if body.dimensions > vectors.shape[1]:
                raise ApiError(400, f"dimensions must be at most {vectors.shape[1]} for {service.model}.",
                               "invalid_input", "dimensions")
            vectors = vectors[:, :body.dimensions]  # shortened, then made unit length again
            vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        call.units(tokens_in=result.tokens, rows=len(texts))
        if body.encoding_format == "base64":  # little-endian float32, as OpenAI sends them
            encoded = [base64.b64encode(row.astype("<f4").tobytes()).decode() for row in vectors]
        else:
            encoded = vectors.tolist()
        data = [{"object": "embedding", "index": i, "embedding": e} for i, e in enumerate(encoded)]
        return call.json({"object": "list", "data": data, "model": service.model,
                          "usage": {"prompt_tokens": result.tokens, "total_tokens": result.tokens}})


# ---- chat ----------------------------------------------------------------------------------------
class Message(BaseModel):
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[dict]


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatRequest(BaseModel):
    model: str | None = None
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_CHAT_TOKENS)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=MAX_CHAT_TOKENS)
    temperature: float = Field(default=0.7, ge=0, le=2)
    top_p: float = Field(default=1.0, gt=0, le=1)
    n: int = Field(default=1, ge=1, le=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    user: str | None = None


def _text_of(content) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text")


@router.post("/chat/completions")
async def chat_completions(body: ChatRequest, request: Request):
    product, service = resolve("chat", body.model)
    stop_words = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
    options = cap.ChatOptions(max_tokens=body.max_completion_tokens or body.max_tokens, temperature=body.temperature,
                              top_p=body.top_p, stop=stop_words[:4], seed=body.seed)
    messages = [{"role": "system" if m.role == "developer" else m.role, "content": _text_of(m.content)}
                for m in body.messages]
    stop = threading.Event()
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

    def start():
        with guarded(request, product, "chat") as call:
            call.model = service.model
            call.streaming = True  # finished below, when the text is complete or the client is gone
            return call, service.run(messages, options, stop)

    call, stream = await run_in_threadpool(start)
    if not body.stream:
        try:
            text = "".join(await run_in_threadpool(list, stream.deltas))
        except BaseException as err:
            stop.set()
            call.finish(*outcome_of(err))
            raise
        call.units(tokens_in=stream.prompt_tokens, tokens_out=stream.completion_tokens)
        call.finish()
        return call.json({"id": completion_id, "object": "chat.completion", "created": created,
                          "model": service.model, "choices": [{
                              "index": 0, "message": {"role": "assistant", "content": text},
                              "finish_reason": stream.finish_reason}],
                          "usage": _usage(stream)})
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    return StreamingResponse(_sse(call, stream, stop, completion_id, created, service.model, include_usage),
                             media_type="text/event-stream", headers=call.headers)


def _usage(stream: cap.ChatStream) -> dict:
    return {"prompt_tokens": stream.prompt_tokens, "completion_tokens": stream.completion_tokens,
            "total_tokens": stream.prompt_tokens + stream.completion_tokens}


async def _sse(call, stream: cap.ChatStream, stop: threading.Event, completion_id, created, model, include_usage):
    """Server-sent events as OpenAI streams them; a dropped client stops decoding (the engine's lease is
    released) and the request is metered as cancelled."""
    def chunk(delta: dict, finish=None, usage=None) -> str:
        body = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if usage is None else []}
        if usage is not None:
            body["usage"] = usage
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    iterator = iter(stream.deltas)
    finished = False
    try:
        yield chunk({"role": "assistant", "content": ""})
        while True:
            piece = await run_in_threadpool(next, iterator, None)
            if piece is None:
                break
            if piece:
                yield chunk({"content": piece})
        yield chunk({}, stream.finish_reason)
        if include_usage:
            yield chunk({}, usage=_usage(stream))
        yield "data: [DONE]\n\n"
        finished = True
    except Exception as err:  # the stream broke after the headers went out: say so in the stream
        from shared.api.errors import from_exception

        error = from_exception(err)
        yield f"data: {json.dumps(error.body())}\n\n"
        call.finish("user_error" if error.status < 500 else "server_error", error.status)
        finished = True
    finally:
        stop.set()
        close = getattr(iterator, "close", None)
        if close:
            await run_in_threadpool(close)  # runs the engine's finally: its lease is given back
        call.units(tokens_in=stream.prompt_tokens, tokens_out=stream.completion_tokens)
        call.finish("ok" if finished else "cancelled", 200 if finished else 499)


# ---- audio -------------------------------------------------------------------------------------
RESPONSE_FORMATS = ("json", "text", "srt", "vtt", "verbose_json", "diarized_json")


@router.post("/audio/transcriptions")
def transcriptions(request: Request, file: UploadFile = File(...), model: str = Form("default"),
                   language: str | None = Form(None), prompt: str = Form(""),
                   response_format: str = Form("json"), temperature: float = Form(0.0),
                   timestamp_granularities: list[str] = Form(default=[], alias="timestamp_granularities[]"),
                   speakers: bool = Form(False), num_speakers: int = Form(0)):
    return _audio(request, "transcribe", file, model, language, prompt, response_format, temperature,
                  timestamp_granularities, speakers, num_speakers)


@router.post("/audio/translations")
def translations(request: Request, file: UploadFile = File(...), model: str = Form("default"), prompt: str = Form(""),
                 response_format: str = Form("json"), temperature: float = Form(0.0)):
    return _audio(request, "translate", file, model, None, prompt, response_format, temperature, [], False, 0)


def _audio(request, task, file, model, language, prompt, response_format, temperature, granularities,
           speakers, num_speakers):
    if response_format not in RESPONSE_FORMATS:
        raise ApiError(400, f"response_format must be one of: {', '.join(RESPONSE_FORMATS)}.", "invalid_input",
                       "response_format")
    if not 0 <= temperature <= 1:
        raise ApiError(400, "temperature must be from 0 to 1.", "invalid_input", "temperature")
    product, service = resolve("transcription", model)
    options = cap.TranscribeOptions(language=language or None, task=task, prompt=prompt[:1000],
                                    word_timestamps="word" in granularities,
                                    speakers=speakers or response_format == "diarized_json",
                                    num_speakers=max(0, int(num_speakers)), temperature=temperature)
    with uploads.saved(file, "audio") as path, guarded(request, product, task) as call:
        call.model = service.model
        result: cap.Transcript = service.run(str(path), options)
        call.units(audio_s=round(result.duration, 2))
        if response_format == "text":
            return PlainTextResponse(result.text, headers=call.headers)
        if response_format == "srt":
            return PlainTextResponse(as_srt(result.segments), headers=call.headers)
        if response_format == "vtt":
            return PlainTextResponse(as_vtt(result.segments), media_type="text/vtt", headers=call.headers)
        usage = {"type": "duration", "seconds": round(result.duration, 2)}
        if response_format == "json":
            return call.json({"text": result.text, "usage": usage})
        segments = [{"id": s.id, "start": s.start, "end": s.end, "text": s.text,
                     **({"speaker": s.speaker} if s.speaker is not None else {})} for s in result.segments]
        out = {"task": task, "language": result.language, "duration": round(result.duration, 2),
               "text": result.text, "segments": segments, "usage": usage}
        if options.word_timestamps:
            out["words"] = [w for s in result.segments for w in (s.words or [])]
        return call.json(out)


# ---- images ------------------------------------------------------------------------------------
class ImageRequest(BaseModel):
    prompt: str = Field(min_length=1, max_length=4000)
    model: str | None = None
    n: int = Field(default=1, ge=1, le=MAX_IMAGES)
    size: str | None = None
    response_format: Literal["b64_json"] = "b64_json"
    seed: int | None = None
    negative_prompt: str = Field(default="", max_length=4000)
    steps: int | None = Field(default=None, ge=1, le=200)
    guidance: float | None = Field(default=None, ge=0, le=30)
    user: str | None = None


@router.post("/images/generations")
def images(body: ImageRequest, request: Request):
    width = height = None
    if body.size and body.size != "auto":
        try:
            width, height = (int(v) for v in body.size.lower().split("x"))
        except ValueError:
            raise ApiError(400, f"size must look like 256x256; got {body.size!r}.", "invalid_input", "size") from None
    product, service = resolve("images", body.model)
    options = cap.ImageOptions(n=body.n, width=width, height=height, seed=body.seed, steps=body.steps,
                               guidance=body.guidance, negative_prompt=body.negative_prompt)
    with guarded(request, product, "images") as call:
        call.model = service.model
        pictures: list[cap.Picture] = service.run(body.prompt, options)
        call.units(images=len(pictures))
        return call.json({"created": int(time.time()), "data": [
            {"b64_json": base64.b64encode(p.png).decode(), "revised_prompt": body.prompt, "seed": p.seed,
             "parameters": p.parameters} for p in pictures],
            "usage": {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}})
