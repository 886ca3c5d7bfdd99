"""The emoji diffusion pipeline: a pixel-space UNet2DConditionModel conditioned on sentence vectors.

The prompt is encoded by the shared "text-encoder" (all-MiniLM-L6-v2, through the model
registry at call time) into one 384-d unit vector. It reaches the UNet twice: as the
cross-attention states and through the UNet's projection class embedding (added to the timestep
embedding, so every ResNet block sees it). Up to v3 the cross-attention states are that one
vector: attention over a single key gives every pixel the same output, a per-channel bias. A model
saved with `token_condition` (`train --tokens`: tried after v3, not shipped) cross-attends to the
prompt's token vectors instead (`SentenceEncoder.encode_tokens`, scaled so their mean is the
sentence vector), so different pixels can take different words. The unconditional
vector for classifier-free guidance is zeros (what training dropped the condition to); a
negative prompt replaces it. The model samples at its native size (32x32 for v1, see the UNet's
sample_size) and the pipeline scales the result to the asked width x height with nearest-neighbour
by default: crisp pixel art rather than a blur of a tiny image (`resample="bicubic"` gives v1's look).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from diffusers import DiffusionPipeline, ImagePipelineOutput

ENCODER = "text-encoder"
TOKENS = 32  # token rows of a token-conditioned model: every emoji caption (at most 30 tokens) fits


def registry_encode(texts: list[str]) -> np.ndarray:
    """Sentence vectors from the shared encoder, through the app's model registry."""
    from shared.models import registry  # registers the shared "text-encoder"

    with registry.use(ENCODER) as encoder:
        return encoder.encode(list(texts))


def registry_encode_tokens(texts: list[str]) -> np.ndarray:
    """(n, TOKENS, 384) token vectors from the shared encoder, through the registry."""
    from shared.models import registry

    with registry.use(ENCODER) as encoder:
        return encoder.encode_tokens(list(texts), TOKENS)


def prompt_encoder(token_condition: bool) -> tuple[Callable[[list[str]], np.ndarray], str]:
    """The registry encode function a model of this kind takes, and the name its vectors carry in the
    training caption cache ("" for sentence vectors)."""
    return (registry_encode_tokens, f"-tokens{TOKENS}") if token_condition else (registry_encode, "")


def condition(cond: torch.Tensor) -> dict:
    """UNet keyword arguments for (n, 384) sentence vectors or (n, TOKENS, 384) token vectors. The
    class embedding gets the mean row, which is the sentence vector either way (encode_tokens fills
    the rows after the last token with it); zeros are the unconditional input. No attention mask:
    every row is meaningful, and the UNet's middle block attends over pixels with its attn1."""
    tokens = cond[:, None, :] if cond.dim() == 2 else cond
    return {"encoder_hidden_states": tokens, "class_labels": tokens.mean(1)}


def zero_cross_attention_keys(unet) -> int:
    """Set the prompt cross-attention's key projections to zero: attention over the tokens is then
    uniform, its output the value of the mean token, which is what a sentence-vector model (v3) saw.
    So a v3 UNet given token conditions starts out computing exactly what it did, and training
    learns where to look. Pixel self-attention (the middle block's attn1) is left alone. Returns how
    many projections were zeroed."""
    from diffusers.models.attention_processor import Attention

    cross = [m for m in unet.modules() if isinstance(m, Attention) and m.is_cross_attention]
    for module in cross:
        torch.nn.init.zeros_(module.to_k.weight)
        if module.to_k.bias is not None:
            torch.nn.init.zeros_(module.to_k.bias)
    return len(cross)


