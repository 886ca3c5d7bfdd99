"""Whether a sampler can run a model's noise schedule: a dry run before any pixel is drawn.

Some diffusers samplers break on schedules whose first sigma is huge, such as the emoji model's
squaredcos_cap_v2 schedule (sigma_max 20,291, against 14.6 for Stable Diffusion):
- Euler a takes the square root of sigma_to² - sigma_up², which float32 rounding makes negative
  when one step falls from a huge sigma to a small one (3 steps here); the image comes out NaN
  (k-diffusion clamps sigma_up to sigma_to, diffusers does not).
- Karras sigmas spend most steps above sigma 100, which round to the same timestep; the solver's
  timestep lookup then runs past its last step (IndexError at 25 steps here).
The dry run steps the sampler through `steps` steps on a tiny sample with a zero model output
(the failures come from the schedule, not the model), so the user gets a clear message naming
the samplers that do work instead of a NaN image or a generic error.
"""
from __future__ import annotations

DRY_RUN_SHAPE = (1, 4, 4, 4)


def runs_cleanly(scheduler, steps: int) -> bool:
    """True when a scheduler like `scheduler` steps `steps` times to finite numbers. A new one from
    its config runs, so the pipeline's own (perhaps mid-generation in another thread) is not touched."""
    import torch  # here, not at the top: importing the app must not import torch

    scheduler = type(scheduler).from_config(scheduler.config)
    generator = torch.Generator().manual_seed(0)
    try:
        scheduler.set_timesteps(steps, device="cpu")
        sample = torch.ones(DRY_RUN_SHAPE) * scheduler.init_noise_sigma
        zeros = torch.zeros(DRY_RUN_SHAPE)
        for t in scheduler.timesteps:
            scaled = scheduler.scale_model_input(sample, t)
            if not torch.isfinite(scaled).all():
                return False
            sample = scheduler.step(zeros, t, sample, generator=generator).prev_sample
        return bool(torch.isfinite(sample).all())
    except (IndexError, ValueError, RuntimeError, ZeroDivisionError):
        return False
