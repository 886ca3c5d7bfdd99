"""The Insights tab: what the store recorded, for a product team showing the demo.

Requests per product over time, p50/p95 latency per product and model, error rate, feedback rate and
satisfaction per product/model/template (an A/B view of templates), the confusion of label corrections,
word error rate from text corrections, usage per product (its declared measures), model loads and
unloads; filters for time, product and model; deleting this session's data; an admin export of
feedback as a training set (CSV or Parquet); REST API usage per key and the month's bill for admins
(shared/usage_view.py). The products are the registered descriptors.
"""
from __future__ import annotations

import time

import gradio as gr

from shared import admin, descriptor, store
from shared.i18n import I18N, add, request_lang, t
from shared.outputs import request_dir
from shared.spreadsheet import neutralise
from shared.ui import user_errors

add({
    "insights.tab": ("Insights", "洞察"),
    "insights.intro": ("What this server measured: every request (no user content unless the server stores it, "
                       "see README) and every rating. Refresh to see your latest requests.",
                       "本服务器记录的数据：每个请求（除非服务器开启内容存储，否则不含用户内容，见 README）和每条反馈。"
                       "点击刷新查看最新请求。"),
    "insights.range": ("Time range", "时间范围"), "insights.product": ("Product", "产品"),
    "insights.model": ("Model", "模型"), "insights.refresh": ("Refresh", "刷新"),
    "insights.all": ("all", "全部"),
    "insights.requests_plot": ("Requests per product", "各产品请求数"),
    "insights.latency": ("Latency, errors and feedback per product and model", "各产品和模型的延迟、错误与反馈"),
    "insights.p95_plot": ("p95 latency (ms) per model", "各模型 p95 延迟（毫秒）"),
    "insights.templates": ("Feedback per template, preset and model (what gets picked and liked)",
                           "按模板、预设和模型统计的反馈（哪些被选用和喜欢）"),
    "insights.confusion": ("Labels: the model's label vs the label users gave", "标签：模型标签与用户给出的标签"),
    "insights.wer": ("Corrections: word error rate of the model's text against users' corrections",
                     "校正：模型文本与用户校正相比的词错误率"),
    "insights.usage": ("Usage per product: requests and the units each product measures",
                       "各产品用量：请求数和各产品计量的单位"),
    "insights.models": ("Model loads and unloads", "模型加载与卸载"),
    "insights.summary": ("**{requests}** requests ({errors:.1%} errors), **{feedback}** ratings (feedback rate "
                         "{rate:.1%}, satisfaction {satisfaction}). Store: {written} events written, {queued} waiting, "
                         "**{dropped}** dropped ({full} queue full, {down} database unavailable){error}. Database: `{db}`.",
                         "**{requests}** 个请求（错误率 {errors:.1%}），**{feedback}** 条反馈（反馈率 {rate:.1%}，满意度 "
                         "{satisfaction}）。存储：已写入 {written} 个事件，{queued} 个待写入，**{dropped}** 个丢弃（队列满 {full}，"
                         "数据库不可用 {down}）{error}。数据库：`{db}`。"),
    "insights.mine": ("Your data", "你的数据"),
    "insights.forget": ("Delete everything recorded for this page's session", "删除本页面会话的全部记录"),
    "insights.forgotten": ("Everything recorded for this session is being deleted.", "正在删除本会话的全部记录。"),
    "insights.export": ("Export feedback as a training set (admins)", "导出反馈作为训练集（管理员）"),
    "insights.format": ("Format", "格式"), "insights.export_go": ("Export", "导出"),
    "insights.exported": ("{rows} ratings exported.", "已导出 {rows} 条反馈。"),
    "insights.file": ("Export file", "导出文件"),
})

RANGES = {"hour": 3600, "day": 86400, "week": 7 * 86400, "month": 30 * 86400, "all": None}
BUCKETS = {"hour": "1min", "day": "1h", "week": "6h", "month": "1D", "all": "1D"}
ALL = "all"
_MAX_ROWS = 200_000


def _where(table, since, product, model):
    from sqlalchemy import select

    query = select(table).order_by(table.c.ts.desc()).limit(_MAX_ROWS)
    if since:
        query = query.where(table.c.ts >= since)
    if product and product != ALL and "product" in table.c:
        query = query.where(table.c.product == product)
    if model and model != ALL and "model" in table.c:
        query = query.where(table.c.model == model)
    return query


