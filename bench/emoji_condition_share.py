"""How much an emoji model's prompt lowers its denoising loss, per noise level: the prompt's share.

    OMP_WAIT_POLICY=PASSIVE python bench/emoji_condition_share.py --model assets/emoji-diffusion

For 256 seeded training emoji and 256 held-out ones (their first caption), the model's denoising
loss (train.denoising_loss: its own target, seeded noise) at fixed timesteps with the prompt and with
the condition zeroed; the share is 1 - with / without. At t=999 the input is pure noise, so the
share says how well the prompt alone predicts the image: how strongly the model is conditioned
where its layout is decided.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import shared  # noqa: E402,F401  (sets OMP_WAIT_POLICY before torch)
import numpy as np  # noqa: E402
import torch  # noqa: E402

from products.image.emoji.pipeline import EmojiDiffusionPipeline, prompt_encoder  # noqa: E402
from products.image.emoji.tools import data  # noqa: E402
from products.image.emoji.tools.train import caption_vectors, denoising_loss, make_dataset  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="assets/emoji-diffusion")
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--timesteps", default="999,900,700,500")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    pipe = EmojiDiffusionPipeline.from_pretrained(args.model)
    cache = data.default_cache()
    entries = data.load_styles(cache, list(data.STYLES))
    train_set, held_out = data.split_by_key(entries, data.held_out_keys(cache))
    captions = sorted({c for e in entries for c in e.captions})
    encode, kind = prompt_encoder(pipe.config.token_condition)
    vectors = dict(zip(captions, caption_vectors(captions, cache, encode, kind)))
    torch.set_num_threads(args.threads)  # after the encoder's load, which applies the app's own setting
    print("| images | t | loss with prompt | loss without | prompt's share |\n|---|---|---|---|---|")
    for label, subset in (("train", train_set), ("held-out", held_out)):
        rng = np.random.default_rng(0)
        picked = [subset[i] for i in rng.choice(len(subset), min(args.images, len(subset)), replace=False)]
        dataset = make_dataset(picked, vectors, pipe.unet.config.sample_size)
        images, cond = dataset.images, dataset.vectors[[rows[0] for rows in dataset.rows]]
        for t in (int(s) for s in args.timesteps.split(",")):
            with_prompt = denoising_loss(pipe.unet, pipe.scheduler, images, cond, timestep=t)
            without = denoising_loss(pipe.unet, pipe.scheduler, images, torch.zeros_like(cond), timestep=t)
            print(f"| {label} | {t} | {with_prompt:.4f} | {without:.4f} | {1 - with_prompt / without:.3f} |",
                  flush=True)


if __name__ == "__main__":
    main()
