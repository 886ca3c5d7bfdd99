"""Every user-facing string, in English and Chinese.

UI labels go through `I18N(key)` (Gradio picks the browser's language, English as fallback);
messages that functions return or raise go through `t(key, lang, **values)` with the language of
the request (`request_lang`). Products add their strings to STRINGS with `add`.
"""
from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {"en": {}, "zh": {}}


def add(table: dict[str, tuple[str, str]]) -> None:
    """Register strings: {key: (english, chinese)}."""
    for key, (en, zh) in table.items():
        STRINGS["en"][key] = en
        STRINGS["zh"][key] = zh


add({
    "app.title": ("# AI Product Matrix", "# AI 产品矩阵"),
    "app.subtitle": ("AI products side by side, each really working, on models that load when first used. "
                     "The System tab shows which models are loaded.",
                     "多个 AI 产品并排展示，每个都真实可用；模型在首次使用时加载。“系统”页显示已加载的模型。"),
    "common.error.internal": ("Something went wrong on our side (error id {id}). The details are in the server log "
                              "under that id.", "服务器出错了（错误编号 {id}），详情见服务器日志中的该编号。"),
    "common.error.in_use": ("Model {name} is in use ({leases} request(s)); try again when it is idle.",
                            "模型 {name} 正在使用中（{leases} 个请求），请在空闲时再试。"),
    "common.error.model": ("The model could not be loaded: {detail}", "模型无法加载：{detail}"),
    "common.error.busy": ("The server is busy with other models; please try again in a moment: {detail}",
                          "服务器正忙于其他模型，请稍后再试：{detail}"),
    "common.error.budget": ("This model does not fit in the server's memory budget: {detail}",
                            "此模型超出服务器的内存预算：{detail}"),
    "system.tab": ("System", "系统"),
    "system.models": ("Models", "模型"),
    "system.model": ("Model", "模型"),
    "system.load": ("Load", "加载"),
    "system.unload": ("Unload", "卸载"),
    "system.preload": ("Load all", "全部加载"),
    "system.refresh": ("Refresh", "刷新"),
    "system.device": ("Device and memory", "设备与内存"),
    "system.versions": ("Library versions", "库版本"),
    "system.products": ("Products", "产品"),
    "system.loaded": ("Model {name} is loaded.", "模型 {name} 已加载。"),
    "system.unloaded": ("Model {name} is unloaded.", "模型 {name} 已卸载。"),
    "system.not_loaded": ("Model {name} was not loaded.", "模型 {name} 未加载。"),
    "system.pick": ("Pick a model first.", "请先选择一个模型。"),
    "system.budget": ("Memory budget: {used:.0f} MB used of {budget:.0f} MB; keep-alive {keep}.",
                      "内存预算：已用 {used:.0f} MB / {budget:.0f} MB；空闲保留 {keep}。"),
})


def t(key: str, lang: str = "en", **values) -> str:
    table = STRINGS.get(lang) or STRINGS["en"]
    text = table.get(key) or STRINGS["en"].get(key, key)
    return text.format(**values) if values else text


def request_lang(request) -> str:
    """'zh' when the browser prefers Chinese, else 'en' (from the Accept-Language header)."""
    try:
        header = request.headers.get("accept-language", "") if request is not None else ""
    except Exception:
        header = ""
    first = header.split(",")[0].strip().lower()
    return "zh" if first.startswith("zh") else "en"


def gradio_i18n():
    """The gr.I18n object for launch(i18n=...)."""
    import gradio as gr

    return gr.I18n(**STRINGS)


class _Keys:
    """I18N('key') -> gradio's I18nData, created lazily so importing a product needs no Gradio."""

    def __call__(self, key: str):
        from gradio.i18n import I18nData

        return I18nData(key)


I18N = _Keys()
