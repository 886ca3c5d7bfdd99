"""Heads over a frozen encoder: trained from registry-package data, evaluated out of domain.

    python -m products.sentiment.tools.train --encoder gemma --mode holdout   # figures with a domain held out
    python -m products.sentiment.tools.train --encoder gemma --mode full      # writes assets/sentiment/heads-gemma.safetensors
    python -m products.sentiment.tools.train --encoder base --mode holdout    # the package MiniLM, heads only (the old model)

The pools, splits and scores are products/sentiment/experiment.py's, the same as the end-to-end
fine-tuning (products/sentiment/tools/finetune.py) uses, so the encoders compare. Optimiser, learning rate
and epoch are chosen on validation; the temperature too; test and out-of-domain are scored once.
Baselines on the same splits: VADER for English, snownlp's naive Bayes retrained on our train split
for Chinese.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import shared  # noqa: F401  (sets OMP_WAIT_POLICY before torch)
from shared import artifacts
from shared.encoder import ENCODER

from products.sentiment import data, experiment
from products.sentiment.experiment import macro_f1, scores
from products.sentiment.heads import LABELS, build_heads, save_heads
from products.sentiment.vector_cache import embed

ASSET_DIR = Path(__file__).resolve().parents[3] / "assets" / "sentiment"
SEED = 0
CACHE_BLOCK = 500  # texts per cached block of a source's seeded shuffle
TEMPERATURES = ("val", "cross-fit", "cross-fit-all", "none")
TEMPERATURE = "val"  # "cross-fit-all": laptop ECE 0.037 vs 0.057, but hotel 0.065 vs 0.047 (docs/sentiment.md)


def english_rows() -> list[tuple[str, int]]:
    return [(r.text, r.label) for r in data.english_rows()]


def chinese_rows() -> list[tuple[str, int]]:
    return [(r.text, r.label) for r in data.chinese_rows()]


def _dedupe_split(rows: list[tuple[str, int]], seed: int = SEED) -> dict[str, list[tuple[str, int]]]:
    unique = data.dedupe([data.Row(t, label, "") for t, label in rows])
    return {k: [(r.text, r.label) for r in v] for k, v in data.split(unique, seed).items()}


# Optimiser, learning rate and weight decay tried per language, chosen on validation. The Chinese
# head's hashed n-gram table is sparse and wide: Adagrad (per-feature steps) suits it better than
# Adam, whose momentum keeps moving rows of n-grams absent from the batch.
GRID = {"en": (("adamw", 1e-3, 1e-4), ("adamw", 3e-3, 1e-4), ("adamw", 1e-3, 1e-2)),
        "zh": (("adagrad", 0.05, 0.0), ("adagrad", 0.1, 0.0), ("adamw", 1e-2, 0.0))}


def _fit(lang: str, x, y, grams, optimiser: str, lr: float, decay: float, epochs: int, after_epoch=None):
    """A head trained on (x, y, grams) with class-balanced weights; `after_epoch(epoch, head)` after each epoch."""
    import torch

    classes = len(LABELS[lang])
    counts = torch.bincount(y, minlength=classes).float().clamp(min=1)
    torch.manual_seed(SEED)
    head = build_heads(int(x.shape[1]))[lang]
    opt = (torch.optim.Adagrad if optimiser == "adagrad" else torch.optim.AdamW)(
        head.parameters(), lr=lr, weight_decay=decay)
    loss_fn = torch.nn.CrossEntropyLoss(weight=counts.sum() / (classes * counts))  # balanced, for macro-F1
    for epoch in range(epochs):
        head.train()
        perm = torch.randperm(len(y))
        for i in range(0, len(y), 256):
            idx = perm[i:i + 256]
            loss = loss_fn(head(x[idx], grams=[grams[j] for j in idx.tolist()]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        head.eval()
        if after_epoch:
            after_epoch(epoch, head)
    return head


def _tensors(rows: list[tuple[str, int]], vectors: np.ndarray):
    import torch

    from products.sentiment.heads import char_ngram_ids

    return (torch.from_numpy(np.ascontiguousarray(vectors)), torch.tensor([label for _, label in rows]),
            [char_ngram_ids(t) for t, _ in rows])


def train_head(lang: str, splits: dict, vectors: dict, epochs: int = 20) -> tuple:
    """The head chosen on validation, its test scores, and what was chosen. `splits` hold (text, label)."""
    import torch

    classes = len(LABELS[lang])
    data_ = {k: _tensors(splits[k], vectors[k]) for k in ("train", "val", "test")}
    best = [None]

    def keep_best(config):
        def after_epoch(epoch, head):
            with torch.no_grad():
                pred = head(data_["val"][0], grams=data_["val"][2]).argmax(-1).numpy()
            val = macro_f1(data_["val"][1].numpy(), pred, classes)
            if best[0] is None or val > best[0][0]:
                best[0] = (val, {k: v.clone() for k, v in head.state_dict().items()}, config, epoch + 1)
        return after_epoch

    for optimiser, lr, decay in GRID[lang]:
        _fit(lang, *data_["train"], optimiser, lr, decay, epochs, keep_best((optimiser, lr, decay)))
        print(f"  {lang} {optimiser} lr={lr} wd={decay}: best val macro-F1 so far {best[0][0]:.4f}", flush=True)
    val, state, (optimiser, lr, decay), epoch = best[0]
    head = build_heads(int(data_["train"][0].shape[1]))[lang]
    head.load_state_dict(state)
    head.eval()
    with torch.no_grad():
        pred = head(data_["test"][0], grams=data_["test"][2]).argmax(-1).numpy()
    chosen = {"optimiser": f"{optimiser} lr={lr}", "weight_decay": decay, "epochs": epoch, "val_macro_f1": round(val, 4),
              "config": [optimiser, lr, decay]}
    return head, scores(data_["test"][1].numpy(), pred, classes), chosen


def cross_fitted_logits(lang: str, parts: dict, by_text: dict, chosen: dict, foreign: bool = False) -> tuple | None:
    """Logits of each training domain's train+val rows from a head trained (with the configuration chosen on
    validation) on the other domains' training rows: what the head does on a domain it has not seen, so a
    temperature fitted on them allows for a domain shift. `foreign`: the other language's domains are folds too
    (else they stay in every fold's training). None with fewer than two such domains."""
    import torch

    domains = sorted({r.domain for r in parts["train"] if foreign or not experiment.foreign(r.domain)})
    if len(domains) < 2:
        return None
    optimiser, lr, decay = chosen["config"]
    logits, labels = [], []
    for domain in domains:
        fit_rows = [(r.text, r.label) for r in parts["train"] if r.domain != domain]
        out_rows = [(r.text, r.label) for k in ("train", "val") for r in parts[k] if r.domain == domain]
        head = _fit(lang, *_tensors(fit_rows, np.stack([by_text[t] for t, _ in fit_rows])),
                    optimiser, lr, decay, chosen["epochs"])
        with torch.no_grad():
            x, _, grams = _tensors(out_rows, np.stack([by_text[t] for t, _ in out_rows]))
            logits.append(head(x, grams=grams).numpy())
        labels += [label for _, label in out_rows]
    return np.concatenate(logits), labels


def vader_baseline(rows: list[data.Row]) -> dict:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    probs = []
    for r in rows:  # VADER's documented thresholds (compound >= 0.05 positive, <= -0.05 negative)
        c = analyzer.polarity_scores(r.text)["compound"]
        probs.append([1.0, 0, 0] if c <= -0.05 else [0, 0, 1.0] if c >= 0.05 else [0, 1.0, 0])
    return experiment.binary_scores(rows, np.array(probs), "en")


def snownlp_baseline(train_rows: list[data.Row], rows: list[data.Row]) -> dict:
    from snownlp import sentiment

    retrained = sentiment.Sentiment()
    retrained.train([r.text for r in train_rows if r.label == 0], [r.text for r in train_rows if r.label == 1])
    return experiment.scores([r.label for r in rows], [int(retrained.classify(r.text) >= 0.5) for r in rows], 2)


def encoder_names() -> dict[str, str]:
    """--encoder -> registry model: EmbeddingGemma, or the packaged MiniLM (the previous model's baseline)."""
    from products.sentiment.encoders import GEMMA, MODEL_NAMES

    return {"gemma": MODEL_NAMES[GEMMA], "base": ENCODER}


def pool_vectors(lang: str, pools: dict, encoder: str, name: str, mode: str) -> dict[str, np.ndarray]:
    """text -> vector for every row of the mode's pool, cached per source in blocks of its seeded shuffle,
    so modes, recipes and samples of different sizes share what was embedded."""
    wanted = {r.text for r in experiment.pool(lang, pools, mode)}
    out = {}
    for key, texts in experiment.sources(lang, pools).items():
        for i in range(0, len(texts), CACHE_BLOCK):
            block = texts[i:i + CACHE_BLOCK]
            if not wanted.isdisjoint(block):
                start = time.time()
                out.update(zip(block, embed(block, f"{encoder}-{key}-{i // CACHE_BLOCK}", name)))
                if time.time() - start > 5:
                    print(f"  embedded {key} {i}-{i + len(block)} ({time.time() - start:.0f}s)", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoder", choices=("gemma", "base"), default="gemma")
    parser.add_argument("--mode", choices=experiment.MODES, default="full")
    parser.add_argument("--recipe", choices=tuple(experiment.GEMMA_RECIPES), default=experiment.GEMMA_RECIPE,
                        help="the Chinese pools (EmbeddingGemma only)")
    parser.add_argument("--temperature", choices=TEMPERATURES, default=TEMPERATURE,
                        help="the Chinese head's temperature: fitted on validation, on cross-fitted logits (one head per left-out "
                             "Chinese domain; -all: English domains too), or none (1); English fits on validation")
    parser.add_argument("--langs", nargs="+", choices=("en", "zh"), default=("en", "zh"))
    parser.add_argument("--out", type=Path, default=ASSET_DIR)
    parser.add_argument("--skip-baselines", action="store_true")
    args = parser.parse_args()
    import torch

    from products.sentiment import encoders  # noqa: F401  (registers the sentiment encoders)

    torch.manual_seed(SEED)
    name = encoder_names()[args.encoder]
    pools = experiment.gemma_pools(args.recipe) if args.encoder == "gemma" else experiment.POOLS
    metrics, heads, temperatures = {"encoder": args.encoder, "mode": args.mode}, {}, {}
    if args.encoder == "gemma":
        metrics.update(recipe=args.recipe, zh_temperature_fit=args.temperature)
    for lang in args.langs:
        parts = experiment.splits(lang, args.mode, pools)
        print(f"{lang}: " + ", ".join(f"{k} {len(v)}" for k, v in parts.items()), flush=True)
        start = time.time()
        by_text = pool_vectors(lang, pools, args.encoder, name, args.mode)  # cached: every mode reuses the same vectors
        vectors = {k: np.stack([by_text[r.text] for r in v]) for k, v in parts.items() if v}
        seconds = time.time() - start
        tuples = {k: [(r.text, r.label) for r in v] for k, v in parts.items() if v}
        head, _, chosen = train_head(lang, {k: tuples[k] for k in ("train", "val", "test")}, vectors)
        heads[lang] = head
        with torch.no_grad():
            logits = {k: head(torch.from_numpy(vectors[k]), [t for t, _ in tuples[k]]).numpy() for k in tuples}
        how = args.temperature if lang == "zh" else "val"
        fitted = (cross_fitted_logits(lang, parts, by_text, chosen, how == "cross-fit-all")
                  if how.startswith("cross-fit") else 1.0 if how == "none" else None)
        metrics[lang] = {**experiment.report(lang, logits, parts, fitted), "chosen_on_validation": chosen,
                         "embed_seconds": round(seconds, 1)}
        temperatures[lang] = metrics[lang]["temperature"]
        if not args.skip_baselines:
            scored = {k: v for k, v in parts.items() if k in ("test", "ood") and v}
            own = [r for r in parts["train"] if not experiment.foreign(r.domain)]
            metrics[lang]["baselines"] = ({k: {"vader": vader_baseline(v)} for k, v in scored.items()} if lang == "en"
                                          else {k: {"snownlp_retrained": snownlp_baseline(own, v)}
                                                for k, v in scored.items()})
        print(json.dumps(metrics[lang], indent=1), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"metrics-{args.encoder}-{args.mode}.json").write_text(json.dumps(metrics, indent=1) + "\n")
    if args.mode == "full" and args.encoder == "gemma" and set(args.langs) == {"en", "zh"}:
        weights = args.out / "heads-gemma.safetensors"
        save_heads(heads, weights, {"labels": json.dumps(LABELS), "encoder": "gemma",
                                    "temperatures": json.dumps(temperatures), "seed": str(SEED)})
        print(f"wrote {weights}: size {weights.stat().st_size}, sha256 {artifacts.sha256_of(weights)}")


if __name__ == "__main__":
    main()
