"""The REST face of the one server, called by the clients API users have (the official openai SDK,
httpx, curl): keys, errors in OpenAI's shape, limits with their headers, metering, the embeddings and
sentiment endpoints on the same models as the UI, and the UI still served at "/" beside them."""
import base64
import json
import subprocess
import time

import httpx
import numpy as np
import pytest

from tests.api_support import api_database, serving


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """The app as `python app.py` serves it, on a database of its own, and a key on a test plan."""
    import app
    from shared import keys

    plans = {"test": {"requests_per_minute": 1000, "monthly": {}, "price": {"requests": 0.001}},
             "tiny": {"requests_per_minute": 2, "monthly": {}},
             "capped": {"requests_per_minute": 1000, "monthly": {"requests": 3}}}
    with api_database(tmp_path_factory.mktemp("api"), plans), serving(app) as url:
        secret, record = keys.create_key("acme", "test")
        yield {"url": url, "key": secret, "record": record}


def openai_client(api, key=None):
    import openai

    return openai.OpenAI(base_url=api["url"] + "/v1", api_key=key or api["key"], max_retries=0)


def usage_rows(request_id=None):
    from shared import metering, store

    store.writer().flush(10)
    frame = metering.usage_frame(0, time.time() + 60)
    rows = frame.to_dict("records")
    return [r for r in rows if request_id is None or r["request_id"] == request_id]


def test_without_a_valid_key_the_answer_is_401_in_openais_shape(api):
    import openai

    answer = httpx.get(api["url"] + "/v1/models")
    assert answer.status_code == 401
    error = answer.json()["error"]
    assert error["type"] == "authentication_error" and "API key" in error["message"]
    with pytest.raises(openai.AuthenticationError):
        openai_client(api, "aipm_nothing_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx").models.list()


def test_models_lists_each_model_with_its_capability(api):
    listed = {m.id: m for m in openai_client(api).models.list().data}
    assert listed["all-MiniLM-L6-v2"].capability == "embeddings"
    assert listed["sentiment-minilm"].capability == "embeddings" and listed["sentiment-minilm"].owned_by == "sentiment"
    assert any(m.capability == "chat" for m in listed.values())


def test_embeddings_through_the_sdk_equal_the_raw_encoder_and_are_metered(api):
    from shared.encoder import ENCODER
    from shared.models import registry

    texts = ["A great phone.", "这本书写得太好了", "The battery died after a day, which is really annoying."]
    result = openai_client(api).embeddings.create(model="all-MiniLM-L6-v2", input=texts)
    vectors = np.array([d.embedding for d in result.data])
    with registry.use(ENCODER) as encoder:
        raw = encoder.encode(texts)
    assert vectors.shape == (3, 384) and np.allclose(vectors, raw, atol=1e-5)
    assert result.usage.prompt_tokens > 3 and result.usage.total_tokens == result.usage.prompt_tokens
    one = openai_client(api).embeddings.create(model="all-MiniLM-L6-v2", input="A great phone.",
                                               encoding_format="base64")
    decoded = np.frombuffer(base64.b64decode(one.data[0].embedding), dtype="<f4")
    assert np.allclose(decoded, raw[0], atol=1e-5), "little-endian float32, as OpenAI sends them"
    rows = [r for r in usage_rows() if r["action"] == "embeddings"]
    assert rows and rows[-1]["outcome"] == "ok" and json.loads(rows[-1]["units"])["rows"] >= 1


def test_sentiment_scores_every_text_and_a_bad_one_gets_its_message(api):
    answer = httpx.post(api["url"] + "/api/v1/sentiment/score", timeout=120,
                        headers={"Authorization": f"Bearer {api['key']}"},
                        json={"texts": ["I love this phone!", "   ", "Terrible service, never again."], "fast": True})
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["index"] for r in results] == [0, 1, 2]
    assert results[0]["label"] == "positive" and results[2]["label"] == "negative"
    assert "error" in results[1] and "label" not in results[1]
    assert answer.headers["x-ratelimit-limit-requests"] == "1000"
    (row,) = usage_rows(answer.headers["x-request-id"])
    assert row["product"] == "sentiment" and json.loads(row["units"])["rows"] == 3


