"""The System tab: the registry's status, load/unload per model, device, memory and versions, and the
REST API's keys (shared/keys_tab.py). Every operation is also a named API endpoint. Status is public;
load, unload, load all, verify and the keys need the admin password (shared/admin.py), which API
callers pass as the last argument."""
from __future__ import annotations

import importlib.metadata

import gradio as gr

from shared import admin, descriptor, keys_tab, setup
from shared import device as devices
from shared.i18n import I18N, add, request_lang, t
from shared.models import registry
from shared.ui import progress_adapter, user_errors

LIBRARIES = ("gradio", "torch", "transformers", "diffusers", "openai-whisper", "faster-whisper", "ctranslate2",
             "implicit", "pandas", "numpy", "safetensors")
VERIFY_COLUMNS = ["name", "path", "ok", "detail", "seconds"]
STATUS_COLUMNS = ["name", "state", "source", "device", "dtype", "MB", "load s", "last used", "leases", "pinned", "note"]


def status_row(status: dict) -> dict:
    """One registry status (data) as the table shows it: MB, seconds and the clock time rounded."""
    import time

    last = status["last_used"]
    return {**{k: status[k] for k in ("name", "state", "source", "device", "dtype")},
            "MB": round(status["bytes"] / 1e6, 1),
            "load s": round(status["load_seconds"], 2) if status["load_seconds"] is not None else None,
            "last used": time.strftime("%H:%M:%S", time.localtime(last)) if last else "",
            **{k: status[k] for k in ("leases", "pinned", "note", "description")}}


def status_rows() -> list[dict]:
    """The registry status, formatted (API: /system_status)."""
    return [status_row(s) for s in registry.status()]


def status_table():
    import pandas as pd

    return pd.DataFrame(status_rows(), columns=STATUS_COLUMNS)


def budget_line(request: gr.Request = None) -> str:
    keep = registry._keep_alive
    return t("system.budget", request_lang(request), used=registry.used_bytes() / 1e6,
             budget=registry.budget_bytes / 1e6, keep=f"{keep:.0f}s" if keep > 0 else "∞")


add({
    "system.verify": ("Verify model files", "校验模型文件"),
    "system.verify_result": ("Verification of every embedded model file", "所有内置模型文件的校验结果"),
    "system.setup": ("Set-up steps (the same as `python -m setup_steps`; on a Space they run in the background "
                     "while the tabs use their fallbacks)",
                     "安装步骤（与 `python -m setup_steps` 相同；在 Space 上于后台运行，期间各标签页使用备用引擎）"),
    "system.verified": ("{ok} of {total} artifacts verified by size and sha256 ({failed} failed) in {seconds:.1f} s.",
                        "已按大小和 sha256 校验 {total} 个中的 {ok} 个（{failed} 个失败），用时 {seconds:.1f} 秒。"),
})


@user_errors
def load_model(name: str, password: str = "", request: gr.Request = None, progress=gr.Progress()):
    lang = request_lang(request)
    admin.require(password, lang)
    if not name:
        raise gr.Error(t("system.pick", lang))
    registry.load(name, progress_adapter(progress))
    gr.Info(t("system.loaded", lang, name=name))
    return status_table(), budget_line(request)


@user_errors
def unload_model(name: str, password: str = "", request: gr.Request = None):
    lang = request_lang(request)
    admin.require(password, lang)
    if not name:
        raise gr.Error(t("system.pick", lang))
    done = registry.unload(name)
    gr.Info(t("system.unloaded" if done else "system.not_loaded", lang, name=name))
    return status_table(), budget_line(request)


@user_errors
def preload_all(password: str = "", request: gr.Request = None, progress=gr.Progress()):
    admin.require(password, request_lang(request))
    registry.preload(None)
    return status_table(), budget_line(request)


@user_errors
def verify_files(password: str = "", request: gr.Request = None):
    """Re-hash every embedded model file (not trusting remembered checksums)."""
    import time

    import pandas as pd

    from shared.artifacts import verify_all
    from shared.catalog import all_artifacts

    lang = request_lang(request)
    admin.require(password, lang)
    start = time.perf_counter()
    rows = verify_all(all_artifacts(), force=True)
    ok = sum(1 for r in rows if r["ok"])
    gr.Info(t("system.verified", lang, ok=ok, total=len(rows), failed=len(rows) - ok,
              seconds=time.perf_counter() - start))
    return pd.DataFrame(rows, columns=VERIFY_COLUMNS)


ADMIN_BUTTONS = 7  # load, unload, load all, verify; create, revoke and list keys


@user_errors
def unlock(password: str, request: gr.Request = None):
    """Make the admin buttons usable on this page when the password is right."""
    lang = request_lang(request)
    admin.require(password, lang)
    gr.Info(t("admin.unlocked", lang))
    return [gr.update(interactive=True)] * ADMIN_BUTTONS + [t("admin.unlocked", lang)]


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