def load(range_key: str = "day", product: str = ALL, model: str = ALL) -> dict:
    """The filtered rows: requests, feedback, model events (DataFrames)."""
    from shared.store.schema import feedback, model_events, requests

    store.writer().flush(2)
    span = RANGES.get(range_key)
    since = time.time() - span if span else None
    return {"requests": _numeric(store.read(_where(requests, since, product, model)), requests),
            "feedback": _numeric(store.read(_where(feedback, since, product, model)), feedback),
            "models": _numeric(store.read(_where(model_events, since, ALL, model)), model_events)}


def _numeric(frame, table):
    """Number columns as numbers even when every value is empty (pandas reads those as objects)."""
    import pandas as pd
    from sqlalchemy import Float, Integer

    for column in table.columns:
        if isinstance(column.type, (Float, Integer)) and column.name in frame and column.name != "id":
            frame[column.name] = pd.to_numeric(frame[column.name], errors="coerce")
    return frame


def requests_over_time(frame, range_key: str):
    import pandas as pd

    if frame.empty:
        return pd.DataFrame({"time": pd.Series(dtype="datetime64[ns]"), "requests": [], "product": []})
    when = pd.to_datetime(frame["ts"], unit="s").dt.floor(BUCKETS.get(range_key, "1h"))
    out = frame.assign(time=when).groupby(["time", "product"]).size().reset_index(name="requests")
    return out


def latency_table(requests, feedback):
    """Per product and model: requests, p50/p95 of run and queue time, error rate, feedback rate, satisfaction."""
    import pandas as pd

    columns = ["product", "model", "requests", "p50 ms", "p95 ms", "queue p95 ms", "errors", "ratings",
               "feedback rate", "satisfaction"]
    if requests.empty:
        return pd.DataFrame(columns=columns)
    frame = requests.assign(model=requests["model"].fillna("-"))
    groups = frame.groupby(["product", "model"])
    out = groups.agg(requests=("id", "size")).reset_index()
    out["p50 ms"] = groups["run_ms"].quantile(0.5).round(1).values
    out["p95 ms"] = groups["run_ms"].quantile(0.95).round(1).values
    out["queue p95 ms"] = groups["queue_ms"].quantile(0.95).round(1).values
    out["errors"] = groups["outcome"].apply(lambda s: float((s == "server_error").mean())).round(4).values
    rated = feedback.assign(model=feedback["model"].fillna("-")) if not feedback.empty else feedback
    if rated.empty:
        out["ratings"], out["satisfaction"] = 0, None
    else:
        counts = rated.groupby(["product", "model"]).agg(ratings=("id", "size"), satisfaction=("score", "mean"))
        out = out.merge(counts.reset_index(), on=["product", "model"], how="left")
        out["ratings"] = out["ratings"].fillna(0).astype(int)
        out["satisfaction"] = out["satisfaction"].round(3)
    out["feedback rate"] = (out["ratings"] / out["requests"]).round(4)
    return out[columns].sort_values(["product", "requests"], ascending=[True, False])


def template_table(feedback):
    """Per product, template, preset and model: ratings by kind and satisfaction (an A/B view of templates)."""
    import pandas as pd

    if feedback.empty:
        return pd.DataFrame(columns=["product", "template", "preset", "model", "ratings", "satisfaction"])
    frame = feedback.fillna({"template": "-", "preset": "-", "model": "-"})
    keys = ["product", "template", "preset", "model"]
    kinds = frame.pivot_table(index=keys, columns="kind", values="id", aggfunc="count", fill_value=0)
    summary = frame.groupby(keys).agg(ratings=("id", "size"), satisfaction=("score", "mean"))
    out = summary.join(kinds).reset_index()
    out["satisfaction"] = out["satisfaction"].round(3)
    return out.sort_values(["product", "ratings"], ascending=[True, False])


def confusion_table(feedback):
    """Label corrections: counts of (model's label, user's label) per product and language."""
    import pandas as pd

    rows = feedback[feedback["predicted"].notna()] if not feedback.empty else feedback
    if rows.empty:
        return pd.DataFrame(columns=["language", "model said"])
    table = pd.crosstab([rows["product"], rows["language"].fillna("-"), rows["predicted"]], rows["value"])
    table.index.names = ["product", "language", "model said"]
    return table.reset_index()


