"""The first tab: what an AI product matrix is, told with this server's live state. Each product and
workflow with what it does, its models and whether they are loaded; how users' feedback improves the
products (live counts from the store); and one button that runs the bundled example call through the
customer-call workflow."""
from __future__ import annotations

import gradio as gr

from shared import store
from shared.i18n import I18N, add, request_lang, t
from shared.models import registry
from shared.ui import HEAVY, HEAVY_LIMIT

add({
    "overview.tab": ("Overview", "概览"),
    "overview.story": (
        "**An AI product matrix**: products that get better from their users, are watched after they ship, "
        "combine into one offer, and are sold as a service. Here:\n\n"
        "- **Working together**: the *Customer call* tab runs speech, sentiment, copy and image on one recording.\n"
        "- **Better from feedback**: every result can be rated or corrected; the ratings are stored with the model "
        "that made them, and sentiment retrains from corrections (admins, guarded by held-out accuracy).\n"
        "- **Watched**: the *Insights* tab shows latency, errors, satisfaction and corrections per product and model.\n"
        "- **Sold as a service**: a keyed, metered REST API with OpenAI-compatible endpoints (`/docs`).\n"
        "- **One registry**: every model loads on first use, is shared by every tab and the API, and stays within a "
        "memory budget (the *System* tab).",
        "**AI 产品矩阵**：产品因用户而变得更好，上线后持续监控，组合成一个整体方案，并以服务形式出售。在这里：\n\n"
        "- **协同工作**：“客户来电”页用一段录音串起语音、情绪、文案和图像。\n"
        "- **从反馈中改进**：每个结果都可以评价或校正；反馈与生成它的模型一起保存，情绪模型可根据校正重新训练（管理员操作，"
        "以留出集准确率把关）。\n"
        "- **持续监控**：“洞察”页按产品和模型显示延迟、错误、满意度和校正。\n"
        "- **以服务出售**：带密钥和计量的 REST API，兼容 OpenAI 接口（`/docs`）。\n"
        "- **一个模型注册表**：模型首次使用时加载，所有页面和 API 共享，并控制在内存预算内（“系统”页）。"),
    "overview.products": ("Products and workflows", "产品与工作流"),
    "overview.feedback": ("Feedback so far: **{ratings}** ratings and corrections on **{requests}** requests "
                          "({by_product}).", "目前的反馈：**{requests}** 个请求中有 **{ratings}** 条评价和校正（{by_product}）。"),
    "overview.no_feedback": ("No feedback recorded yet: rate a result in any tab.", "还没有反馈：可在任一页面评价结果。"),
    "overview.example": ("Run the example call through the workflow", "用示例来电运行整个工作流"),
    "overview.example_note": ("A bundled, scripted call: each step's result appears below as it finishes; the "
                              "Customer call tab takes your own recording.",
                              "一段内置的脚本来电：每完成一步，结果就显示在下方；“客户来电”页可分析你自己的录音。"),
    "overview.results": ("The example call", "示例来电"),
})

COLUMNS = ["name", "what it does", "models", "loaded"]


def model_names(product) -> list[str]:
    """The registry models of a product (named after it), or of the products a workflow uses."""
    owners = product.uses or (product.name,)
    return [name for name in registry.names() if any(name.startswith(owner) for owner in owners)]


def summary(product) -> str:
    """What it does: the first sentence of its package's docstring (where its PRODUCT is declared)."""
    import inspect

    module = inspect.getmodule(product.build_tab)
    text = " ".join((getattr(module, "__doc__", "") or "").split())
    first = text.split(": ", 1)[-1] if ": " in text[:40] else text
    return first.split(". ")[0].rstrip(".")[:160]


def rows(loaded) -> list[list[str]]:
    states = {s["name"]: s["state"] for s in registry.status()}
    out = []
    for product in loaded:
        names = model_names(product)
        ready = [n for n in names if states.get(n) == "loaded"]
        out.append([product.name, summary(product), ", ".join(names), f"{len(ready)} of {len(names)}"])
    return out


def feedback_line(request: gr.Request = None) -> str:
    from sqlalchemy import func, select

    from shared.store.schema import feedback, requests

    lang = request_lang(request)
    try:
        store.writer().flush(2)
        ratings = store.read(select(feedback.c.product, func.count().label("n")).group_by(feedback.c.product))
        served = store.read(select(func.count().label("n")).select_from(requests))
    except Exception:  # the store is optional: the overview never fails for it
        return t("overview.no_feedback", lang)
    total = int(ratings["n"].sum()) if not ratings.empty else 0
    if not total:
        return t("overview.no_feedback", lang)
    by_product = ", ".join(f"{r['product']} {int(r['n'])}" for _, r in ratings.iterrows())
    return t("overview.feedback", lang, ratings=total, requests=int(served["n"].iloc[0]), by_product=by_product)


def build_tab(loaded) -> None:
    gr.Markdown(I18N("overview.story"))
    table = gr.Dataframe(rows(loaded), headers=COLUMNS, label=I18N("overview.products"), interactive=False,
                         wrap=True)
    counts = gr.Markdown()
    timer = gr.Timer(10)
    gr.on([timer.tick], lambda: rows(loaded), None, table, api_visibility="private", queue=False,
          show_progress="hidden")
    gr.on([timer.tick], feedback_line, None, counts, api_visibility="private", queue=False, show_progress="hidden")
    from workflows.customer_call import tab as call_tab

    examples = call_tab.bundled_examples()
    if examples:
        run = gr.Button(I18N("overview.example"), variant="primary")
        gr.Markdown(I18N("overview.example_note"))
        with gr.Accordion(I18N("overview.results"), open=True):
            outputs = call_tab.results()
        run.click(call_tab.run_call, [gr.State(examples[0][0]), gr.State("auto")], outputs, api_name="call_example",
                  concurrency_limit=HEAVY_LIMIT, concurrency_id=HEAVY)
