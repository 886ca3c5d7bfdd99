"""A small text-to-image diffusion model trained here on open emoji art (Noto, Apache-2.0).

Not a tab of its own: it is the offline model behind the Image product. `data` fetches and
captions the emoji from the npm package, `pipeline` is the diffusers pipeline (a pixel-space
UNet2DConditionModel conditioned on the shared all-MiniLM-L6-v2 sentence vectors), `train`
reproduces the shipped weights in assets/emoji-diffusion/, `evaluate` measures them.
"""
