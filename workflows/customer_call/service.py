"""The customer call as a REST endpoint: POST /api/v1/customer_call/analyse (multipart: the recording,
language, upto) runs the workflow and returns the JSON of every step, metered like a product's call."""
# No `from __future__ import annotations`: FastAPI reads the route's parameter types.


def routes():
    """The native route (imported when the API server is built, not when the app is)."""
    from fastapi import APIRouter, File, Form, Request, UploadFile

    from shared.api import uploads
    from shared.api.guard import guarded
    from workflows.customer_call.pipeline import STEPS, analyse, check_step

    router = APIRouter()

    @router.post("/analyse", summary="A recorded call through every step; the JSON of each step")
    def analyse_route(request: Request, file: UploadFile = File(...), language: str = Form("auto"),
                      upto: str = Form("image")):
        check_step(upto)
        with uploads.saved(file, "call") as path, guarded(request, "customer_call", "call_analyse_api") as call:
            for result in analyse(str(path), language, upto=upto):
                pass
            call.units(audio_s=round(max([t.end for t in result.turns] + [0.0]), 2), turns=len(result.turns),
                       items=len(result.items), steps=len(result.done))
            body = result.to_json()
            body["steps"] = [s for s in STEPS if s in result.done]
            return call.json(body)

    return router
