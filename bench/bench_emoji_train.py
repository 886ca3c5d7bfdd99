"""Seconds per training step of emoji-diffusion UNet shapes, to choose the resolution and size by measurement.

    OMP_WAIT_POLICY=PASSIVE python bench/bench_emoji_train.py --repeats 6

Each configuration: one warm-up step, then the median of --repeats training steps (forward, backward,
AdamW) on random data of batch 32, plus the seconds of one 25-step sampling run of one image with
guidance (batch 2). Random weights: speed does not depend on what the model has learned.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import shared  # noqa: E402,F401  (sets OMP_WAIT_POLICY before torch)
import torch  # noqa: E402

from products.image.emoji.pipeline import build_scheduler, build_unet, condition  # noqa: E402
from products.image.emoji.tools.train import train_step  # noqa: E402

CONFIGS = {  # name: (size, channels, layers, self_attention_below[, prompt rows])
    "v1 32px 32-64-64": (32, (32, 64, 64), 1, 0),
    "v1's shape, 32 token rows (--tokens)": (32, (32, 64, 64), 1, 0, 32),
    "32px 64-128-128": (32, (64, 128, 128), 1, 0),
    "32px 64-128-128 +attn8": (32, (64, 128, 128), 1, 8),
    "32px 64-128-128 x2": (32, (64, 128, 128), 2, 8),
    "48px 32-64-128-128 +attn6": (48, (32, 64, 128, 128), 1, 6),
    "48px 64-128-128 +attn12": (48, (64, 128, 128), 1, 12),
    "64px 32-64-128-128 +attn8": (64, (32, 64, 128, 128), 1, 8),
}


def measure(size, channels, layers, attn, repeats, batch, rows=1):
    unet = build_unet(size, channels, layers=layers, self_attention_below=attn)
    scheduler = build_scheduler()
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-4)
    generator = torch.Generator().manual_seed(0)
    images, cond = torch.rand(batch, 3, size, size) * 2 - 1, torch.randn(batch, rows, 384)
    times = []
    for i in range(repeats + 1):
        start = time.perf_counter()
        train_step(unet, scheduler, optimizer, images, cond, generator)
        if i:
            times.append(time.perf_counter() - start)
    unet.eval()
    scheduler.set_timesteps(25)
    x, c = torch.randn(2, 3, size, size), torch.randn(2, rows, 384)
    start = time.perf_counter()
    with torch.no_grad():
        for t in scheduler.timesteps:
            unet(x, t, **condition(c))
    sample = time.perf_counter() - start
    return sum(p.numel() for p in unet.parameters()), statistics.median(times), sample


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", nargs="*", default=None, help="configuration names (default: all)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"| configuration | parameters | s / training step (batch {args.batch}) | vs v1 | s / 25-step image |")
    print("|---|---|---|---|---|")
    base = None
    for name, config in CONFIGS.items():
        if args.only and name not in args.only:
            continue
        params, step, sample = measure(*config[:4], args.repeats, args.batch, *config[4:])
        base = base or step
        print(f"| {name} | {params / 1e6:.2f}M | {step:.3f} | {step / base:.2f} | {sample:.2f} |", flush=True)


if __name__ == "__main__":
    main()
