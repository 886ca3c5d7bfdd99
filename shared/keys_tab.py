"""API keys in the System tab (admins): create a key on a plan, list the keys with this month's use,
revoke one by its prefix. Each action is a named API endpoint that takes the admin password as its
last argument (shared/admin.py):

    /system_keys_create (name, plan, expires_in_days, password) -> (secret, note, keys table)
    /system_keys_list (password) -> keys table
    /system_keys_revoke (prefix, password) -> (note, keys table)

The secret is returned by create only, once: the database keeps its sha256 (shared/keys.py).
"""
from __future__ import annotations

import time

import gradio as gr

from shared import admin, keys, limits, plans, store
from shared.i18n import I18N, add, request_lang, t
from shared.ui import UserError, escape, user_errors

add({
    "keys.title": ("API keys", "API 密钥"),
    "keys.intro": ("Keys for the REST API (/v1/, /api/v1/). Creating, listing and revoking keys needs the admin "
                   "password above. A key's secret is shown once, when it is created: only its hash is stored.",
                   "REST API（/v1/、/api/v1/）的密钥。创建、列出和吊销密钥需要上方的管理密码。密钥仅在创建时显示一次："
                   "服务器只保存其哈希值。"),
    "keys.name": ("Name (who the key is for)", "名称（密钥的使用者）"),
    "keys.plan": ("Plan", "套餐"),
    "keys.expires": ("Expires in days (empty or 0: never)", "有效天数（留空或 0：永不过期）"),
    "keys.create": ("Create key", "创建密钥"),
    "keys.secret": ("New key (shown only this once)", "新密钥（仅显示这一次）"),
    "keys.list": ("List keys", "列出密钥"),
    "keys.table": ("Keys, with this month's use per unit (UTC)", "密钥及本月（UTC）各单位用量"),
    "keys.prefix": ("Prefix of the key to revoke (aipm_xxxxxxxx)", "要吊销的密钥前缀（aipm_xxxxxxxx）"),
    "keys.revoke": ("Revoke key", "吊销密钥"),
    "keys.created": ("Key **{prefix}** ({name}, plan {plan}, {expires}) is created. Copy the secret now: it will "
                     "not be shown again (the server keeps only its hash).",
                     "密钥 **{prefix}**（{name}，套餐 {plan}，{expires}）已创建。请立即复制密钥：它不会再次显示"
                     "（服务器只保存其哈希值）。"),
    "keys.never": ("never expires", "永不过期"),
    "keys.until": ("expires {when}", "{when} 过期"),
    "keys.revoked": ("Key **{prefix}** ({name}) is revoked: requests with it are refused within seconds.",
                     "密钥 **{prefix}**（{name}）已吊销：使用它的请求将在数秒内被拒绝。"),
    "keys.already": ("Key **{prefix}** ({name}) was already revoked on {when}.", "密钥 **{prefix}**（{name}）已于 {when} 吊销。"),
    "keys.error.plan": ("There is no plan “{plan}” on this server; its plans are: {plans} (AIPM_API_PLANS).",
                        "此服务器没有套餐“{plan}”；可用的套餐：{plans}（AIPM_API_PLANS）。"),
    "keys.error.name": ("A key needs a name of 1 to 200 characters.", "密钥需要 1 到 200 个字符的名称。"),
    "keys.error.prefix": ("Enter the prefix of the key to revoke (aipm_ and 8 letters or digits).",
                          "请输入要吊销的密钥前缀（aipm_ 加 8 个字母或数字）。"),
    "keys.error.unknown": ("No API key has the prefix or id “{prefix}”.", "没有前缀或编号为“{prefix}”的 API 密钥。"),
    "keys.error.days": ("A key's expiry is from 0 to {most} days (empty or 0: never); got {value}.",
                        "密钥有效期须在 0 到 {most} 天之间（留空或 0：永不过期）；收到的是 {value}。"),
    "keys.error.plans": ("The server's plans are misconfigured: {detail}", "服务器的套餐配置有误：{detail}"),
})

BASE_COLUMNS = ["prefix", "name", "plan", "state", "created", "expires"]
MAX_DAYS = 36500


def when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts)) if ts else ""


def plan_names() -> list[str]:
    """The server's plans, or none when AIPM_API_PLANS is broken (the actions then say why)."""
    try:
        return sorted(plans.plans())
    except ValueError:
        return []


def _number(value: float):
    value = float(value)
    return int(value) if value.is_integer() else round(value, 2)


def _units_column(unit: str) -> str:
    return f"{unit} this month"


def key_rows(now: float | None = None) -> list[dict]:
    """Every key: prefix, name, plan, state, created, expires and this month's use per unit
    (columns "<unit> this month"; units of the keys' quotas and of what they used)."""
    now = time.time() if now is None else now
    month = limits.month_of(now)
    offered = plans.plans()
    store.writer().flush(5)  # charges queued on the writer (limits.charge_later) count
    listed = [(record, limits.used(record.id, month)) for record in keys.list_keys()]
    units = set()
    for record, used in listed:
        units |= set(used)
        plan = offered.get(record.plan)
        units |= set(plan.monthly) if plan else set()
    ordered = sorted(units, key=lambda u: (u != "requests", u))
    rows = []
    for record, used in listed:
        row = {"prefix": record.label, "name": record.name, "plan": record.plan, "state": record.state(now),
               "created": when(record.created), "expires": when(record.expires)}
        for unit in ordered:
            row[_units_column(unit)] = _number(used.get(unit, 0))
        rows.append(row)
    return rows