class EmojiDiffusionPipeline(DiffusionPipeline):
    model_cpu_offload_seq = "unet"
    _callback_tensor_inputs = ["latents"]
    # Output pixels per model pixel at the default size (32 -> 256): the Image product reads this
    # to pick the native display size; any multiple of 8 works (the native sample is scaled).
    vae_scale_factor = 8

    def __init__(self, unet, scheduler, token_condition: bool = False):
        super().__init__()
        self.register_modules(unet=unet, scheduler=scheduler)
        self.register_to_config(token_condition=token_condition)
        self.encode_fn: Callable[[list[str]], np.ndarray] = prompt_encoder(token_condition)[0]
        self._interrupt = False

    def encode(self, texts: list[str]) -> torch.Tensor:
        vectors = np.asarray(self.encode_fn(list(texts)), dtype=np.float32)
        return torch.from_numpy(vectors).to(self.device, self.unet.dtype)

    @property
    def interrupt(self):
        return self._interrupt

    @torch.no_grad()
    def __call__(self, prompt: str | list[str], negative_prompt: str | list[str] | None = None,
                 num_inference_steps: int = 25, guidance_scale: float = 3.0, width: int | None = None,
                 height: int | None = None, generator: torch.Generator | None = None,
                 num_images_per_prompt: int = 1, output_type: str = "pil", resample: str = "nearest",
                 callback_on_step_end=None, callback_on_step_end_tensor_inputs=("latents",),
                 return_dict: bool = True, **unused):
        from PIL import Image

        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        n = len(prompts) * num_images_per_prompt
        side = self.unet.config.sample_size
        width = width or side * self.vae_scale_factor
        height = height or side * self.vae_scale_factor
        cond = self.encode(prompts).repeat_interleave(num_images_per_prompt, 0)
        use_cfg = guidance_scale > 1.0
        if use_cfg:
            if negative_prompt:
                negatives = [negative_prompt] * len(prompts) if isinstance(negative_prompt, str) else list(negative_prompt)
                uncond = self.encode(negatives).repeat_interleave(num_images_per_prompt, 0)
            else:
                uncond = torch.zeros_like(cond)
            cond = torch.cat([uncond, cond])
        shape = (n, self.unet.config.in_channels, side, side)
        sample = torch.randn(shape, generator=generator, device="cpu", dtype=torch.float32)
        sample = sample.to(self.device, self.unet.dtype) * self.scheduler.init_noise_sigma
        self.scheduler.set_timesteps(num_inference_steps, device=self.device)
        self._interrupt = False
        for i, t in enumerate(self.scheduler.timesteps):
            if self._interrupt:
                break
            model_in = torch.cat([sample] * 2) if use_cfg else sample
            model_in = self.scheduler.scale_model_input(model_in, t)
            noise = self.unet(model_in, t, **condition(cond)).sample
            if use_cfg:
                noise_uncond, noise_cond = noise.chunk(2)
                noise = noise_uncond + guidance_scale * (noise_cond - noise_uncond)
            sample = self.scheduler.step(noise, t, sample, generator=generator).prev_sample
            if callback_on_step_end is not None:
                given = {"latents": sample}
                out = callback_on_step_end(self, i, t, {k: given[k] for k in callback_on_step_end_tensor_inputs
                                                        if k in given}) or {}
                sample = out.get("latents", sample)
        images = (sample.float().clamp(-1, 1) + 1) / 2
        self.maybe_free_model_hooks()
        if output_type == "pt":
            return ImagePipelineOutput(images=images) if return_dict else (images,)
        arrays = (images.permute(0, 2, 3, 1).cpu().numpy() * 255).round().astype(np.uint8)
        if output_type == "np":
            return ImagePipelineOutput(images=arrays) if return_dict else (arrays,)
        method = Image.NEAREST if resample == "nearest" else Image.BICUBIC
        pils = [Image.fromarray(a).resize((int(width), int(height)), method) for a in arrays]
        return ImagePipelineOutput(images=pils) if return_dict else (pils,)


def build_unet(sample_size: int = 32, channels=(32, 64, 64), seed: int = 0, layers: int = 1,
               self_attention_below: int = 0):
    """The UNet: one resolution per channel width, cross-attention to the prompt vector at all but
    the top one, sentence-vector conditioning. Self-attention over pixels is off except at sizes of
    `self_attention_below` pixels or fewer: on a 2-core CPU it took about 75% of a training step at
    16x16 (256 tokens), while at 8x8 (64 tokens) it is cheap and lets the coarsest level agree on
    one shape."""
    from diffusers import UNet2DConditionModel

    torch.manual_seed(seed)
    levels = len(channels)
    sizes = [sample_size // 2 ** i for i in range(levels)]
    down = ("DownBlock2D",) + ("CrossAttnDownBlock2D",) * (levels - 1)
    cross_only = tuple(size > self_attention_below for size in sizes)
    return UNet2DConditionModel(
        sample_size=sample_size, in_channels=3, out_channels=3, layers_per_block=layers,
        block_out_channels=tuple(channels), down_block_types=down,
        up_block_types=("CrossAttnUpBlock2D",) * (levels - 1) + ("UpBlock2D",),
        cross_attention_dim=384, attention_head_dim=32, norm_num_groups=min(16, channels[0]),
        class_embed_type="projection", projection_class_embeddings_input_dim=384,
        only_cross_attention=cross_only if self_attention_below else True)


def build_scheduler(prediction_type: str = "v_prediction"):
    """DDIM on a cosine schedule. v-prediction (Salimans & Ho 2022) keeps the target well scaled at
    every noise level, which matters when training is short: an epsilon model's errors at high noise
    are what turned the first 740-step run's samples into noise. "trailing" timesteps start sampling
    at t=999, where the model was trained on pure noise; diffusers' default ("leading") starts 20 steps
    at t=950, a level the pure-noise start does not match (Lin et al. 2024, "Common Diffusion Noise
    Schedules and Sample Steps are Flawed"). Training does not use the spacing."""
    from diffusers import DDIMScheduler

    return DDIMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2", prediction_type=prediction_type,
                         clip_sample=True, set_alpha_to_one=True, timestep_spacing="trailing")
