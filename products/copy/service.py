"""Copy as a service: the copy models as /v1/chat/completions models (products/copy/chat.py), and the
native route /api/v1/copy/generate (a brief in; the variants out, streamed as server-sent events or
as one JSON), on core.generate as the tab calls it."""

import json
import threading
from functools import partial

from pydantic import BaseModel, Field

from shared.descriptor import Service

from products.copy import models
from products.copy.options import Options


def services() -> tuple[Service, ...]:
    """A chat model per configured copy model (the default first), read when the API is asked."""
    from products.copy.chat import chat

    configured = models.configured_models()
    return tuple(Service("chat", name, partial(chat, name), f"Copy model {name} as a plain chat model",
                         default=(i == 0)) for i, name in enumerate(configured))


class BriefRequest(BaseModel):
    product: str = Field(default="", max_length=20_000)
    description: str = Field(default="", max_length=20_000)
    features: str = Field(default="", max_length=20_000)
    audience: str = Field(default="", max_length=20_000)
    tone: str = Field(default="friendly", max_length=200)
    voice: str = Field(default="", max_length=20_000)
    avoid: str = Field(default="", max_length=20_000)
    template: str = "product_description"
    language: str = "en"
    model: str | None = None
    variants: int = Field(default=3, ge=1, le=5)
    temperature: float = Field(default=0.7, ge=0, le=2)
    top_p: float = Field(default=0.9, gt=0, le=1)
    max_tokens: int = Field(default=0, ge=0, le=4096)
    seed: int | str | None = -1
    stream: bool = False


def _final(update) -> dict:
    template, lang = update.template, update.lang
    return {"variants": [{"text": v.copy_text(template, lang) if template else update.texts[i],
                          "lines": [{"field": line.field, "text": line.text} for line in v.lines],
                          "notes": list(v.notes)} for i, v in enumerate(update.variants)],
            "notes": list(update.notes), "stopped": update.stopped,
            "stats": {"prompt_tokens": update.stats.prompt_tokens, "tokens_per_variant": update.stats.steps,
                      "seconds": round(update.stats.seconds, 3), "seed": update.stats.seed,
                      "engine": update.stats.engine, "decode_tok_s": round(update.stats.decode_tok_s, 2),
                      "decode_s": round(update.stats.decode_s, 3), "repair_s": round(update.stats.repair_s, 3)}}


def routes():
    """The native routes (imported when the API server is built, not when the app is)."""
    from fastapi import APIRouter, Request
    from fastapi.responses import StreamingResponse
    from starlette.concurrency import run_in_threadpool

    from shared.api.guard import guarded, outcome_of

    from products.copy import core
    from products.copy.templates import Brief

    router = APIRouter()

    @router.post("/generate", summary="Copy for a brief: N variants, streamed (server-sent events) or as one JSON")
    async def generate(body: BriefRequest, request: Request):
        brief = Brief(body.product, body.description, body.features, body.audience, body.tone, body.voice, body.avoid)
        options = Options(variants=body.variants, temperature=body.temperature, top_p=body.top_p,
                          max_new_tokens=body.max_tokens, seed=body.seed)
        stop = threading.Event()

        def start():
            with guarded(request, "copy", "copy_generate_api") as call:
                call.model = body.model or models.configured_models()[0]
                call.streaming = True  # metered when the last update is out (or the client is gone)
                updates = core.generate(brief, body.template, body.language, options, call.model, stop=stop)
                first = next(updates)  # checks the brief now: a bad one is a 400, not a broken stream
                return call, first, updates

        call, first, updates = await run_in_threadpool(start)

        def measure(update) -> None:
            call.units(tokens_in=update.stats.prompt_tokens, tokens_out=update.stats.steps * len(update.texts),
                       rows=len(update.texts))

        if not body.stream:
            last = first
            try:
                for update in await run_in_threadpool(list, updates):
                    last = update
            except BaseException as err:
                stop.set()
                call.finish(*outcome_of(err))
                raise
            measure(last)
            call.finish()
            return call.json(_final(last))

        async def events():
            finished, last = False, first
            try:
                update = first
                while True:
                    last = update
                    event = _final(update) if update.done else {"texts": update.texts}
                    yield f"event: {'done' if update.done else 'update'}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"
                    if update.done:
                        break
                    update = await run_in_threadpool(next, updates, None)
                    if update is None:
                        break
                finished = True
            except Exception as err:
                from shared.api.errors import from_exception

                error = from_exception(err)
                yield f"event: error\ndata: {json.dumps(error.body(), ensure_ascii=False)}\n\n"
                call.finish("user_error" if error.status < 500 else "server_error", error.status)
            finally:
                stop.set()
                await run_in_threadpool(updates.close)  # the generator's finally: the model's lease is released
                measure(last)
                call.finish("ok" if finished else "cancelled", 200 if finished else 499)

        return StreamingResponse(events(), media_type="text/event-stream", headers=call.headers)

    return router
