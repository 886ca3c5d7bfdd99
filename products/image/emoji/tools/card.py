"""The model card (README.md) of a trained emoji model folder, from its training.json and metrics.json."""
from __future__ import annotations

from pathlib import Path

VERSION, BEFORE = "v3", "v2"  # the shipped model and the one its card compares it with


def _side_by_side(metrics: dict, check: str, label) -> str:
    compared = metrics.get("compared") or {}
    rows = []
    for name, r in metrics[check].items():
        before = (compared.get(check) or {}).get(name, {}).get("fraction")
        rows.append(f"| {label(name, r)} | {'' if before is None else f'{before:.2f}'} | {r['fraction']:.2f} | "
                    f"{r['baseline']:.2f} |")
    return "\n".join(rows)


def write_card(model: Path, training: dict, metrics: dict, version: str = VERSION, before: str = BEFORE) -> None:
    """The folder's README.md: what the model is, its data and licences, and every measured check."""
    compared = metrics.get("compared") or {}
    side = training.get("size", 32)
    classifier = metrics.get("classifier") or {}
    sampler = {"Default": "DDIM", "Euler a": "Euler ancestral (the Image tab's \"Euler a\")"}.get(
        metrics.get("sampler", "Default"), metrics.get("sampler"))
    colours = _side_by_side(metrics, "colour_check", lambda p, r: f"{p} ({r['asked']})")
    shapes_rows = _side_by_side(metrics, "shape_check", lambda c, r: f"{c}: {', '.join(r['prompts'])}")

    ranked = sorted(metrics["shape_check"].items(), key=lambda item: -item[1]["fraction"])
    best = ", ".join(f"{name} {r['fraction']:.0%}" for name, r in ranked[:3])
    worst = ", ".join(f"{name} {r['fraction']:.0%}" for name, r in ranked[-3:])
    started = (f"from the weights in `{Path(training['init']).name}`, continued" if training.get("init")
               else "from random weights")

    recoloured = (f" {training['recolour']:.0%} of each batch recoloured: an emoji with one dominant hue turned to red,"
                  " orange, yellow, green, blue or purple (the CSS named colours' hues) and captioned \"a blue star\""
                  " (`recolour.py`)." if training.get("recolour") else "")
    held_colour = metrics.get("held_out_colour") or {}
    held_before = (compared.get("held_out_colour") or {})
    held_rows = "\n".join(f"| {c} | {'' if c not in held_before else f'{held_before[c]:.2f}'} | {f:.2f} | "
                           f"{(metrics.get('art_colour') or {}).get(c, {}).get('fraction', float('nan')):.2f} |"
                           for c, f in held_colour.items())

    def both(key, digits=2):
        before = compared.get(key)
        return (f"{before:.{digits}f} → " if before is not None else "") + f"{metrics[key]:.{digits}f}"

    if training.get("tokens"):
        conditioning = ("the prompt's all-MiniLM-L6-v2 token vectors (32 rows of 384, the app's shared\n"
                        "  \"text-encoder\", Apache-2.0; rows after the last token hold the sentence vector) as the\n"
                        "  cross-attention sequence, and their mean, the sentence vector, as a projected class embedding.")
    else:
        conditioning = ("the prompt's all-MiniLM-L6-v2 sentence vector (384-d, the app's shared\n"
                        "  \"text-encoder\", Apache-2.0) as a length-1 cross-attention sequence and as a projected class\n"
                        "  embedding.")
    card = f"""---
license: cc-by-4.0
library_name: diffusers
tags: [text-to-image, emoji, pixel-space, tiny]
---
# emoji-diffusion {version} (AI Product Matrix)

A small text-to-image diffusion model that draws {side}x{side} emoji-style icons, trained in this repo on a
CPU. It is the Image tab's **default offline model**: used when neither `AIPM_IMAGE_PATH` nor a reachable
`AIPM_IMAGE_HUB` is configured (`AIPM_IMAGE_OFFLINE_MODEL=none` turns it off). Measured below ({before} → {version} on
the same seeds): colour check {both('mean_colour_fraction')}, shape check {both('mean_shape_fraction')},
held-out shape {both('held_out_shape')}, Fréchet distance on held-out emoji {both('frechet', 1)} (lower is better).

- **Architecture:** diffusers `UNet2DConditionModel` in pixel space (3x{side}x{side}, no VAE),
  {training.get('parameters', 0) / 1e6:.2f}M parameters, channels {training.get('channels')}, cross-attention to the
  prompt vector below the top level (no self-attention); `DDIMScheduler` (squaredcos_cap_v2,
  {training.get('prediction', 'v_prediction')}), 25 steps by default, sampled with {sampler}.
- **Text conditioning:** {conditioning} Classifier-free guidance (condition dropped to zeros 10% of
  training steps; default scale {metrics['guidance']:g}, the scale the checks below use).
- **Pipeline:** `products.image.emoji.pipeline.EmojiDiffusionPipeline` (this folder's model_index.json);
  the native pixels are scaled up with nearest-neighbour (crisp pixel art, {side * 8}x{side * 8} by default).
- **Data:** {training.get('train_emoji')} training images in three open styles, all from npm, sha256-pinned:
  Noto (`emoji-datasource-google@16.0.0`, art Apache-2.0), Twemoji (`emoji-datasource-twitter@16.0.0`,
  art CC-BY 4.0 © Twitter/X) and Fluent UI emoji flat (`fluentui-emoji@1.3.0`, MIT © Microsoft), composited on
  white and reduced to {side}x{side}. Captions: CLDR names (`emoji` PyPI package), CLDR keywords
  (`cldr-annotations-modern@45.0.0`, Unicode licence), Unicode names, short names, categories and a style token
  ("red heart, twemoji style").{recoloured} {training.get('held_out_emoji')} images of 96 emoji (v1's 5% held-out set, seed 0)
  held out in every style.
- **Training:** {started} for {training.get('steps')} steps of batch
  {training.get('batch')} on the styles {training.get('styles', 'noto')}, AdamW lr {training.get('lr')} (warm-up, then
  {training.get('decay', 'no')} decay), min-SNR-{training.get('min_snr')} loss weights, EMA {training.get('ema')},
  seed {training.get('seed')}, {training.get('seconds', 0) / 60:.1f} min on 2 CPU cores. Reproduce: see
  docs/emoji_model.md.

## Quality (measured, `python -m products.image.emoji.tools.evaluate --compare <{before} folder>`)
- Denoising loss ({training.get('prediction')} target MSE, unweighted, fixed seeded noise and timesteps): held-out
  {training.get('held_out_loss')}, train {training.get('train_loss')}, held-out with the condition zeroed
  {training.get('held_out_loss_uncond')}.
- Colour check ({metrics['samples_per_prompt']} seeded samples per prompt, {metrics['sample_steps']} steps, guidance
  {metrics['guidance']}, {sampler}; fraction whose dominant non-white hue is the asked colour):

| prompt (asked colour) | {before} | {version} | same seeds, "an emoji" |
|---|---|---|---|
{colours}

- Colour words on emoji never trained on: "a <colour> <name>" for {metrics.get('held_out_colour_names', 0)} held-out
  emoji names (one seeded sample each; prompts never used for a choice). The last column is the detector on the
  real art whose name holds the colour word: the share it calls that colour (the art's own score).

| colour | {before} | {version} | real art named with it |
|---|---|---|---|
{held_rows}

- Shape check: a small CNN trained on the real emoji of the training split, half of them hue-turned so it
  judges shape rather than colour (held-out accuracy {classifier.get('held_out_accuracy')} on
  {classifier.get('held_out_images')} held-out images, {classifier.get('held_out_accuracy_hue_turned')} on the same
  images hue-turned), classifies
  {metrics['samples_per_prompt']} seeded samples for each of 3 prompts per category, written for this check:

| category: prompts | {before} | {version} | same seeds, "an emoji" |
|---|---|---|---|
{shapes_rows}

- Held-out emoji ({metrics['held_out_shape_samples']} samples for their CLDR names): classified as their category
  {both('held_out_shape')}; Fréchet distance between the classifier features of the
  {metrics['frechet_images']} real held-out images and of one sample per image {both('frechet', 1)}.
- Grids: `{metrics['grid']}` (16 held-out emoji, real above, sample below) and `{metrics['prompts_grid']}` (the first
  prompt of each category, 4 seeds, {before} left, {version} right).

## Limits
{side}x{side} only, shown as pixel art; English prompts. Shapes it draws best (shape check): {best}; worst:
{worst}. Not a safety-filtered model (the data is emoji art only). License: CC-BY 4.0 for the
weights, because they derive from Twemoji art (CC-BY 4.0) as well as Noto (Apache-2.0) and Fluent (MIT) art;
credit "Twemoji © Twitter/X, CC-BY 4.0; Noto Emoji © Google, Apache-2.0; Fluent UI emoji © Microsoft, MIT".
"""
    (model / "README.md").write_text(card)


