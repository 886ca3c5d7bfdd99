"""The REST API's admin side in the UI: keys in the System tab (create, shown once; list with this
month's use; revoke by prefix) and API usage and billing in the Insights tab; every action behind
AIPM_ADMIN_PASSWORD, called directly and through a real Gradio server with gradio_client."""
import csv
import json
import time
from calendar import timegm

import gradio as gr
import pandas as pd
import pytest

from shared import admin, keys, keys_tab, limits, metering, store, usage_view
from tests.conftest import free_port

SECRET = "api admin secret"
PLANS = {
    "metered": {"requests_per_minute": 100, "monthly": {"requests": 1000, "tokens_in": 5000},
                "included": {"requests": 5, "tokens_in": 1000}, "fee": 10,
                "price": {"requests": 0.5, "tokens_in": 0.01}},
    "payg": {"requests_per_minute": 100, "price": {"tokens_in": 0.002}},
}
MARCH = float(timegm((2025, 3, 15, 12, 0, 10)))


class Request:
    def __init__(self, lang="en"):
        self.session_hash = "admin"
        self.headers = {"accept-language": lang}


@pytest.fixture
def db(tmp_path, fresh_settings, monkeypatch):
    """A database of its own, the plans above, the admin password set, no delay for wrong ones."""
    old = store.use_writer(None)
    fresh_settings.setenv("AIPM_DATABASE_URL", f"sqlite:///{tmp_path / 'api-admin.db'}")
    fresh_settings.setenv("AIPM_API_PLANS", json.dumps(PLANS))
    fresh_settings.setenv("AIPM_ADMIN_PASSWORD", SECRET)
    fresh_settings.setenv("AIPM_CAPTURE", "1")
    fresh_settings.setenv("AIPM_API_KEY_CACHE_S", "0")
    monkeypatch.setattr(admin, "_WRONG_DELAY_S", 0)
    keys.clear_cache()
    yield fresh_settings
    store.writer().flush(10)
    store.use_writer(old)
    keys.clear_cache()


def table_rows(table) -> dict:
    """prefix -> row, from a DataFrame or what gradio_client returns for a Dataframe."""
    if isinstance(table, dict):
        table = pd.DataFrame(table["data"], columns=table["headers"])
    return {row["prefix"]: row for row in table.to_dict("records")}


# ---- keys, called directly --------------------------------------------------------------------------
def test_a_key_is_created_shown_once_listed_with_its_use_and_revoked(db):
    secret, note, table = keys_tab.create("acme", "metered", 30, SECRET, request=Request())
    record = keys.authenticate(secret)
    assert record.name == "acme" and record.plan == "metered"
    assert record.expires == pytest.approx(record.created + 30 * 86400)
    assert f"**aipm_{record.prefix}**" in note and "will not be shown again" in note and secret not in note
    row = table_rows(table)[f"aipm_{record.prefix}"]
    assert (row["name"], row["plan"], row["state"]) == ("acme", "metered", "active")
    assert row["created"].endswith("UTC") and row["expires"].endswith("UTC")
    assert secret not in table.to_csv(), "the list never shows a secret"

    for _ in range(3):
        assert limits.admit(record, "alpha").allowed
    limits.charge(record, "alpha", {"tokens_in": 120.5}, "r1")
    row = table_rows(keys_tab.listing(SECRET, request=Request()))[f"aipm_{record.prefix}"]
    assert (row["requests this month"], row["tokens_in this month"]) == (3, 120.5)

    note, table = keys_tab.revoke(f"aipm_{record.prefix}", SECRET, request=Request())
    assert "is revoked" in note and table_rows(table)[f"aipm_{record.prefix}"]["state"] == "revoked"
    with pytest.raises(keys.KeyRefused, match="revoked"):
        keys.authenticate(secret)
    note, _ = keys_tab.revoke(record.prefix, SECRET, request=Request())  # the bare prefix too
    assert "already revoked" in note


def test_a_key_without_expiry_and_the_expired_state(db):
    secret, note, _ = keys_tab.create("  beta  ", "payg", None, SECRET)
    record = keys.authenticate(secret)
    assert record.name == "beta" and record.expires is None and "never expires" in note
    keys_tab.create("zero", "payg", 0, SECRET)  # 0 days: never
    rows = keys_tab.key_rows(now=time.time() + 10 * 365 * 86400)
    assert {r["name"]: (r["state"], r["expires"]) for r in rows} == {"beta": ("active", ""), "zero": ("active", "")}
    _, other, _ = keys_tab.create("short", "payg", 1, SECRET)
    assert {r["name"]: r["state"] for r in keys_tab.key_rows(now=time.time() + 2 * 86400)}["short"] == "expired"


