"""AI Product Matrix: assembles one tab per product plus System, and launches.

    python app.py [--host 0.0.0.0] [--port 7860] [--share]

Importing this module builds the interface and loads no model: models load on first use.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

import shared  # noqa: F401  (sets OMP_WAIT_POLICY before anything imports torch)
from shared.config import settings

import gradio as gr

import products
from products import PRODUCTS
from workflows import WORKFLOWS, overview
from shared import capture, descriptor, feedback, insights_tab, outputs, system_tab
from shared.artifacts import clean_stale_partials
from shared.i18n import I18N, gradio_i18n
from shared.models import registry
from shared.validate import SafeBlocks
from shared.zerogpu import on_zero_gpu, start_up_models

log = logging.getLogger("app")
ROOT = Path(__file__).resolve().parent


def build_app(packages: list[str] | None = None) -> gr.Blocks:
    """The overview, one tab per workflow and product package (default: workflows.WORKFLOWS, then
    products.PRODUCTS), then Insights and System. Their descriptors are handed to the shared layer first:
    capture, feedback and both tabs read them."""
    loaded = products.load(WORKFLOWS + PRODUCTS if packages is None else packages)
    descriptor.register([product for _, product, _ in loaded if product is not None])
    if capture.model_event not in registry.listeners:  # loads and evictions, for the Insights tab
        registry.listeners.append(capture.model_event)
    with SafeBlocks(title="AI Product Matrix", delete_cache=(600, int(settings().output_ttl_s))) as demo:
        gr.Markdown(I18N("app.title"), elem_id="app-title")
        gr.Markdown(I18N("app.subtitle"))
        with gr.Tabs():
            with gr.Tab(I18N("overview.tab"), id="overview"):
                overview.build_tab([product for _, product, _ in loaded if product is not None])
            report = []
            for package, product, status in loaded:
                if product is not None:
                    try:
                        with gr.Tab(I18N(product.title), id=product.name, elem_id=f"tab-{product.name}"):
                            product.build_tab()
                    except Exception as err:  # a broken product hides its tab; the others still run
                        log.exception("product %s is not shown", package)
                        status = f"not shown: {type(err).__name__}: {err}"
                report.append((package, product, status))
            with gr.Tab(I18N("insights.tab"), id="insights"):
                insights_tab.build_tab()
            with gr.Tab(I18N("system.tab"), id="system"):
                system_tab.build_tab(report)
        feedback.build_api()  # /feedback and /feedback_requests (hidden components, validated inputs)
    return demo


def ui_options() -> dict:
    """How the UI is served, whether by Gradio's own server (launch) or mounted in the API's (serve)."""
    return dict(
        i18n=gradio_i18n(),
        max_file_size=f"{settings().max_upload_mb}mb",
        # Gradio serves only files the app created (results, uploads); nothing else is reachable.
        allowed_paths=[],
        blocked_paths=[str(ROOT / ".git")],
        theme=gr.themes.Soft(),
        show_error=True,
    )


def queue(demo: gr.Blocks) -> gr.Blocks:
    return demo.queue(max_size=settings().queue_size, default_concurrency_limit=1)


def launch(demo: gr.Blocks, share: bool = False, **overrides):
    """The UI alone on Gradio's server (tests, --share, ZeroGPU)."""
    config = settings()
    queue(demo)
    options = dict(server_name=config.host, server_port=config.port, share=share, **ui_options())
    options.update(overrides)
    return demo.launch(**options)


def server(demo: gr.Blocks):
    """One server, two faces: the REST API (/v1/, /api/v1/, /docs) with the UI mounted at "/"."""
    from shared.api.server import build

    return build(queue(demo), ui_options())


def serve(demo: gr.Blocks, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(server(demo), host=host, port=port, log_level=settings().log_level.lower(),
                timeout_graceful_shutdown=5)


def start_setup_in_background():
    """On a Hugging Face Space (or AIPM_SETUP=background) the set-up steps that scripts/setup.sh runs on
    a machine (setup_steps.py: embedded packages, EmbeddingGemma, llama.cpp, data) run here, in a thread,
    while the UI is up: the tabs run on their fallbacks and say so until each step is done, then switch.
    The runner is shared's (it knows no product); the System tab reads the status file it writes."""
    from shared import setup

    if not setup.background_wanted():
        return None
    import setup_steps

    return setup_steps.runner(echo=log.info).start()


def main() -> None:
    parser = argparse.ArgumentParser(description="AI Product Matrix")
    parser.add_argument("--host", help="interface to serve on (default: AIPM_HOST)")
    parser.add_argument("--port", type=int, help="port (default: AIPM_PORT)")
    parser.add_argument("--share", action="store_true", help="create a public gradio.live link")
    args = parser.parse_args()
    logging.basicConfig(level=settings().log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    clean_stale_partials()  # what a process killed mid-join or mid-conversion left in the cache
    outputs.sweep()
    preload = start_up_models(settings().preload)
    if preload:  # eager mode (ZeroGPU wants models loaded at start-up, on CPU)
        registry.preload(None if "all" in preload else list(preload))
    host, port = args.host or settings().host, args.port or settings().port
    start_setup_in_background()  # nothing here waits for it: the first page is served at once
    if args.share or on_zero_gpu():  # gradio.live and ZeroGPU need Gradio's own server: the UI alone
        launch(demo, share=args.share, server_name=host, server_port=port)
    else:
        serve(demo, host, port)


demo = build_app()  # for `gradio app.py` and Hugging Face Spaces

if __name__ == "__main__":
    main()
