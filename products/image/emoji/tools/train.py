"""Train the emoji diffusion model and save it as a diffusers pipeline folder (seeded, resumable).

    nice -n 10 python -m products.image.emoji.tools.train --out assets/emoji-diffusion --steps 600

Data: the art sets named by --styles (data.STYLES; npm, sha256-pinned) fetched into the cache folder
(default $AIPM_CACHE_DIR/emoji_model), at 32x32 on white; v1's held-out emoji held out in every
style. Caption vectors are computed once with the shared encoder and cached. Each step: a random
caption variant per image, the condition dropped to zeros 10% of the time (classifier-free
guidance), uniform timesteps, the v (or epsilon) target with min-SNR weights; --recolour turns a
share of each batch to another colour, captioned with it (recolour.py). --init starts from a saved
folder's weights (v2 continued v1, v3 continued v2). An EMA copy of the weights is what gets saved. A checkpoint is written
every --checkpoint-every steps; --resume continues from it. At the end the held-out and train
denoising losses are measured and the folder gets its model card (README.md) and metrics.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from products.image.emoji.pipeline import (EmojiDiffusionPipeline, build_scheduler, build_unet, condition,
                                           zero_cross_attention_keys)
from products.image.emoji.tools import data, recolour


def presets(side: int) -> dict:
    """The folder's aipm_image.json: 25 and 10 steps, guidance 3 with the folder's DDIM, shown at 8x the
    native size (tune.py --write stores the scale and sampler it picks; the shipped v3 has Euler a at 7.5)."""
    shown = side * EmojiDiffusionPipeline.vae_scale_factor
    return {"presets": {name: {"steps": steps, "guidance": 3.0, "width": shown, "height": shown, "scheduler": "Default"}
                        for name, steps in (("Emoji, 25 steps", 25), ("Emoji draft, 10 steps", 10))},
            "default": "Emoji, 25 steps"}


def caption_vectors(captions: list[str], cache: Path, encode, kind: str = "") -> np.ndarray:
    """(n, 384) vectors for the captions, or (n, TOKENS, 384) token vectors when `encode` gives those
    (`kind` names them in the cache file), cached by the captions' hash; token vectors as float16."""
    key = hashlib.sha256("\n".join(captions).encode()).hexdigest()[:16]
    path = cache / f"captions{kind}-{key}.npy"
    if path.is_file():
        return np.load(path).astype(np.float32)
    vectors = np.asarray(encode(captions), dtype=np.float32)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors.astype(np.float16) if kind else vectors)
    return vectors


class Dataset:
    """Images (n,3,s,s) in [-1,1], all caption vectors, and for each image its caption rows."""

    def __init__(self, images: torch.Tensor, vectors: torch.Tensor, rows: list[list[int]]):
        self.images, self.vectors, self.rows = images, vectors, rows
        self.weights = None  # sampling probabilities per image; None: uniform

    def balance(self, groups: list[str], alpha: float) -> None:
        """Sample an image with probability proportional to its group's size ** -alpha (0: uniform,
        1: every group equally often), so rare subcategories (hearts: 75 images) are seen more next
        to large ones (country flags: 518)."""
        counts = Counter(groups)
        weights = np.array([counts[g] ** -alpha for g in groups])
        self.weights = weights / weights.sum()

    def batch(self, size: int, rng: np.random.Generator):
        if self.weights is None:
            index = rng.integers(0, len(self.images), size)
        else:
            index = rng.choice(len(self.images), size, p=self.weights)
        caption = [self.rows[i][rng.integers(0, len(self.rows[i]))] for i in index]
        return self.images[index], self.vectors[caption]


def make_dataset(entries: list[data.Emoji], vectors_by_caption: dict[str, np.ndarray], size: int):
    captions = sorted({c for e in entries for c in e.captions})
    position = {c: i for i, c in enumerate(captions)}
    vectors = torch.from_numpy(np.stack([vectors_by_caption[c] for c in captions]))
    rows = [[position[c] for c in e.captions] for e in entries]
    return Dataset(data.load_images(entries, size), vectors, rows)


def target(scheduler, images, noise, steps) -> torch.Tensor:
    """What the UNet learns to predict: the noise (epsilon) or the velocity (v)."""
    if scheduler.config.prediction_type == "v_prediction":
        return scheduler.get_velocity(images, noise, steps)
    return noise


