"""Fine-tune all-MiniLM-L6-v2 end to end on sentiment, English and Chinese at once, and score it.

    python -m products.sentiment.tools.finetune --mode holdout   # movie snippets and hotel reviews held out: report only
    python -m products.sentiment.tools.finetune --mode full      # the shipped encoder and heads (assets/sentiment/)

One encoder, two heads (products/sentiment/heads.py): each batch is one language's, the batches of
both languages shuffled together. Every encoder weight is trained except the word-embedding table,
which stays the package's (words unseen in training keep their place beside the seen ones; and the
bundled file is half the size). The epoch is chosen on validation (mean macro-F1 of both languages);
the temperature per language on validation too (products/sentiment/experiment.py). Float32
throughout: this machine's CPU has no fast bfloat16 (a training step under bf16 autocast took 1.3 s
against 0.37 s).
"""
from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np

import shared  # noqa: F401  (sets OMP_WAIT_POLICY before torch)
from shared import artifacts
from shared.encoder import mean_pool

from products.sentiment import experiment
from products.sentiment.heads import build_heads, char_ngram_ids, save_heads

ASSET_DIR = Path(__file__).resolve().parents[3] / "assets" / "sentiment"
SEED = 0
LANGS = ("en", "zh")
TRAIN_TOKENS = 96  # most review sentences fit; longer ones are cut in training only
BATCH = 32
LR_ENCODER, LR_HEAD, LR_GRAMS = 4e-5, 1e-3, 1e-2


def batches(rows, seed: int, lang: str) -> list[tuple[str, list]]:
    """Length-sorted groups (little padding), then shuffled: (lang, rows) per batch."""
    order = list(rows)
    random.Random(seed).shuffle(order)
    out = []
    for g in range(0, len(order), BATCH * 40):
        group = sorted(order[g:g + BATCH * 40], key=lambda r: len(r.text))
        out += [(lang, group[i:i + BATCH]) for i in range(0, len(group), BATCH)]
    return out


