"""A small text-to-image diffusion model trained here on open emoji art (Noto, Apache-2.0).

Part of the Image product, its offline default (assets/emoji-diffusion; see docs/emoji_model.md). `pipeline` is
the diffusers pipeline the app runs (a pixel-space UNet2DConditionModel conditioned on the shared
all-MiniLM-L6-v2 sentence vectors). The offline tools are in `tools/`: `data` fetches and captions the
emoji from the npm package, `train` writes a diffusers folder (e.g. assets/emoji-diffusion/),
`evaluate` measures it.
"""