def wer_table(feedback):
    """Text corrections: count, words, mean and word-weighted WER per product and model."""
    import pandas as pd

    rows = feedback[feedback["wer"].notna()] if not feedback.empty else feedback
    columns = ["product", "model", "corrections", "words", "WER (word-weighted)", "WER (mean)"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows = rows.assign(model=rows["model"].fillna("-"), edits=rows["wer"] * rows["words"].fillna(0))
    out = rows.groupby(["product", "model"]).agg(corrections=("id", "size"), words=("words", "sum"),
                                                 edits=("edits", "sum"), mean=("wer", "mean")).reset_index()
    out["WER (word-weighted)"] = (out["edits"] / out["words"].where(out["words"] > 0)).round(4)
    out["WER (mean)"] = out["mean"].round(4)
    return out[columns]


def usage_table(requests):
    """Per product: requests, and the sum of every measure it declares (its columns, or the measures JSON)."""
    import json

    import pandas as pd

    if requests.empty:
        return pd.DataFrame(columns=["product", "requests"])
    stored = requests["measures"] if "measures" in requests else pd.Series(None, index=requests.index)
    extra = pd.DataFrame([json.loads(m) if isinstance(m, str) and m else {} for m in stored], index=requests.index)
    frame = requests.join(extra.drop(columns=list(requests.columns), errors="ignore"))
    out = []
    for name, group in frame.groupby("product"):
        product = descriptor.get(name)
        row = {"product": name, "requests": int(len(group))}
        for measure in product.measures if product else ():
            values = pd.to_numeric(group[measure.name], errors="coerce") if measure.name in group else None
            row[measure.name] = float(values.sum()) if values is not None else 0.0
        out.append(row)
    return pd.DataFrame(out).fillna(0)


def model_events_table(events):
    import pandas as pd

    if events.empty:
        return pd.DataFrame(columns=["time", "model", "event", "reason", "seconds", "MB"])
    out = events.assign(time=pd.to_datetime(events["ts"], unit="s").dt.strftime("%Y-%m-%d %H:%M:%S"))
    out = out.rename(columns={"mb": "MB"})[["time", "model", "event", "reason", "seconds", "MB"]]
    return out.round({"seconds": 2, "MB": 1})


def summary_line(requests, feedback, lang: str) -> str:
    stats = store.writer().stats()
    served = [r for r in (requests["product"] if not requests.empty else [])]
    n = len(served)
    errors = float((requests["outcome"] == "server_error").mean()) if n else 0.0
    rated = feedback["score"].dropna() if not feedback.empty else []
    satisfaction = f"{float(rated.mean()):.0%}" if len(rated) else "–"
    dropped = stats["dropped_queue_full"] + stats["dropped_database"]
    return t("insights.summary", lang, requests=n, errors=errors, feedback=len(feedback),
             rate=len(feedback) / n if n else 0.0, satisfaction=satisfaction, written=stats["written"],
             queued=stats["queued"], dropped=dropped, full=stats["dropped_queue_full"],
             down=stats["dropped_database"], error=f" ({stats['last_error']})" if stats["last_error"] else "",
             db=stats["database"])


@user_errors
def refresh(range_key: str, product: str, model: str, request: gr.Request = None):
    lang = request_lang(request)
    data = load(range_key, product, model)
    requests, feedback = data["requests"], data["feedback"]
    requests = requests[requests["product"].isin(descriptor.names())] if not requests.empty else requests
    latency = latency_table(requests, feedback)
    models = sorted({m for m in requests.get("model", []) if isinstance(m, str)})
    return (summary_line(requests, feedback, lang), requests_over_time(requests, range_key), latency,
            latency.assign(name=latency["product"] + " · " + latency["model"]) if not latency.empty else latency,
            template_table(feedback), confusion_table(feedback), wer_table(feedback), usage_table(requests),
            model_events_table(data["models"]), gr.update(choices=[ALL] + models))


def summary(range_key: str = "day", product: str = ALL, model: str = ALL) -> dict:
    """API: /insights_summary. The latency and feedback tables as records."""
    data = load(range_key, product, model)
    requests = data["requests"]
    requests = requests[requests["product"].isin(descriptor.names())] if not requests.empty else requests
    latency = latency_table(requests, data["feedback"])
    usage = usage_table(requests)
    return {"requests": int(len(requests)), "ratings": int(len(data["feedback"])), "store": store.writer().stats(),
            "per_model": latency.astype(object).where(latency.notna(), None).to_dict("records"),
            "usage": usage.astype(object).where(usage.notna(), None).to_dict("records")}


@user_errors
def forget(request: gr.Request = None) -> str:
    """API: /insights_forget. Delete everything recorded for this browser session."""
    session = getattr(request, "session_hash", None)
    if session:
        store.forget(session)
    return t("insights.forgotten", request_lang(request))


@user_errors
def export(file_format: str, password: str = "", request: gr.Request = None):
    """API: /insights_export (admins). Every rating with its request's model and template, and the
    rated text when the server stores content; CSV (UTF-8 with BOM) or Parquet."""
    from sqlalchemy import select

    from shared.store.schema import feedback

    lang = request_lang(request)
    admin.require(password, lang)
    store.writer().flush(5)
    frame = store.read(select(feedback).order_by(feedback.c.ts))
    folder = request_dir("insights")
    if file_format == "parquet":
        path = folder / "feedback.parquet"
        frame.to_parquet(path, index=False)
    else:
        path = folder / "feedback.csv"
        frame.map(neutralise).to_csv(path, index=False, encoding="utf-8-sig")
    gr.Info(t("insights.exported", lang, rows=len(frame)))
    return str(path)


def build_tab() -> None:
    from shared import usage_view  # it reads this module's ranges

    gr.Markdown(I18N("insights.intro"))
    with gr.Row():
        range_key = gr.Dropdown(list(RANGES), value="day", label=I18N("insights.range"), scale=1)
        product = gr.Dropdown([ALL] + list(descriptor.names()), value=ALL, label=I18N("insights.product"), scale=1)
        model = gr.Dropdown([ALL], value=ALL, allow_custom_value=True, label=I18N("insights.model"), scale=2)
        go = gr.Button(I18N("insights.refresh"), variant="primary", scale=1)
    line = gr.Markdown()
    over_time = gr.LinePlot(x="time", y="requests", color="product", label=I18N("insights.requests_plot"))
    latency = gr.Dataframe(label=I18N("insights.latency"), interactive=False, wrap=True)
    p95 = gr.BarPlot(x="name", y="p95 ms", color="product", label=I18N("insights.p95_plot"), x_label_angle=-30)
    templates = gr.Dataframe(label=I18N("insights.templates"), interactive=False, wrap=True)
    with gr.Row():
        confusion = gr.Dataframe(label=I18N("insights.confusion"), interactive=False)
        wer = gr.Dataframe(label=I18N("insights.wer"), interactive=False)
    usage = gr.Dataframe(label=I18N("insights.usage"), interactive=False, wrap=True)
    models = gr.Dataframe(label=I18N("insights.models"), interactive=False, wrap=True, max_height=320)
    with gr.Accordion(I18N("insights.mine"), open=False):
        forget_button = gr.Button(I18N("insights.forget"), variant="stop", size="sm")
        forgotten = gr.Markdown()
    with gr.Accordion(I18N("insights.export"), open=False):
        with gr.Row():
            file_format = gr.Radio(["csv", "parquet"], value="csv", label=I18N("insights.format"))
            password = gr.Textbox(label=I18N("admin.password"), type="password", max_length=200)
            export_button = gr.Button(I18N("insights.export_go"))
        exported = gr.File(label=I18N("insights.file"))
    usage_view.build(range_key, product, model)
    outputs = [line, over_time, latency, p95, templates, confusion, wer, usage, models, model]
    gr.on([go.click, range_key.change, product.change, model.change], refresh, [range_key, product, model], outputs,
          api_visibility="private", concurrency_limit=2, concurrency_id="insights")
    gr.Button(visible=False).click(summary, [range_key, product, model], gr.JSON(visible=False),
                                   api_name="insights_summary", concurrency_limit=2, concurrency_id="insights")
    forget_button.click(forget, None, forgotten, api_name="insights_forget", concurrency_limit=2,
                        concurrency_id="insights")
    export_button.click(export, [file_format, password], exported, api_name="insights_export", concurrency_limit=1)
