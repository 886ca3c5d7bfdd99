"""The System tab: the registry's status, load/unload per model, device, memory and versions.
Every operation is also a named API endpoint."""
from __future__ import annotations

import importlib.metadata

import gradio as gr

from shared import device as devices
from shared.i18n import I18N, request_lang, t
from shared.models import registry
from shared.ui import progress_adapter, user_errors

LIBRARIES = ("gradio", "torch", "transformers", "diffusers", "openai-whisper", "faster-whisper", "ctranslate2",
             "implicit", "pandas", "numpy", "safetensors")
STATUS_COLUMNS = ["name", "state", "source", "device", "dtype", "MB", "load s", "last used", "leases", "pinned", "note"]


def status_rows() -> list[dict]:
    """The registry status (API: /system_status)."""
    return registry.status()


def status_table():
    import pandas as pd

    return pd.DataFrame(status_rows(), columns=STATUS_COLUMNS)


def budget_line(request: gr.Request = None) -> str:
    keep = registry._keep_alive
    return t("system.budget", request_lang(request), used=registry.used_bytes() / 1e6,
             budget=registry.budget_bytes / 1e6, keep=f"{keep:.0f}s" if keep > 0 else "∞")


@user_errors
def load_model(name: str, request: gr.Request = None, progress=gr.Progress()):
    lang = request_lang(request)
    if not name:
        raise gr.Error(t("system.pick", lang))
    registry.load(name, progress_adapter(progress))
    gr.Info(t("system.loaded", lang, name=name))
    return status_table(), budget_line(request)


@user_errors
def unload_model(name: str, request: gr.Request = None):
    lang = request_lang(request)
    if not name:
        raise gr.Error(t("system.pick", lang))
    done = registry.unload(name)
    gr.Info(t("system.unloaded" if done else "system.not_loaded", lang, name=name))
    return status_table(), budget_line(request)


@user_errors
def preload_all(request: gr.Request = None, progress=gr.Progress()):
    registry.preload(None)
    return status_table(), budget_line(request)


def versions() -> list[list[str]]:
    rows = []
    for name in LIBRARIES:
        try:
            rows.append([name, importlib.metadata.version(name)])
        except importlib.metadata.PackageNotFoundError:
            rows.append([name, "not installed"])
    return rows


def device_info() -> dict:
    return devices.describe()


def build_tab(product_report: list[list[str]]) -> None:
    budget = gr.Markdown()
    table = gr.Dataframe(label=I18N("system.models"), headers=STATUS_COLUMNS, interactive=False, wrap=True)
    with gr.Row():
        name = gr.Dropdown(registry.names(), label=I18N("system.model"), scale=3)
        load = gr.Button(I18N("system.load"), variant="primary", scale=1)
        unload = gr.Button(I18N("system.unload"), scale=1)
        preload = gr.Button(I18N("system.preload"), scale=1)
        refresh = gr.Button(I18N("system.refresh"), scale=1)
    with gr.Row():
        with gr.Column():
            gr.Markdown(I18N("system.device"))
            device = gr.JSON(show_label=False)
        with gr.Column():
            gr.Markdown(I18N("system.versions"))
            gr.Dataframe(versions(), headers=["library", "version"], interactive=False)
            gr.Markdown(I18N("system.products"))
            gr.Dataframe(product_report, headers=["product", "status"], interactive=False)

    load.click(load_model, [name], [table, budget], api_name="system_load", concurrency_limit=1)
    unload.click(unload_model, [name], [table, budget], api_name="system_unload", concurrency_limit=1)
    preload.click(preload_all, None, [table, budget], api_name="system_preload", concurrency_limit=1)
    # The table refreshes itself; device facts need torch, so they are read after start-up, here.
    gr.on([refresh.click, gr.Timer(5).tick], refresh_all, None, [table, budget, device],
          api_visibility="private", queue=False, show_progress="hidden")
    gr.api(status_rows, api_name="system_status")
    gr.api(device_info, api_name="system_device")


def refresh_all(request: gr.Request = None):
    return status_table(), budget_line(request), device_info()