def key_table(now: float | None = None):
    import pandas as pd

    rows = key_rows(now)
    columns = list(rows[0]) if rows else BASE_COLUMNS
    return pd.DataFrame(rows, columns=columns)


def _plans_or_error(lang: str) -> dict:
    try:
        return plans.plans()
    except ValueError as err:
        raise UserError(t("keys.error.plans", lang, detail=str(err))) from None


@user_errors
def create(name: str, plan: str, expires_in_days: float | None = None, password: str = "",
           request: gr.Request = None):
    """API: /system_keys_create (admins). A new key: (its secret, shown this once; a note; the keys)."""
    lang = request_lang(request)
    admin.require(password, lang)
    offered = _plans_or_error(lang)
    plan = (plan or "").strip()
    if plan not in offered:
        raise UserError(t("keys.error.plan", lang, plan=plan, plans=", ".join(sorted(offered))))
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise UserError(t("keys.error.name", lang))
    days = float(expires_in_days) if expires_in_days else None
    if days is not None and not 0 < days <= MAX_DAYS:
        raise UserError(t("keys.error.days", lang, most=MAX_DAYS, value=_number(days)))
    secret, record = keys.create_key(name, plan, days)
    expires = t("keys.until", lang, when=when(record.expires)) if record.expires else t("keys.never", lang)
    note = t("keys.created", lang, prefix=record.label, name=escape(record.name), plan=record.plan, expires=expires)
    return secret, note, key_table()


@user_errors
def listing(password: str = "", request: gr.Request = None):
    """API: /system_keys_list (admins). Every key with its state and this month's use; no secrets."""
    lang = request_lang(request)
    admin.require(password, lang)
    _plans_or_error(lang)
    return key_table()


@user_errors
def revoke(prefix: str, password: str = "", request: gr.Request = None):
    """API: /system_keys_revoke (admins). Revoke the key with this prefix (or id): (a note, the keys)."""
    lang = request_lang(request)
    admin.require(password, lang)
    wanted = (prefix or "").strip()
    if not wanted.removeprefix("aipm_"):
        raise UserError(t("keys.error.prefix", lang))
    bare = wanted.removeprefix("aipm_")
    before = next((r for r in keys.list_keys() if bare in (r.prefix, r.id)), None)
    if before is None:
        raise UserError(t("keys.error.unknown", lang, prefix=wanted))
    if before.revoked is not None:
        note = t("keys.already", lang, prefix=before.label, name=escape(before.name), when=when(before.revoked))
    else:
        record = keys.revoke(before.id)
        note = t("keys.revoked", lang, prefix=record.label, name=escape(record.name))
    return note, key_table()


def build(password: gr.Textbox) -> tuple[list[gr.Button], gr.Dataframe]:
    """The "API keys" accordion, using the System tab's admin password box: (its buttons, which the
    tab's unlock makes usable (the server checks the password on every action anyway); the table)."""
    offered = plan_names()
    with gr.Accordion(I18N("keys.title"), open=False):
        gr.Markdown(I18N("keys.intro"))
        with gr.Row():
            name = gr.Textbox(label=I18N("keys.name"), max_length=200, scale=3)
            # Custom values pass the input check so that an unknown plan gets the message naming the plans.
            plan = gr.Dropdown(offered, value=offered[0] if offered else None, allow_custom_value=True,
                               label=I18N("keys.plan"), scale=1)
            days = gr.Number(None, label=I18N("keys.expires"), minimum=0, maximum=MAX_DAYS, scale=1)
            create_button = gr.Button(I18N("keys.create"), variant="primary", scale=1, interactive=False)
        secret = gr.Textbox(label=I18N("keys.secret"), interactive=False)
        note = gr.Markdown(elem_id="system-keys-note")
        with gr.Row():
            prefix = gr.Textbox(label=I18N("keys.prefix"), max_length=200, scale=3)
            revoke_button = gr.Button(I18N("keys.revoke"), variant="stop", scale=1, interactive=False)
            list_button = gr.Button(I18N("keys.list"), scale=1, interactive=False)
        table = gr.Dataframe(label=I18N("keys.table"), headers=BASE_COLUMNS, interactive=False, wrap=True)
    create_button.click(create, [name, plan, days, password], [secret, note, table], api_name="system_keys_create",
                        concurrency_limit=1, concurrency_id="system-keys")
    list_button.click(listing, [password], [table], api_name="system_keys_list", concurrency_limit=1,
                      concurrency_id="system-keys")
    revoke_button.click(revoke, [prefix, password], [note, table], api_name="system_keys_revoke",
                        concurrency_limit=1, concurrency_id="system-keys")
    return [create_button, revoke_button, list_button], table
