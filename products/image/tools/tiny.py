"""Random-weight Stable Diffusion pipelines built from configs, saved as ordinary diffusers folders.

Nothing is downloaded: the CLIP tokenizer's BPE vocabulary is trained here with the `tokenizers`
library on a few sentences. Tests load these folders through the registry's real path
(AIPM_IMAGE_PATH), and the benchmark times them. The images are noise: only the machinery is real.

    python -m products.image.tools.tiny /tmp/tiny-sd [--size tiny|mid] [--scheduler euler|lcm] [--safety]
"""
from __future__ import annotations

import argparse
from pathlib import Path

# Each size: UNet, VAE and text encoder dimensions. "tiny" follows diffusers' own pipeline tests;
# "mid" is a UNet of about 30M parameters, big enough that per-step time is dominated by the UNet.
SIZES = {
    "tiny": dict(unet_channels=(4, 8), unet_heads=2, cross_dim=32, vae_channels=(4, 8), sample_size=32,
                 layers_per_block=1, norm_groups=2, text_layers=2, text_heads=4),
    "mid": dict(unet_channels=(64, 128, 256), unet_heads=8, cross_dim=256, vae_channels=(32, 64, 64, 64),
                sample_size=32, layers_per_block=1, norm_groups=32, text_layers=2, text_heads=4),
}

_CORPUS = [
    "a photo of a cat sitting on a red sofa, highly detailed, studio lighting",
    "an astronaut riding a horse on the moon, digital art, trending",
    "a watercolor painting of a lighthouse at sunset by the sea",
    "portrait of an old man with a beard, oil on canvas, dramatic light",
    "a futuristic city skyline at night with neon signs and rain",
    "blurry, low quality, deformed, ugly, bad anatomy, watermark, text",
    "a bowl of fruit on a wooden table, still life, soft shadows",
    "mountains covered in snow under a blue sky, landscape photography",
]


def build_tokenizer(max_length: int = 77, vocab_size: int = 400):
    """A CLIP tokenizer whose BPE vocabulary and merges are trained locally on _CORPUS."""
    import json

    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import CLIPTokenizer

    special = ["<|startoftext|>", "<|endoftext|>"]
    bpe = Tokenizer(models.BPE(unk_token="<|endoftext|>", end_of_word_suffix="</w>"))
    bpe.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special, end_of_word_suffix="</w>",
                                  initial_alphabet=list("abcdefghijklmnopqrstuvwxyz0123456789.,!?'-"))
    bpe.train_from_iterator(_CORPUS * 4, trainer)
    model = json.loads(bpe.to_str())["model"]
    vocab = model["vocab"]
    # CLIP needs every single character also as a word-final token; add the missing ones.
    for ch in "abcdefghijklmnopqrstuvwxyz0123456789.,!?'-":
        vocab.setdefault(ch + "</w>", len(vocab))
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    tokenizer = CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=max_length)
    return tokenizer


def build_pipeline(size: str = "tiny", scheduler: str = "euler", safety: bool = False, seed: int = 0):
    """A StableDiffusionPipeline with random weights (deterministic for a seed)."""
    import torch
    from diffusers import (AutoencoderKL, EulerDiscreteScheduler, LCMScheduler, StableDiffusionPipeline,
                           UNet2DConditionModel)
    from transformers import CLIPTextConfig, CLIPTextModel

    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}")
    cfg = SIZES[size]
    torch.manual_seed(seed)
    n = len(cfg["unet_channels"])
    unet = UNet2DConditionModel(
        block_out_channels=cfg["unet_channels"], layers_per_block=cfg["layers_per_block"],
        sample_size=cfg["sample_size"], in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D",) + ("CrossAttnDownBlock2D",) * (n - 1),
        up_block_types=("CrossAttnUpBlock2D",) * (n - 1) + ("UpBlock2D",),
        cross_attention_dim=cfg["cross_dim"], attention_head_dim=cfg["unet_heads"],
        norm_num_groups=cfg["norm_groups"],
        time_cond_proj_dim=32 if scheduler == "lcm" else None,
    )
    vae = AutoencoderKL(
        block_out_channels=cfg["vae_channels"], in_channels=3, out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * len(cfg["vae_channels"]),
        up_block_types=("UpDecoderBlock2D",) * len(cfg["vae_channels"]),
        latent_channels=4, norm_num_groups=cfg["norm_groups"], sample_size=cfg["sample_size"] * 2,
    )
    tokenizer = build_tokenizer()
    text_encoder = CLIPTextModel(CLIPTextConfig(
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, hidden_size=cfg["cross_dim"], intermediate_size=cfg["cross_dim"] * 2,
        layer_norm_eps=1e-5, num_attention_heads=cfg["text_heads"], num_hidden_layers=cfg["text_layers"],
        vocab_size=len(tokenizer), max_position_embeddings=77,
    ))
    sched_args = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1)
    sched = LCMScheduler(**sched_args) if scheduler == "lcm" else EulerDiscreteScheduler(**sched_args)
    safety_checker = feature_extractor = None
    if safety:
        safety_checker, feature_extractor = build_safety_checker()
    return StableDiffusionPipeline(
        unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, scheduler=sched,
        safety_checker=safety_checker, feature_extractor=feature_extractor, image_encoder=None,
        requires_safety_checker=safety,
    )


def build_safety_checker():
    """A tiny random StableDiffusionSafetyChecker and its CLIP image processor."""
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPConfig, CLIPImageProcessor

    config = CLIPConfig(
        text_config=dict(hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=1,
                         vocab_size=100, bos_token_id=0, eos_token_id=1, pad_token_id=1),
        vision_config=dict(hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=1,
                           image_size=32, patch_size=8),
        projection_dim=16,
    )
    checker = StableDiffusionSafetyChecker(config).eval()
    processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    return checker, processor


def save_pipeline(folder: str | Path, **kwargs) -> Path:
    """Build and save a random pipeline as a diffusers folder (safetensors)."""
    folder = Path(folder)
    build_pipeline(**kwargs).save_pretrained(folder, safe_serialization=True)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--size", choices=sorted(SIZES), default="tiny")
    parser.add_argument("--scheduler", choices=("euler", "lcm"), default="euler")
    parser.add_argument("--safety", action="store_true")
    args = parser.parse_args()
    print(save_pipeline(args.folder, size=args.size, scheduler=args.scheduler, safety=args.safety))


if __name__ == "__main__":
    main()
