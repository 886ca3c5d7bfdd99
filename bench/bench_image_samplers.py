"""Which samplers run which step counts of a noise schedule, and what the dry run costs.

    python bench/bench_image_samplers.py --max-steps 100 --threads 2

For the emoji model's schedule (assets/emoji-diffusion) and Stable Diffusion's (scaled_linear betas
0.00085-0.012, built from its config; no weights), prints each sampler's step counts in
1..--max-steps that fail the dry run (products/image/samplers.py) and the mean time of one dry run,
next to one 25-step emoji generation by the raw pipeline in the same run (the dry run is cached per
sampler and step count, so a request pays it at most once).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import shared  # noqa: F401,E402  (the app's environment defaults, as the other benches)


def main() -> None:
    import diffusers
    import torch

    from products.image.emoji.pipeline import EmojiDiffusionPipeline
    from products.image.models import EMOJI_FOLDER, SCHEDULERS
    from products.image.samplers import runs_cleanly

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-steps", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    pipe = EmojiDiffusionPipeline.from_pretrained(str(EMOJI_FOLDER))
    pipe.set_progress_bar_config(disable=True)
    pipe(["a red heart"], num_inference_steps=2, output_type="np")  # loads the text encoder
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    pipe(["a red heart"], num_inference_steps=25, guidance_scale=3.0, output_type="np",
         generator=torch.Generator().manual_seed(0))
    generation = time.perf_counter() - start
    schedules = {"emoji": pipe.scheduler,
                 "sd": diffusers.PNDMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                               skip_prk_steps=True, steps_offset=1)}
    costs = []
    for label, base in schedules.items():
        sigma_max = float(((1 - base.alphas_cumprod[-1]) / base.alphas_cumprod[-1]) ** 0.5)
        print(f"{label} schedule, sigma_max {sigma_max:,.1f}")
        for name, (cls_name, extra) in SCHEDULERS.items():
            if not cls_name or cls_name == "LCMScheduler":
                continue
            scheduler = getattr(diffusers, cls_name).from_config(dict(base.config), **extra)
            start = time.perf_counter()
            failing = [n for n in range(1, args.max_steps + 1) if not runs_cleanly(scheduler, n)]
            each = (time.perf_counter() - start) / args.max_steps
            costs.append(each)
            shown = ", ".join(map(str, failing[:6])) + (f", ... ({len(failing)} in all)" if len(failing) > 6 else "")
            print(f"  {name:16s} fails at: {shown or 'none'}; {each * 1000:.1f} ms per dry run")
    mean = sum(costs) / len(costs)
    print(f"25-step emoji generation (raw pipeline): {generation * 1000:.0f} ms; mean dry run {mean * 1000:.1f} ms, "
          f"ratio {mean / generation:.4f}")


if __name__ == "__main__":
    main()