PRODUCT_COLUMNS = ["product", "package", "status", "actions", "rated", "feedback kinds", "measures", "settings"]


def product_rows(report) -> list[dict]:
    """What each product package declared and whether its tab is shown (API: /system_products)."""
    rows = []
    for package, product, status in report:
        declared = product or descriptor.Product(name="-", title="", build_tab=lambda: None, actions=())
        rows.append({"product": declared.name, "package": package, "status": status,
                     "actions": ", ".join(declared.actions), "rated": ", ".join(declared.rated),
                     "feedback kinds": ", ".join(declared.kind_names),
                     "measures": ", ".join(m.name for m in declared.measures),
                     "settings": ", ".join(s.env for cls in (product.settings if product else ()) for s in cls.declared)})
    return rows


def setup_table():
    """Each set-up step of the last run with this cache (shared/setup.py's status file)."""
    import pandas as pd

    return pd.DataFrame(setup.table_rows(), columns=setup.COLUMNS)


def setup_status() -> list[dict]:
    """The set-up steps as data (API: /system_setup): name, title, state, done, total, text, note, times."""
    return (setup.read_status() or {}).get("steps", [])


def build_tab(product_report) -> None:
    """product_report: (package, Product or None, status) per product package, in tab order."""
    budget = gr.Markdown()
    table = gr.Dataframe(label=I18N("system.models"), headers=STATUS_COLUMNS, interactive=False, wrap=True)
    steps = gr.Dataframe(setup_table, label=I18N("system.setup"), headers=setup.COLUMNS, interactive=False,
                         wrap=True)
    with gr.Row():
        name = gr.Dropdown(registry.names(), label=I18N("system.model"), scale=3)
        # Locked until the admin password is entered (the server checks it again on every action).
        load = gr.Button(I18N("system.load"), variant="primary", scale=1, interactive=False)
        unload = gr.Button(I18N("system.unload"), scale=1, interactive=False)
        preload = gr.Button(I18N("system.preload"), scale=1, interactive=False)
        refresh = gr.Button(I18N("system.refresh"), scale=1)
    with gr.Accordion(I18N("admin.title"), open=False):
        note = gr.Markdown(I18N("admin.locked" if admin.enabled() else "admin.disabled"), elem_id="system-admin-note")
        with gr.Row():
            password = gr.Textbox(label=I18N("admin.password"), type="password", max_length=200, scale=3)
            unlock_button = gr.Button(I18N("admin.unlock"), scale=1)
            verify = gr.Button(I18N("system.verify"), scale=1, interactive=False)
        verified = gr.Dataframe(label=I18N("system.verify_result"), headers=VERIFY_COLUMNS, interactive=False,
                                wrap=True)
    key_buttons, key_table = keys_tab.build(password)
    with gr.Row():
        with gr.Column():
            gr.Markdown(I18N("system.device"))
            device = gr.JSON(show_label=False)
        with gr.Column():
            gr.Markdown(I18N("system.versions"))
            gr.Dataframe(versions(), headers=["library", "version"], interactive=False)
            gr.Markdown(I18N("system.products"))
            listed = product_rows(product_report)
            gr.Dataframe([[r[c] for c in PRODUCT_COLUMNS] for r in listed], headers=PRODUCT_COLUMNS,
                         interactive=False, wrap=True)

    load.click(load_model, [name, password], [table, budget], api_name="system_load", concurrency_limit=1)
    unload.click(unload_model, [name, password], [table, budget], api_name="system_unload", concurrency_limit=1)
    preload.click(preload_all, [password], [table, budget], api_name="system_preload", concurrency_limit=1)
    verify.click(verify_files, [password], [verified], api_name="system_verify", concurrency_limit=1)
    unlocked = gr.on([unlock_button.click, password.submit], unlock, [password],
                     [load, unload, preload, verify, *key_buttons, note], api_visibility="private",
                     concurrency_limit=1, concurrency_id="system-unlock")
    unlocked.success(keys_tab.listing, [password], [key_table], api_visibility="private", concurrency_limit=1,
                     concurrency_id="system-keys")  # unlocked: show the keys
    # The table refreshes itself; device facts need torch, so they are read after start-up, here.
    gr.on([refresh.click, gr.Timer(5).tick], refresh_all, None, [table, budget, device, steps],
          api_visibility="private", queue=False, show_progress="hidden")
    gr.api(status_rows, api_name="system_status")
    gr.api(setup_status, api_name="system_setup")
    gr.api(device_info, api_name="system_device")

    def system_products() -> list[dict]:
        """Each product package: what it declared and whether its tab is shown."""
        return listed

    gr.api(system_products, api_name="system_products")


def refresh_all(request: gr.Request = None):
    return status_table(), budget_line(request), device_info(), setup_table()