def test_bad_input_is_a_clear_error_in_openais_shape(api):
    import openai

    headers = {"Authorization": f"Bearer {api['key']}"}
    malformed = httpx.post(api["url"] + "/v1/embeddings", headers={**headers, "content-type": "application/json"},
                           content=b"{not json")
    assert malformed.status_code == 400 and "JSON" in malformed.json()["error"]["message"]
    wrong_type = httpx.post(api["url"] + "/v1/embeddings", headers={**headers, "content-type": "text/plain"},
                            content=b"hello")
    assert wrong_type.status_code == 400 and wrong_type.json()["error"]["type"] == "invalid_request_error"
    too_big = httpx.post(api["url"] + "/v1/embeddings", headers={**headers, "content-type": "application/json"},
                         content=b'{"input": "' + b"x" * 60_000_000 + b'"}')
    assert too_big.status_code == 413
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        openai_client(api).embeddings.create(model="no-such-model", input="x")
    with pytest.raises(openai.BadRequestError, match="input"):
        openai_client(api).embeddings.create(model="all-MiniLM-L6-v2", input=[])
    with pytest.raises(openai.BadRequestError, match="n"):
        openai_client(api).chat.completions.create(model="default", n=3,
                                                   messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.BadRequestError, match="max_tokens"):
        openai_client(api).chat.completions.create(model="default", max_tokens=100_000,
                                                   messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.BadRequestError, match="messages"):
        openai_client(api).chat.completions.create(model="default", messages=[])


def test_rate_limits_answer_429_with_retry_after_and_quotas_hold(api):
    import openai

    from shared import keys

    tiny, _ = keys.create_key("tiny", "tiny")
    client = openai_client(api, tiny)
    client.models.list()
    client.models.list()
    with pytest.raises(openai.RateLimitError) as refused:
        client.models.list()
    headers = refused.value.response.headers
    assert int(headers["retry-after"]) >= 1 and headers["x-ratelimit-remaining-requests"] == "0"
    capped, _ = keys.create_key("capped", "capped")
    answers = [httpx.get(api["url"] + "/v1/models", headers={"Authorization": f"Bearer {capped}"}).status_code
               for _ in range(5)]
    assert answers == [200, 200, 200, 429, 429]


def test_a_revoked_key_stops_working_at_once_and_says_why(api):
    import openai

    from shared import keys

    secret, record = keys.create_key("leaver", "test")
    openai_client(api, secret).models.list()
    keys.revoke(record.prefix)
    with pytest.raises(openai.PermissionDeniedError, match="revoked"):
        openai_client(api, secret).models.list()


def test_curl_as_the_readme_shows_it(api):
    out = subprocess.run(["curl", "-s", api["url"] + "/v1/embeddings", "-H", f"Authorization: Bearer {api['key']}",
                          "-H", "Content-Type: application/json",
                          "-d", '{"model": "all-MiniLM-L6-v2", "input": ["hello world"]}'],
                         capture_output=True, text=True, timeout=60, check=True)
    assert len(json.loads(out.stdout)["data"][0]["embedding"]) == 384


def test_the_ui_and_the_docs_are_served_beside_the_api(api):
    page = httpx.get(api["url"] + "/")
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert httpx.get(api["url"] + "/docs").status_code == 200
    paths = httpx.get(api["url"] + "/openapi.json").json()["paths"]
    assert "/v1/chat/completions" in paths and "/api/v1/sentiment/score" in paths


