"""Tiny random-weight models built from configs, with tokenizers built locally (no download),
the way transformers tests itself."""
from __future__ import annotations

from pathlib import Path

WORDS = ["i", "love", "hate", "this", "phone", "the", "box", "was", "broken", "great", "bad", "good", "it",
         "很", "好", "差", "喜", "欢", "书", "质", "量"]


def build_tokenizer(out: Path):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [f"##{chr(c)}" for c in range(ord("a"), ord("z") + 1)]
    vocab = {tok: i for i, tok in enumerate(specials + WORDS + letters + list(".,!?"))}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True, handle_chinese_chars=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    fast = BertTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                             sep_token="[SEP]", mask_token="[MASK]", model_max_length=32)
    fast.save_pretrained(out)
    return fast


def tiny_bert_config(vocab_size: int, hidden: int = 384, **extra):
    from transformers import BertConfig

    return BertConfig(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=1, num_attention_heads=2,
                      intermediate_size=64, max_position_embeddings=32, **extra)


def tiny_encoder(out: Path) -> Path:
    """A 1-layer BERT with a 384-d output (what the sentiment heads expect)."""
    import torch
    from transformers import BertModel

    torch.manual_seed(0)
    tokenizer = build_tokenizer(out)
    BertModel(tiny_bert_config(len(tokenizer))).save_pretrained(out, safe_serialization=True)
    (out / "sentence_bert_config.json").write_text('{"max_seq_length": 16}')
    return out


def tiny_classifier(out: Path) -> Path:
    """A 1-layer BERT sequence classifier with three named labels."""
    import torch
    from transformers import BertForSequenceClassification

    torch.manual_seed(0)
    tokenizer = build_tokenizer(out)
    config = tiny_bert_config(len(tokenizer), hidden=32, num_labels=3,
                              id2label={0: "Negative", 1: "Neutral", 2: "Positive"},
                              label2id={"Negative": 0, "Neutral": 1, "Positive": 2})
    BertForSequenceClassification(config).save_pretrained(out, safe_serialization=True)
    return out


def random_heads(path: Path) -> Path:
    import torch

    from products.sentiment.heads import build_heads, save_heads

    torch.manual_seed(0)
    heads = build_heads()
    torch.nn.init.normal_(heads["zh"].grams.weight, std=0.5)
    save_heads(heads, path, {"test": "random"})
    return path