def min_snr_weights(scheduler, steps, gamma: float) -> torch.Tensor:
    """Min-SNR-gamma loss weights (Hang et al. 2023): high-SNR (nearly clean) timesteps stop
    dominating the gradient, which speeds up convergence several-fold. 0 turns it off."""
    if not gamma:
        return torch.ones(len(steps))
    alpha_bar = scheduler.alphas_cumprod[steps]
    snr = alpha_bar / (1 - alpha_bar)
    # The paper's weight for a v target is min(snr, gamma) / (snr + 1); for epsilon, min(snr, gamma) / snr.
    return torch.clamp(snr, max=gamma) / (snr + 1 if scheduler.config.prediction_type == "v_prediction" else snr)


def train_step(unet, scheduler, optimizer, images, cond, generator: torch.Generator, drop: float = 0.1,
               min_snr: float = 5.0) -> float:
    """One denoising step on a batch; the condition is zeroed with probability `drop`."""
    n = images.shape[0]
    keep = (torch.rand(n, generator=generator) >= drop).float().view(-1, *[1] * (cond.dim() - 1))
    cond = cond * keep
    noise = torch.randn(images.shape, generator=generator)
    steps = torch.randint(0, scheduler.config.num_train_timesteps, (n,), generator=generator)
    noisy = scheduler.add_noise(images, noise, steps)
    unet.train()
    error = (unet(noisy, steps, **condition(cond)).sample - target(scheduler, images, noise, steps)) ** 2
    loss = (error.mean(dim=(1, 2, 3)) * min_snr_weights(scheduler, steps, min_snr)).mean()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
    optimizer.step()
    return loss.item()


@torch.no_grad()
def denoising_loss(unet, scheduler, images, cond, seed: int = 1234, repeats: int = 4, batch: int = 64,
                   timestep: int | None = None) -> float:
    """Mean MSE of the model's own target (epsilon or v, unweighted) over fixed seeded (timestep,
    noise) draws: comparable across models of the same prediction type. `timestep` fixes the
    timestep (the same seeded noise), for the loss at one noise level."""
    unet.eval()
    generator = torch.Generator().manual_seed(seed)
    total, count = 0.0, 0
    for _ in range(repeats):
        for start in range(0, len(images), batch):
            x, c = images[start:start + batch], cond[start:start + batch]
            noise = torch.randn(x.shape, generator=generator)
            steps = torch.randint(0, scheduler.config.num_train_timesteps, (len(x),), generator=generator)
            if timestep is not None:
                steps = torch.full_like(steps, timestep)
            pred = unet(scheduler.add_noise(x, noise, steps), steps, **condition(c)).sample
            total += float(F.mse_loss(pred, target(scheduler, x, noise, steps), reduction="sum"))
            count += noise.numel()
    return total / count


@torch.no_grad()
def ema_update(ema, model, decay: float) -> None:
    for e, p in zip(ema.parameters(), model.parameters()):
        e.mul_(decay).add_(p.detach(), alpha=1 - decay)


