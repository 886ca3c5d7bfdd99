"""REST API usage in the Insights tab (admins): per key, plan and product over the tab's time range
(and its product and model filters), API requests over time per product, and the month's bill.

    /insights_usage (range, product, model, password) -> the usage table as records
    /insights_billing (period "YYYY-MM", password) -> the bill as a CSV file (shared/metering.py)

The figures come from the usage rows (one per API request, shared/metering.py); the bill comes from
the monthly counters the limits keep, which are exact even when usage rows were dropped.
"""
from __future__ import annotations

import time

import gradio as gr

from shared import admin, keys, limits, metering, plans, store
from shared.i18n import I18N, add, request_lang, t
from shared.insights_tab import ALL, BUCKETS, RANGES
from shared.outputs import request_dir
from shared.ui import UserError, user_errors

add({
    "usage.title": ("API usage and billing (admins)", "API 用量与账单（管理员）"),
    "usage.intro": ("Requests to the REST API per key, plan and product in the time range above (and its product "
                    "and model filters), with the units they used; and a month's bill as CSV. Both need the admin "
                    "password.",
                    "按密钥、套餐和产品统计的 REST API 请求（使用上方的时间范围及产品、模型筛选）及其用量；"
                    "以及某月的 CSV 账单。两者都需要管理密码。"),
    "usage.show": ("Show API usage", "显示 API 用量"),
    "usage.table": ("API usage per key, plan and product (errors: the caller's and the server's)",
                    "按密钥、套餐和产品统计的 API 用量（错误：调用方和服务器的错误）"),
    "usage.plot": ("API requests per product", "各产品 API 请求数"),
    "usage.period": ("Billing period (YYYY-MM, UTC)", "账单周期（YYYY-MM，UTC）"),
    "usage.bill": ("Export the bill (CSV)", "导出账单（CSV）"),
    "usage.file": ("Bill", "账单"),
    "usage.billed": ("The bill of {period} is ready: {keys} key(s), {amount} in all.",
                     "{period} 的账单已生成：{keys} 个密钥，合计 {amount}。"),
    "usage.shown": ("{requests} API request(s) from {keys} key(s).", "{keys} 个密钥共 {requests} 个 API 请求。"),
    "usage.error.period": ("The billing period must read YYYY-MM (for example {example}); got “{period}”.",
                           "账单周期的格式须为 YYYY-MM（例如 {example}）；收到的是“{period}”。"),
    "usage.error.plan": ("The bill cannot be made: {detail}", "无法生成账单：{detail}"),
})

UNITS = ("tokens_in", "tokens_out", "rows", "audio_s", "images")
COUNTS = ["requests", "ok", "refused", "errors", "cancelled"]
HEAD = ["key prefix", "key name", "plan", "product"]
ERRORS = ("user_error", "server_error")


def load(range_key: str = "day", product: str = ALL, model: str = ALL, now: float | None = None):
    """The usage rows in the range (RANGES of the Insights tab), for a product and model or all."""
    now = time.time() if now is None else now
    span = RANGES.get(range_key)
    frame = metering.usage_frame(now - span if span else 0.0, now + 3600)  # an hour ahead: replicas' clocks
    if frame.empty:
        return frame
    if product and product != ALL:
        frame = frame[frame["product"] == product]
    if model and model != ALL:
        frame = frame[frame["model"] == model]
    return frame


def _number(value):
    value = round(float(value), 6)
    return int(value) if value.is_integer() else value


def units_of(frame) -> list[str]:
    """The units columns: the usual ones, then any other a product measured ("requests" is a count)."""
    extra = sorted(c.removeprefix("units.") for c in frame.columns
                   if c.startswith("units.") and c.removeprefix("units.") not in (*UNITS, "requests"))
    return [*UNITS, *extra]


def usage_table(frame):
    """Per key, plan and product: requests, by outcome (ok + refused + errors + cancelled = requests),
    and the sum of each unit."""
    import pandas as pd

    units = units_of(frame)
    columns = [*HEAD, *COUNTS, *units]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    names = {record.id: record.name for record in keys.list_keys()}
    frame = frame.assign(**{c: frame[c].fillna("-") for c in ("key_id", "key_prefix", "plan", "product")})
    rows = []
    for (key_id, prefix, plan, product), group in frame.groupby(["key_id", "key_prefix", "plan", "product"]):
        outcome = group["outcome"]
        row = {"key prefix": f"aipm_{prefix}" if prefix != "-" else "-", "key name": names.get(key_id, ""),
               "plan": plan, "product": product, "requests": int(len(group)), "ok": int((outcome == "ok").sum()),
               "refused": int((outcome == "refused").sum()), "errors": int(outcome.isin(ERRORS).sum()),
               "cancelled": int((outcome == "cancelled").sum())}
        for unit in units:
            column = f"units.{unit}"
            total = pd.to_numeric(group[column], errors="coerce").sum() if column in group else 0.0
            row[unit] = _number(total)
        rows.append(row)
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values(["key name", "key prefix", "product"], kind="stable").reset_index(drop=True)