@pytest.mark.integration
def test_chat_completions_stream_and_not_with_usage_on_the_real_copy_model(api):
    client = openai_client(api)
    messages = [{"role": "user", "content": "Name three colours, separated by commas."}]
    whole = client.chat.completions.create(model="qwen-0.5b", messages=messages, max_tokens=16, temperature=0)
    text = whole.choices[0].message.content
    assert text.strip() and whole.choices[0].finish_reason in ("stop", "length")
    assert 0 < whole.usage.completion_tokens <= 16 and whole.usage.prompt_tokens > 5
    pieces, usage = [], None
    for chunk in client.chat.completions.create(model="qwen-0.5b", messages=messages, max_tokens=16, temperature=0,
                                                stream=True, stream_options={"include_usage": True}):
        pieces += [c.delta.content or "" for c in chunk.choices]
        usage = chunk.usage or usage
    assert "".join(pieces) == text, "greedy decoding streams the same text"
    assert usage.completion_tokens == whole.usage.completion_tokens
    cut = client.chat.completions.create(model="qwen-0.5b", messages=messages, max_tokens=32, temperature=0,
                                         stop=[","])
    assert "," not in cut.choices[0].message.content and cut.choices[0].finish_reason == "stop"


@pytest.mark.integration
def test_a_stream_the_client_drops_releases_the_model_and_is_metered_as_cancelled(api):
    from shared.models import registry

    body = {"model": "qwen-0.5b", "stream": True, "max_tokens": 400, "temperature": 0.7,
            "messages": [{"role": "user", "content": "Write a long story about a lighthouse."}]}
    with httpx.stream("POST", api["url"] + "/v1/chat/completions", json=body, timeout=120,
                      headers={"Authorization": f"Bearer {api['key']}"}) as answer:
        request_id = answer.headers["x-request-id"]
        for line in answer.iter_lines():
            if '"content": "' in line and '"content": ""' not in line:
                break  # one piece of text, then the client is gone
    deadline = time.time() + 60
    while time.time() < deadline and not usage_rows(request_id):
        time.sleep(0.5)
    (row,) = usage_rows(request_id)
    assert row["outcome"] == "cancelled" and json.loads(row["units"])["tokens_out"] < 400
    assert registry.status_of("copy-qwen-0.5b")["leases"] == 0, "the lease is given back"


@pytest.mark.integration
def test_copy_generate_streams_updates_as_server_sent_events_and_meters_tokens(api):
    body = {"product": "BrewMate Pro", "description": "A quiet coffee grinder with 30 settings", "template": "tagline",
            "language": "en", "model": "qwen-0.5b", "variants": 1, "seed": 7, "stream": True}
    events = []
    with httpx.stream("POST", api["url"] + "/api/v1/copy/generate", json=body, timeout=300,
                      headers={"Authorization": f"Bearer {api['key']}"}) as answer:
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream")
        request_id = answer.headers["x-request-id"]
        for line in answer.iter_lines():
            if line.startswith("event: "):
                events.append([line[7:], None])
            elif line.startswith("data: "):
                events[-1][1] = json.loads(line[6:])
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "done" and set(kinds[:-1]) <= {"update"}
    final = events[-1][1]
    assert len(final["variants"]) == 1 and final["variants"][0]["text"].strip() and final["stats"]["seed"] == 7
    deadline = time.time() + 10
    while not usage_rows(request_id) and time.time() < deadline:
        time.sleep(0.2)
    (row,) = usage_rows(request_id)
    units = json.loads(row["units"])
    assert row["outcome"] == "ok" and units["tokens_out"] > 0 and units["tokens_in"] > 20
    bad = httpx.post(api["url"] + "/api/v1/copy/generate", json={**body, "template": "no-such"},
                     headers={"Authorization": f"Bearer {api['key']}"})
    assert bad.status_code == 400 and "no-such" in bad.json()["error"]["message"]
    too_many = httpx.post(api["url"] + "/api/v1/copy/generate", json={**body, "variants": 9},
                          headers={"Authorization": f"Bearer {api['key']}"})
    assert too_many.status_code == 400 and too_many.json()["error"]["param"] == "variants"