def save_pipeline(unet, out: Path, prediction_type: str = "v_prediction",
                  token_condition: bool = False) -> EmojiDiffusionPipeline:
    pipe = EmojiDiffusionPipeline(unet=unet, scheduler=build_scheduler(prediction_type),
                                  token_condition=token_condition)
    pipe.save_pretrained(out, safe_serialization=True)
    (out / "aipm_image.json").write_text(json.dumps(presets(unet.config.sample_size), indent=2) + "\n")
    return pipe


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="assets/emoji-diffusion")
    parser.add_argument("--cache", default="", help="data/checkpoint cache (default $AIPM_CACHE_DIR/emoji_model)")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--channels", default="32,64,64")
    parser.add_argument("--layers", type=int, default=1, help="ResNet layers per UNet block")
    parser.add_argument("--self-attention-below", type=int, default=0,
                        help="self-attention at levels of this many pixels or fewer (0: none, as v1)")
    parser.add_argument("--styles", default="noto", help="art sets: noto,twemoji,fluent (see data.STYLES)")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--warmup", type=int, default=50, help="linear learning-rate warm-up steps")
    parser.add_argument("--ema", type=float, default=0.999)
    parser.add_argument("--prediction", default="v_prediction", choices=["v_prediction", "epsilon"])
    parser.add_argument("--min-snr", type=float, default=5.0, help="min-SNR-gamma loss weighting (0: off)")
    parser.add_argument("--decay", default="cosine", choices=["cosine", "none"],
                        help="learning rate after warm-up: cosine down to 10%% at --steps, or constant")
    parser.add_argument("--drop", type=float, default=0.1)
    parser.add_argument("--recolour", type=float, default=0.0, help="share of each batch turned to another colour "
                        "and captioned with it (recolour.py; v3: 0.4)")
    parser.add_argument("--balance", type=float, default=0.0, help="sample images by subcategory size ** -BALANCE "
                        "(0: uniform, as v1-v3; 1: each subcategory equally)")
    parser.add_argument("--tokens", action="store_true", help="cross-attend to the prompt's token vectors instead "
                        "of its sentence vector (tried after v3, not shipped; an --init model of v1-v3 gets its "
                        "cross-attention keys zeroed, so it starts out computing what it did)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-minutes", type=float, default=0, help="stop early (and save) after this long")
    parser.add_argument("--checkpoint-every", type=int, default=50)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--init", default="", help="a saved model folder of the same shape whose (EMA) UNet weights "
                        "start the run (v2 continued v1, v3 continued v2)")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N training emoji (tests)")
    parser.add_argument("--no-card", action="store_true", help="skip the evaluation and model card")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    cache = Path(args.cache) if args.cache else data.default_cache()
    out = Path(args.out)
    entries = data.load_styles(cache, args.styles.split(","))
    train_set, held_out = data.split_by_key(entries, data.held_out_keys(cache))
    if args.limit:
        train_set = train_set[:args.limit]
    from products.image.emoji.pipeline import prompt_encoder

    encode, kind = prompt_encoder(args.tokens)
    all_captions = sorted({c for e in entries for c in e.captions})
    print(f"{len(train_set)} train / {len(held_out)} held-out emoji, {len(all_captions)} captions", flush=True)
    vectors = caption_vectors(all_captions, cache, encode, kind)
    torch.set_num_threads(args.threads)  # the registry's encoder load applies the app's own thread setting
    by_caption = dict(zip(all_captions, vectors))
    train_data = make_dataset(train_set, by_caption, args.size)
    held_data = make_dataset(held_out, by_caption, args.size)
    if args.balance:
        train_data.balance([e.subcategory for e in train_set], args.balance)
    recoloured = round(args.batch * args.recolour)
    recolourer = None
    if recoloured:
        recolourer = recolour.Recolourer(train_data.images, [e.name for e in train_set],
                                         lambda captions: caption_vectors(captions, cache, encode, kind))
        torch.set_num_threads(args.threads)
        print(f"{recoloured} of {args.batch} per batch recoloured, from {len(recolourer.eligible)} emoji with one "
              f"dominant hue", flush=True)

    unet = build_unet(args.size, [int(c) for c in args.channels.split(",")], seed=args.seed, layers=args.layers,
                      self_attention_below=args.self_attention_below)
    if args.init:
        from safetensors.torch import load_file

        unet.load_state_dict(load_file(str(Path(args.init) / "unet" / "diffusion_pytorch_model.safetensors")))
        print(f"initialised from {args.init}", flush=True)
        if args.tokens and not EmojiDiffusionPipeline.load_config(args.init).get("token_condition"):
            print(f"{zero_cross_attention_keys(unet)} cross-attention key projections zeroed", flush=True)
    ema = copy.deepcopy(unet).eval().requires_grad_(False)
    scheduler = build_scheduler(args.prediction)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=args.lr, weight_decay=0.0)
    warmup = max(1, args.warmup)

    def lr_at(s: int) -> float:
        if s < warmup or args.decay == "none":
            return min(1.0, (s + 1) / warmup)
        done = min(1.0, (s - warmup) / max(1, args.steps - warmup))
        return float(0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * done)))  # a plain float: checkpoints load weights_only

    lr_sched = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_at)
    generator = torch.Generator().manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    ckpt = cache / "checkpoints" / (f"ckpt-{args.seed}-{args.size}-{args.channels.replace(',', '_')}-"
                                    f"{args.layers}-{args.self_attention_below}-{args.styles.replace(',', '_')}-"
                                    f"{args.prediction}{f'-recolour{args.recolour}' if recoloured else ''}"
                                    f"{f'-balance{args.balance}' if args.balance else ''}{'-tokens' if args.tokens else ''}.pt")
    step, history, spent = 0, [], 0.0
    if args.resume and ckpt.is_file():
        state = torch.load(ckpt, weights_only=True)
        unet.load_state_dict(state["unet"])
        ema.load_state_dict(state["ema"])
        optimizer.load_state_dict(state["optimizer"])
        lr_sched.load_state_dict(state["lr"])
        generator.set_state(state["generator"])
        rng.bit_generator.state = json.loads(state["rng"])
        step, history, spent = int(state["step"]), list(state["history"]), float(state["spent"])
        print(f"resumed at step {step}", flush=True)
    print(f"UNet {sum(p.numel() for p in unet.parameters()) / 1e6:.2f}M parameters; {args.steps} steps of "
          f"batch {args.batch}", flush=True)
    start = time.perf_counter() - spent
    window = []
    while step < args.steps:
        images, cond = train_data.batch(args.batch - recoloured, rng)
        if recolourer:
            turned, turned_cond = recolourer.batch(train_data.images, recoloured, rng)
            images, cond = torch.cat([images, turned]), torch.cat([cond, turned_cond])
        loss = train_step(unet, scheduler, optimizer, images, cond, generator, args.drop, args.min_snr)
        lr_sched.step()
        step += 1
        ema_update(ema, unet, min(args.ema, (1 + step) / (10 + step)))
        window.append(loss)
        elapsed = time.perf_counter() - start
        if step % 10 == 0 or step == args.steps:
            history.append([step, float(np.mean(window)), round(elapsed, 1)])
            eta = elapsed / step * (args.steps - step)
            print(f"step {step}/{args.steps} loss {np.mean(window):.4f} {elapsed:.0f}s eta {eta:.0f}s", flush=True)
            window = []
        stop = args.max_minutes and elapsed > args.max_minutes * 60
        if step % args.checkpoint_every == 0 or step == args.steps or stop:
            ckpt.parent.mkdir(parents=True, exist_ok=True)
            torch.save({"unet": unet.state_dict(), "ema": ema.state_dict(), "optimizer": optimizer.state_dict(),
                        "lr": lr_sched.state_dict(), "generator": generator.get_state(), "step": step,
                        "rng": json.dumps(rng.bit_generator.state),
                        "history": history, "spent": elapsed}, ckpt)
        if stop:
            print(f"stopping at step {step}: --max-minutes {args.max_minutes} reached", flush=True)
            break
    seconds = time.perf_counter() - start
    held_cond = held_data.vectors[[r[0] for r in held_data.rows]]
    n_eval = min(len(train_data.images), 256)
    train_cond = train_data.vectors[[r[0] for r in train_data.rows[:n_eval]]]
    metrics = {
        "steps": step, "batch": args.batch, "seconds": round(seconds, 1), "lr": args.lr, "seed": args.seed,
        "prediction": args.prediction, "min_snr": args.min_snr, "decay": args.decay, "ema": args.ema,
        "init": args.init, "tokens": args.tokens, "recolour": args.recolour, "balance": args.balance, "size": args.size, "channels": args.channels, "layers": args.layers,
        "self_attention_below": args.self_attention_below, "styles": args.styles, "train_emoji": len(train_set), "held_out_emoji": len(held_out),
        "parameters": sum(p.numel() for p in ema.parameters()),
        "held_out_loss": round(denoising_loss(ema, scheduler, held_data.images, held_cond), 5),
        "train_loss": round(denoising_loss(ema, scheduler, train_data.images[:n_eval], train_cond), 5),
        "held_out_loss_uncond": round(denoising_loss(ema, scheduler, held_data.images,
                                                     torch.zeros_like(held_cond)), 5),
        "history": history,
    }
    print(json.dumps({k: v for k, v in metrics.items() if k != "history"}), flush=True)
    out.mkdir(parents=True, exist_ok=True)
    save_pipeline(ema, out, args.prediction, args.tokens)
    (out / "training.json").write_text(json.dumps(metrics, indent=1) + "\n")
    if not args.no_card:
        from products.image.emoji.tools import evaluate

        evaluate.main(["--model", str(out), "--cache", str(cache)])
    return metrics


if __name__ == "__main__":
    main()