def pooled(model, tokenizer, texts, device="cpu", max_tokens=TRAIN_TOKENS):
    import torch

    batch = tokenizer(texts, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt").to(device)
    hidden = model(**batch).last_hidden_state  # with gradients: not SentenceEncoder.encode's inference mode
    return torch.nn.functional.normalize(mean_pool(hidden, batch["attention_mask"]).float(), dim=-1)


def logits_of(model, tokenizer, heads, lang, rows, max_tokens=128):
    import torch

    out = []
    model.eval()
    with torch.inference_mode():
        for i in range(0, len(rows), 64):
            chunk = rows[i:i + 64]
            texts = [r.text for r in chunk]
            vectors = pooled(model, tokenizer, texts, max_tokens=max_tokens)
            out.append(heads[lang](vectors, texts).float().numpy())
    return np.concatenate(out) if out else np.zeros((0, experiment.CLASSES[lang]))


def train(mode: str, epochs: int) -> tuple:
    import torch
    from transformers import AutoModel, AutoTokenizer

    from products.sentiment.encoders import base_minilm_path

    torch.manual_seed(SEED)
    base = base_minilm_path()
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModel.from_pretrained(base, dtype=torch.float32)
    model.embeddings.word_embeddings.weight.requires_grad_(False)
    heads = build_heads(dim=model.config.hidden_size)
    parts = {lang: experiment.splits(lang, mode) for lang in LANGS}
    weights = {}
    for lang in LANGS:
        counts = np.bincount([r.label for r in parts[lang]["train"]], minlength=experiment.CLASSES[lang])
        weights[lang] = torch.tensor(counts.sum() / (len(counts) * counts), dtype=torch.float32)  # balanced classes
    grams = [p for lang in LANGS for n, p in heads[lang].named_parameters() if n.startswith("grams")]
    dense = [p for lang in LANGS for n, p in heads[lang].named_parameters() if not n.startswith("grams")]
    optimiser = torch.optim.AdamW([
        {"params": [p for p in model.parameters() if p.requires_grad], "lr": LR_ENCODER, "weight_decay": 0.01},
        {"params": dense, "lr": LR_HEAD, "weight_decay": 1e-4},
        {"params": grams, "lr": LR_GRAMS, "weight_decay": 0.0}])
    plan_size = sum(len(batches(parts[lang]["train"], 0, lang)) for lang in LANGS)
    total_steps = plan_size * epochs
    schedule = torch.optim.lr_scheduler.LambdaLR(  # 6% warm-up, then linear decay
        optimiser, lambda s: min(1.0, (s + 1) / max(1, 0.06 * total_steps)) * max(0.0, 1 - s / total_steps))
    best, history, start = None, [], time.time()
    for epoch in range(epochs):
        plan = [b for lang in LANGS for b in batches(parts[lang]["train"], SEED + epoch, lang)]
        random.Random(SEED + epoch).shuffle(plan)
        model.train()
        for lang in LANGS:
            heads[lang].train()
        for step, (lang, rows) in enumerate(plan):
            texts = [r.text for r in rows]
            labels = torch.tensor([r.label for r in rows])
            vectors = pooled(model, tokenizer, texts)
            logits = heads[lang](vectors.float(), grams=[char_ngram_ids(t) for t in texts])
            loss = torch.nn.functional.cross_entropy(logits, labels, weight=weights[lang])
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            if step % 100 == 0:
                print(f"  epoch {epoch + 1} step {step}/{len(plan)} loss {loss.item():.3f} ({time.time() - start:.0f}s)", flush=True)
        for lang in LANGS:
            heads[lang].eval()
        val = {}
        for lang in LANGS:
            rows = parts[lang]["val"]
            pred = logits_of(model, tokenizer, heads, lang, rows).argmax(-1)
            val[lang] = experiment.macro_f1(np.array([r.label for r in rows]), pred, experiment.CLASSES[lang])
        mean = float(np.mean(list(val.values())))
        history.append({"epoch": epoch + 1, "val_macro_f1": {k: round(v, 4) for k, v in val.items()}})
        print(f"epoch {epoch + 1}: val macro-F1 {history[-1]['val_macro_f1']} ({time.time() - start:.0f}s)", flush=True)
        if best is None or mean > best[0]:
            best = (mean, epoch + 1, {k: v.detach().clone() for k, v in model.state_dict().items()},
                    {lang: {k: v.detach().clone() for k, v in heads[lang].state_dict().items()} for lang in LANGS})
    model.load_state_dict(best[2])
    for lang in LANGS:
        heads[lang].load_state_dict(best[3][lang])
        heads[lang].eval()
    return model, tokenizer, heads, parts, {"epochs_trained": epochs, "epoch_chosen": best[1], "history": history,
                                            "train_seconds": round(time.time() - start)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("holdout", "full"), default="full")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ASSET_DIR)
    parser.add_argument("--smoke", type=int, default=0, help="N rows per domain only (checks the script, not the model)")
    args = parser.parse_args()
    if args.smoke:
        experiment.POOLS = {lang: {d: args.smoke for d in pools} for lang, pools in experiment.POOLS.items()}
    import torch

    torch.set_num_threads(max(1, torch.get_num_threads()))
    model, tokenizer, heads, parts, chosen = train(args.mode, args.epochs)
    metrics = {"encoder": "all-MiniLM-L6-v2 fine-tuned end to end", "mode": args.mode, "chosen_on_validation": chosen}
    temperatures = {}
    for lang in LANGS:
        logits = {name: logits_of(model, tokenizer, heads, lang, rows) for name, rows in parts[lang].items() if rows}
        metrics[lang] = experiment.report(lang, logits, parts[lang])
        temperatures[lang] = metrics[lang]["temperature"]
    print(json.dumps(metrics, indent=1), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"metrics-minilm-{args.mode}.json").write_text(json.dumps(metrics, indent=1) + "\n")
    if args.mode != "full":
        return
    from safetensors.torch import save_file

    changed = {k: v.to(torch.bfloat16).contiguous() for k, v in model.state_dict().items()
               if k != "embeddings.word_embeddings.weight"}
    encoder_file = args.out / "minilm-ft.safetensors"
    save_file(changed, str(encoder_file), metadata={"base": "all-MiniLM-L6-v2", "seed": str(SEED)})
    heads_file = args.out / "heads-minilm.safetensors"
    save_heads(heads, heads_file, {"encoder": "minilm", "temperatures": json.dumps(temperatures), "seed": str(SEED)})
    for path in (encoder_file, heads_file):
        print(f"wrote {path}: size {path.stat().st_size}, sha256 {artifacts.sha256_of(path)}")


if __name__ == "__main__":
    main()
