"""Token conditioning (`train --tokens`, tried after v3): the prompt's token vectors as cross-attention
states, a sentence-vector model turned into one without changing what it computes, the saved flag, and
training with it."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from products.image.emoji import pipeline
from products.image.emoji.tools import train
from shared.encoder import SentenceEncoder
from tests import tiny_models
from tests.emoji_support import fake_encode, fake_encode_tokens, fake_package


def tiny_unet(seed=0):
    return pipeline.build_unet(32, (16, 32, 32), seed=seed)


def test_token_rows_average_to_the_sentence_vector(tmp_path):
    from transformers import AutoModel, AutoTokenizer

    folder = tiny_models.tiny_encoder(tmp_path / "encoder")  # its max_seq_length is 16
    encoder = SentenceEncoder(AutoModel.from_pretrained(folder).eval(), AutoTokenizer.from_pretrained(folder), 16)
    texts = ["a red heart", "red heart, heart, love, twemoji style", "x"]
    tokens, vectors = encoder.encode_tokens(texts, 32), encoder.encode(texts)
    assert tokens.shape == (3, 32, encoder.dim) and tokens.dtype == np.float32
    np.testing.assert_allclose(tokens.mean(1), vectors, atol=1e-5)
    # after the text's last token (and past the encoder's 16), every row is the sentence vector
    np.testing.assert_allclose(tokens[2, 5:], np.broadcast_to(vectors[2], (27, encoder.dim)), atol=1e-5)
    assert not np.allclose(tokens[1, 0], tokens[1, 1])  # the words' own rows differ


def test_zeroed_keys_make_a_sentence_vector_unet_compute_the_same_on_tokens():
    unet = tiny_unet().eval()
    tokens = torch.from_numpy(fake_encode_tokens(["a red heart", "a cat", "x"]))
    tokens[2] = 0  # the unconditional input
    vectors = tokens.mean(1)
    x, t = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(0)), torch.tensor([999, 500, 10])
    with torch.no_grad():
        before = unet(x, t, **pipeline.condition(vectors)).sample
        untouched = unet(x, t, **pipeline.condition(tokens)).sample
        assert pipeline.zero_cross_attention_keys(unet) > 0
        after = unet(x, t, **pipeline.condition(tokens)).sample
    assert not torch.allclose(untouched[:2], before[:2], atol=1e-4)  # learned keys do look at the words
    torch.testing.assert_close(after, before, atol=1e-5, rtol=1e-4)


def test_a_token_conditioned_folder_keeps_its_flag_and_generates(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "registry_encode_tokens", fake_encode_tokens)
    train.save_pipeline(tiny_unet(), tmp_path / "tokens_model", token_condition=True)
    train.save_pipeline(tiny_unet(), tmp_path / "sentence_model")
    tokens_model = pipeline.EmojiDiffusionPipeline.from_pretrained(tmp_path / "tokens_model")
    sentence_model = pipeline.EmojiDiffusionPipeline.from_pretrained(tmp_path / "sentence_model")
    assert tokens_model.config.token_condition and not sentence_model.config.token_condition
    assert tokens_model.encode(["a", "b"]).shape == (2, pipeline.TOKENS, 384)
    seeded = dict(num_inference_steps=2, output_type="np")
    plain = tokens_model("a red heart", generator=torch.Generator().manual_seed(0), **seeded).images
    negative = tokens_model("a red heart", negative_prompt="a square", generator=torch.Generator().manual_seed(0),
                  **seeded).images
    assert plain.shape == (1, 32, 32, 3) and not np.array_equal(plain, negative)


def test_training_with_tokens_continues_a_sentence_vector_model(tmp_path, monkeypatch):
    """--tokens --init: a sentence-vector folder's weights, keys zeroed, token captions encoded once and cached."""
    fake_package(tmp_path)
    calls = []
    monkeypatch.setattr(pipeline, "registry_encode", fake_encode)
    monkeypatch.setattr(pipeline, "registry_encode_tokens", lambda texts: calls.append(len(texts))
                        or fake_encode_tokens(texts))
    common = ["--cache", str(tmp_path), "--size", "16", "--channels", "16,32,32", "--batch", "4", "--threads", "1",
              "--no-card", "--recolour", "0.5"]
    train.main(common + ["--out", str(tmp_path / "sentence_model"), "--steps", "1"])
    metrics = train.main(common + ["--out", str(tmp_path / "tokens_model"), "--steps", "2", "--tokens",
                                   "--init", str(tmp_path / "sentence_model")])
    assert metrics["tokens"] and metrics["steps"] == 2 and metrics["held_out_loss"] > 0
    assert json.loads((tmp_path / "tokens_model" / "model_index.json").read_text())["token_condition"] is True
    assert len(calls) == 2  # the captions, then the colour captions
    assert list(tmp_path.glob("captions-tokens32-*.npy"))
    train.main(common + ["--out", str(tmp_path / "tokens_again"), "--steps", "1", "--tokens", "--init", str(tmp_path / "sentence_model")])
    assert len(calls) == 2  # read from the cache the second time


@pytest.mark.parametrize("shape", [(2, 384), (2, 32, 384)])
def test_condition_gives_the_class_embedding_the_mean_row(shape):
    cond = torch.randn(*shape)
    kwargs = pipeline.condition(cond)
    assert kwargs["encoder_hidden_states"].dim() == 3
    torch.testing.assert_close(kwargs["class_labels"], cond if len(shape) == 2 else cond.mean(1))
