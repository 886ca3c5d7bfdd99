"""Image generation: the app's per-step time against the raw diffusers pipeline call, same pipeline,
same run, same seed and parameters.

Random-weight pipelines built from configs (products/image/tools/tiny.py): "tiny" (diffusers' test sizes)
and "mid" (a ~30M-parameter UNet at 256x256); and "emoji", the bundled offline default
(assets/emoji-diffusion: 32x32, shown at 256x256), with its own default preset (aipm_image.json: 25 steps,
guidance 7.5, the Euler a sampler); "emoji-ddim" is the same with the DDIM sampler it used before. The app
path is core.generate: input checks, the registry lease, scheduler selection, the per-step callback
(progress + Stop check) and PNG-free results. The raw path is
`pipe(prompt, num_inference_steps=..., guidance_scale=..., width=..., height=..., generator=...)`.

    OMP_WAIT_POLICY=PASSIVE nice -n 10 python bench/bench_image.py [--sizes tiny mid emoji] [--repeats 5]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import shared  # noqa: E402,F401  (sets OMP_WAIT_POLICY before torch)

CASES = {"tiny": dict(side=64, steps=20), "mid": dict(side=256, steps=8),
         "emoji": dict(side=256, steps=25, prompt="a red heart", bundled=True, preset=True),
         "emoji-ddim": dict(side=256, steps=25, prompt="a red heart", bundled=True, sampler="Default")}
PROMPT = "a watercolor painting of a lighthouse at sunset by the sea"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--guidance", type=float, default=0.0,
                        help="> 1 doubles the UNet batch (CFG); the emoji cases use the preset's")
    args = parser.parse_args()
    os.environ["AIPM_TORCH_THREADS"] = str(args.threads)
    os.environ.setdefault("AIPM_DEVICE", "cpu")
    os.environ.setdefault("AIPM_DTYPE", "float32")
    os.environ["AIPM_KEEP_ALIVE"] = "0"
    os.environ.setdefault("AIPM_OFFLINE", "1")

    import torch

    from products.image import core
    from products.image.models import IMAGE, IMAGE_SPEC
    from products.image.tools.tiny import save_pipeline
    from shared.config import settings
    from shared.registry import ModelRegistry

    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), device {os.environ['AIPM_DEVICE']}, "
          f"dtype {os.environ['AIPM_DTYPE']}, guidance {args.guidance} (emoji: its preset's), median of {args.repeats}")
    print(f"{'model':10} {'sampler':8} {'size':>8} {'steps':>5} {'UNet params':>12} {'raw s/step':>11} {'app s/step':>11} "
          f"{'ratio':>6} {'raw total':>10} {'app total':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            case = CASES[size]
            if case.get("bundled"):  # no configured folder: the source chain falls back to the bundled model
                os.environ.pop("AIPM_IMAGE_PATH", None)
            else:
                os.environ["AIPM_IMAGE_PATH"] = str(save_pipeline(Path(tmp) / size, size=size))
            settings.cache_clear()
            registry = ModelRegistry(budget_bytes=8 * 10**9, keep_alive_s=0)
            registry.register(IMAGE_SPEC)
            side, steps = case["side"], case["steps"]
            prompt = case.get("prompt", PROMPT)
            with registry.use(IMAGE) as model:
                pipe = model.pipe
                preset = model.profile.presets[model.profile.default]
                guidance = preset.guidance if case.get("bundled") else args.guidance
                sampler = preset.scheduler if case.get("preset") else case.get("sampler", "Default")
                model.use_scheduler(sampler)  # the raw calls use it too
                unet_params = sum(p.numel() for p in pipe.unet.parameters())
                params, _ = core.check_request(prompt, seed=1, steps=steps, guidance=guidance, width=side,
                                               height=side, scheduler=sampler)
                fitted, _ = core.fit_to_model(params, model)

                def raw():
                    generator = torch.Generator("cpu").manual_seed(1)
                    with torch.inference_mode():
                        pipe(prompt, num_inference_steps=steps, guidance_scale=guidance, width=side,
                             height=side, generator=generator)

                def app():
                    result = core.generate(prompt, seed=1, steps=steps, guidance=guidance, width=side,
                                           height=side, scheduler=sampler, registry=registry)
                    assert len(result.images) == 1 and result.images[0].image.size == (side, side)

                assert (fitted.width, fitted.height) == (side, side)
                raw(), app()  # warm-up both
                raw_t, app_t = [], []
                for _ in range(args.repeats):  # interleaved, so machine noise hits both alike
                    start = time.perf_counter()
                    raw()
                    raw_t.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    app()
                    app_t.append(time.perf_counter() - start)
            r, a = statistics.median(raw_t), statistics.median(app_t)
            print(f"{size:10} {sampler:8} {side:>4}x{side:<4}{steps:>5} {unet_params / 1e6:>11.2f}M {r / steps:>11.4f} "
                  f"{a / steps:>11.4f} {a / r:>6.3f} {r:>10.3f} {a:>10.3f}")
            registry.unload(IMAGE)


if __name__ == "__main__":
    main()