def requests_over_time(frame, range_key: str):
    """API requests per product in the range's time buckets (UTC)."""
    import pandas as pd

    if frame.empty:
        return pd.DataFrame({"time": pd.Series(dtype="datetime64[ns]"), "requests": [], "product": []})
    when = pd.to_datetime(frame["ts"], unit="s").dt.floor(BUCKETS.get(range_key, "1h"))
    return frame.assign(time=when).groupby(["time", "product"]).size().reset_index(name="requests")


def records(table) -> list[dict]:
    return table.astype(object).where(table.notna(), None).to_dict("records")


@user_errors
def show(range_key: str, product: str, model: str, password: str = "", request: gr.Request = None):
    """The usage table and the plot of API requests over time (admins)."""
    lang = request_lang(request)
    admin.require(password, lang)
    frame = load(range_key, product, model)
    table = usage_table(frame)
    gr.Info(t("usage.shown", lang, requests=int(table["requests"].sum()) if len(table) else 0,
              keys=table["key prefix"].nunique()))
    return table, requests_over_time(frame, range_key)


@user_errors
def usage(range_key: str = "day", product: str = ALL, model: str = ALL, password: str = "",
          request: gr.Request = None) -> list[dict]:
    """API: /insights_usage (admins). The usage table as records: key prefix, key name, plan, product,
    requests, ok, refused, errors, cancelled and each unit's sum."""
    admin.require(password, request_lang(request))
    return records(usage_table(load(range_key, product, model)))


def this_month() -> str:
    return limits.month_of(time.time())


@user_errors
def billing(period: str = "", password: str = "", request: gr.Request = None) -> str:
    """API: /insights_billing (admins). The bill of a month (YYYY-MM, UTC; empty: this month) as CSV:
    one row per key and unit (used, included, billable, price, amount) and each key's plan fee."""
    lang = request_lang(request)
    admin.require(password, lang)
    period = (period or "").strip() or this_month()
    store.writer().flush(5)  # charges queued on the writer (limits.charge_later) are part of the bill
    try:
        rows = metering.bill(period)
    except plans.UnknownPlan as err:  # a key on a plan this server no longer offers
        raise UserError(t("usage.error.plan", lang, detail=str(err))) from None
    except ValueError:
        raise UserError(t("usage.error.period", lang, example=this_month(), period=period)) from None
    path = metering.billing_csv(period, request_dir("billing") / f"bill-{period}.csv")
    total = _number(sum(float(row["amount"]) for row in rows))
    gr.Info(t("usage.billed", lang, period=period, keys=len({row["key_prefix"] for row in rows}), amount=total))
    return str(path)


def build(range_key: gr.Dropdown, product: gr.Dropdown, model: gr.Dropdown) -> None:
    """The admins' accordion of the Insights tab, filtered by the tab's range, product and model."""
    with gr.Accordion(I18N("usage.title"), open=False):
        gr.Markdown(I18N("usage.intro"))
        with gr.Row():
            password = gr.Textbox(label=I18N("admin.password"), type="password", max_length=200, scale=3)
            show_button = gr.Button(I18N("usage.show"), variant="primary", scale=1)
        table = gr.Dataframe(label=I18N("usage.table"), headers=[*HEAD, *COUNTS, *UNITS], interactive=False,
                             wrap=True)
        plot = gr.LinePlot(x="time", y="requests", color="product", label=I18N("usage.plot"))
        with gr.Row():
            period = gr.Textbox(this_month, label=I18N("usage.period"), max_length=7, scale=2)
            bill_button = gr.Button(I18N("usage.bill"), scale=1)
        bill = gr.File(label=I18N("usage.file"))
    show_button.click(show, [range_key, product, model, password], [table, plot], api_visibility="private",
                      concurrency_limit=2, concurrency_id="insights")
    gr.Button(visible=False).click(usage, [range_key, product, model, password], gr.JSON(visible=False),
                                   api_name="insights_usage", concurrency_limit=2, concurrency_id="insights")
    bill_button.click(billing, [period, password], bill, api_name="insights_billing", concurrency_limit=1)
