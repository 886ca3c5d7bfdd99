"""What colour augmentation adds to an emoji training step, measured in the same run.

    python bench/bench_emoji_recolour.py --repeats 20 --threads 2

Times one training step of v3's shape (batch 32, 32px, channels 32-64-64) and the recolouring of
13 of its 32 images (recolour.rotate_hue, as train --recolour 0.4 does) on random data, and prints
both and their ratio.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import shared  # noqa: F401,E402  (the app's environment defaults, as the other benches)


def main() -> None:
    import numpy as np
    import torch

    from products.image.emoji.pipeline import build_scheduler, build_unet
    from products.image.emoji.tools import recolour
    from products.image.emoji.tools.train import train_step

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(32, 3, 32, 32, generator=generator) * 2 - 1
    cond = torch.randn(32, 384, generator=generator)
    unet, scheduler = build_unet(32, [32, 64, 64], seed=0), build_scheduler("v_prediction")
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-4)
    angles = torch.from_numpy(np.random.default_rng(0).uniform(0, 360, 13)).float()

    def timed(fn) -> float:
        fn()  # warm-up
        started = time.perf_counter()
        for _ in range(args.repeats):
            fn()
        return (time.perf_counter() - started) / args.repeats

    step = timed(lambda: train_step(unet, scheduler, optimizer, images, cond, generator))
    turn = timed(lambda: recolour.rotate_hue(images[:13], angles))
    print(f"training step {step * 1000:.1f} ms; recolouring 13 images {turn * 1000:.2f} ms; "
          f"ratio {turn / step:.4f} ({turn / step:.2%} of a step)")


if __name__ == "__main__":
    main()