def test_clear_messages_for_an_unknown_plan_a_bad_name_and_an_unknown_prefix(db):
    with pytest.raises(gr.Error, match="no plan “gold” on this server; its plans are: metered, payg"):
        keys_tab.create("acme", "gold", None, SECRET)
    with pytest.raises(gr.Error, match="没有套餐“gold”"):
        keys_tab.create("acme", "gold", None, SECRET, request=Request("zh-CN"))
    for name in ("", "   ", "x" * 201):
        with pytest.raises(gr.Error, match="name of 1 to 200 characters"):
            keys_tab.create(name, "payg", None, SECRET)
    with pytest.raises(gr.Error, match="from 0 to 36500 days .*got -1"):
        keys_tab.create("acme", "payg", -1, SECRET)
    with pytest.raises(gr.Error, match="No API key has the prefix or id “aipm_nothing1”"):
        keys_tab.revoke("aipm_nothing1", SECRET)
    with pytest.raises(gr.Error, match="Enter the prefix"):
        keys_tab.revoke(" aipm_ ", SECRET)
    assert keys.list_keys() == [], "nothing was created by a refused action"


def test_every_admin_action_refuses_a_wrong_or_missing_password(db):
    _, record = keys.create_key("acme", "payg")
    actions = [lambda p: keys_tab.create("x", "payg", None, p), lambda p: keys_tab.listing(p),
               lambda p: keys_tab.revoke(record.prefix, p),
               lambda p: usage_view.show("day", "all", "all", p), lambda p: usage_view.usage("day", "all", "all", p),
               lambda p: usage_view.billing("2025-03", p)]
    for action in actions:
        for wrong in ("", None, "guess", SECRET + " "):
            with pytest.raises(gr.Error, match="missing or wrong"):
                action(wrong)
    assert [k.name for k in keys.list_keys()] == ["acme"] and keys.list_keys()[0].revoked is None
    db.delenv("AIPM_ADMIN_PASSWORD")
    for action in actions:
        with pytest.raises(gr.Error, match="turned off on this server"):
            action(SECRET)


# ---- usage and billing in Insights -----------------------------------------------------------------
def usage_row(key, request_id, product, outcome="ok", ts=None, **units):
    return {"request_id": request_id, "key": key, "product": product, "action": "run", "model": "m1",
            "units": {"requests": 1, **units}, "outcome": outcome,
            "status": {"ok": 200, "refused": 429, "user_error": 400, "server_error": 500}.get(outcome, 499),
            "ms": 5.0, "ts": time.time() - 60 if ts is None else ts}


def test_the_usage_table_counts_and_sums_per_key_plan_and_product(db):
    _, acme = keys.create_key("acme", "metered")
    _, beta = keys.create_key("beta", "payg")
    rows = [usage_row(acme, "a1", "alpha", tokens_in=100, tokens_out=20),
            usage_row(acme, "a2", "alpha", tokens_in=50, tokens_out=5),
            usage_row(acme, "a3", "alpha", "refused"),
            usage_row(acme, "a4", "alpha", "server_error"),
            usage_row(acme, "a5", "beta", rows=7),
            usage_row(beta, "b1", "beta", audio_s=12.5),
            usage_row(beta, "b2", "beta", "user_error"),
            usage_row(beta, "b3", "beta", "cancelled", images=2),
            usage_row(beta, "old", "beta", ts=time.time() - 40 * 86400, rows=1000)]
    for row in rows:
        assert metering.record_usage(row)
    store.writer().flush(10)

    table = usage_view.usage(range_key="week", password=SECRET)
    cells = {(r["key name"], r["product"]): r for r in table}
    assert list(cells) == [("acme", "alpha"), ("acme", "beta"), ("beta", "beta")]
    a = cells["acme", "alpha"]
    assert (a["key prefix"], a["plan"]) == (f"aipm_{acme.prefix}", "metered")
    assert [a[c] for c in ("requests", "ok", "refused", "errors", "cancelled")] == [4, 2, 1, 1, 0]
    assert [a[c] for c in ("tokens_in", "tokens_out", "rows", "audio_s", "images")] == [150, 25, 0, 0, 0]
    assert cells["acme", "beta"]["rows"] == 7 and cells["acme", "beta"]["requests"] == 1
    b = cells["beta", "beta"]
    assert [b[c] for c in ("requests", "ok", "refused", "errors", "cancelled")] == [3, 1, 0, 1, 1]
    assert (b["audio_s"], b["images"], b["rows"], b["plan"]) == (12.5, 2, 0, "payg"), "the 40-day-old row is out"
    assert usage_view.usage(range_key="all", password=SECRET)[-1]["rows"] == 1000

    only_beta = usage_view.usage("week", "beta", "all", SECRET)
    assert [(r["key name"], r["requests"]) for r in only_beta] == [("acme", 1), ("beta", 3)]
    assert usage_view.usage("week", "all", "other-model", SECRET) == []

    shown, plot = usage_view.show("week", "all", "all", SECRET, request=Request())
    assert len(shown) == 3 and int(plot["requests"].sum()) == 8
    assert plot.groupby("product")["requests"].sum().to_dict() == {"alpha": 4, "beta": 4}


def test_an_empty_range_gives_empty_figures(db):
    table, plot = usage_view.show("hour", "all", "all", SECRET)
    assert table.empty and "tokens_in" in table.columns and plot.empty
    assert usage_view.usage("hour", password=SECRET) == []


def read_bill(path) -> dict:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return {(r["key_prefix"], r["unit"]): r for r in csv.DictReader(f)}


def test_the_bill_of_a_known_month_with_a_neutralised_name(db):
    _, metered = keys.create_key('=HYPERLINK("http://evil.example","x")', "metered")
    for i in range(7):
        assert limits.admit(metered, "alpha", now=MARCH + i).allowed
    limits.charge(metered, "alpha", {"tokens_in": 1500}, "m1", now=MARCH)
    path = usage_view.billing("2025-03", SECRET, request=Request())
    assert path.endswith("bill-2025-03.csv")
    cells = read_bill(path)
    m = f"aipm_{metered.prefix}"
    pick = ("used", "included", "billable", "unit_price", "amount")
    assert [cells[m, "requests"][c] for c in pick] == ["7", "5", "2", "0.5", "1"]
    assert [cells[m, "tokens_in"][c] for c in pick] == ["1500", "1000", "500", "0.01", "5"]
    assert cells[m, "plan fee"]["amount"] == "10"
    assert cells[m, "requests"]["key_name"] == "'" + '=HYPERLINK("http://evil.example","x")'
    with pytest.raises(gr.Error, match="must read YYYY-MM .*got “2025-13”"):
        usage_view.billing("2025-13", SECRET)
    with pytest.raises(gr.Error, match="格式须为 YYYY-MM"):
        usage_view.billing("March", SECRET, request=Request("zh"))
    this_month = read_bill(usage_view.billing("", SECRET))  # empty: this month
    assert {row["period"] for row in this_month.values()} == {limits.month_of(time.time())}


def test_a_key_on_a_plan_no_longer_offered_stops_the_bill_naming_it(db):
    keys.create_key("acme", "payg")
    db.setenv("AIPM_API_PLANS", json.dumps({"metered": PLANS["metered"]}))
    with pytest.raises(gr.Error, match="bill cannot be made: unknown API plan 'payg'"):
        usage_view.billing("", SECRET)


# ---- through a real Gradio server -----------------------------------------------------------------
@pytest.fixture(scope="module")
def client():
    import app
    from gradio_client import Client

    demo = app.build_app()
    _, url, _ = app.launch(demo, server_port=free_port(), prevent_thread_lock=True, quiet=True)
    yield Client(url, verbose=False)
    demo.close()


@pytest.mark.integration
def test_keys_through_the_gradio_api(client, db):
    from gradio_client.exceptions import AppError

    secret, note, table = client.predict("acme", "metered", 30, SECRET, api_name="/system_keys_create")
    record = keys.authenticate(secret)
    assert record.name == "acme" and "will not be shown again" in note
    assert table_rows(table)[record.label]["state"] == "active"
    listed = table_rows(client.predict(SECRET, api_name="/system_keys_list"))
    assert list(listed) == [record.label] and secret not in json.dumps(listed)
    with pytest.raises(AppError, match="its plans are: metered, payg"):
        client.predict("acme", "gold", None, SECRET, api_name="/system_keys_create")
    with pytest.raises(AppError, match="No API key has the prefix"):
        client.predict("aipm_zzzzzzzz", SECRET, api_name="/system_keys_revoke")
    note, table = client.predict(record.label, SECRET, api_name="/system_keys_revoke")
    assert "is revoked" in note and table_rows(table)[record.label]["state"] == "revoked"
    with pytest.raises(keys.KeyRefused, match="revoked"):
        keys.authenticate(secret)


@pytest.mark.integration
def test_usage_and_billing_through_the_gradio_api(client, db):
    _, acme = keys.create_key("acme", "metered")
    assert limits.admit(acme, "alpha").allowed
    limits.charge(acme, "alpha", {"tokens_in": 10}, "c1")
    metering.record_usage(usage_row(acme, "c1", "alpha", tokens_in=10))
    store.writer().flush(10)
    [row] = client.predict("day", "all", "all", SECRET, api_name="/insights_usage")
    assert (row["key name"], row["requests"], row["tokens_in"]) == ("acme", 1, 10)
    cells = read_bill(client.predict("", SECRET, api_name="/insights_billing"))
    assert cells[acme.label, "requests"]["used"] == "1" and cells[acme.label, "plan fee"]["amount"] == "10"


@pytest.mark.integration
def test_every_admin_endpoint_refuses_a_wrong_password(client, db):
    from gradio_client.exceptions import AppError

    _, record = keys.create_key("acme", "payg")
    calls = [("/system_keys_create", ("x", "payg", None)), ("/system_keys_list", ()),
             ("/system_keys_revoke", (record.prefix,)), ("/insights_usage", ("day", "all", "all")),
             ("/insights_billing", ("2025-03",))]
    for api_name, args in calls:
        for wrong in ("", "guess"):
            with pytest.raises(AppError, match="missing or wrong"):
                client.predict(*args, wrong, api_name=api_name)
    assert [(k.name, k.revoked) for k in keys.list_keys()] == [("acme", None)]
