"""Image generation: a tiny random-weight Stable Diffusion pipeline built from configs (no download),
saved as a diffusers folder, loaded through the registry's real path (AIPM_IMAGE_PATH)."""
from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from shared.config import settings
from shared.registry import ModelLoadError, ModelRegistry
from shared.ui import UserError

from products.image import core
from products.image.models import IMAGE, IMAGE_SPEC, configured_profile, folder_profile, make_profile
from products.image.settings import ImageSettings
from products.image.tools.tiny import save_pipeline
from tests.conftest import free_port

PROMPT = "a photo of a cat sitting on a red sofa"


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return save_pipeline(tmp_path_factory.mktemp("tiny-sd") / "tiny-sd", size="tiny")


@pytest.fixture(scope="module")
def env(tiny_dir):
    """Settings for the module: the tiny pipeline on CPU in float32."""
    mp = pytest.MonkeyPatch()
    for key, value in {"AIPM_IMAGE_PATH": str(tiny_dir), "AIPM_DEVICE": "cpu", "AIPM_DTYPE": "float32",
                       "AIPM_IMAGE_MAX_PIXELS": "1048576", "AIPM_IMAGE_SAFETY": "1"}.items():
        mp.setenv(key, value)
    settings.cache_clear()
    yield tiny_dir
    mp.undo()
    settings.cache_clear()


def private_registry() -> ModelRegistry:
    reg = ModelRegistry(budget_bytes=4 * 10**9, keep_alive_s=0)
    reg.register(IMAGE_SPEC)
    return reg


@pytest.fixture(scope="module")
def reg(env):
    return private_registry()


def pixels(image) -> np.ndarray:
    return np.asarray(image.image).astype(np.int16)


# ---- model source chain -----------------------------------------------------------------------
def test_no_model_configured_names_the_settings(fresh_settings):
    fresh_settings.setenv("AIPM_IMAGE_PATH", "")
    fresh_settings.setenv("AIPM_IMAGE_OFFLINE_MODEL", "none")
    fresh_settings.setenv("AIPM_IMAGE_HUB", "stabilityai/sd-turbo")
    fresh_settings.setenv("AIPM_OFFLINE", "1")
    with pytest.raises(ModelLoadError) as err:
        core.generate(PROMPT, steps=1, registry=private_registry())
    text = str(err.value)
    assert "AIPM_IMAGE_PATH" in text and "AIPM_IMAGE_HUB" in text and "hub not allowed" in text
    assert "AIPM_IMAGE_OFFLINE_MODEL=none" in text


def test_a_folder_without_model_index_is_refused(fresh_settings, tmp_path):
    fresh_settings.setenv("AIPM_IMAGE_PATH", str(tmp_path))
    fresh_settings.setenv("AIPM_IMAGE_HUB", "")
    with pytest.raises(ModelLoadError, match="model_index.json"):
        core.generate(PROMPT, steps=1, registry=private_registry())


def test_loads_through_the_registry(env, reg):
    with reg.use(IMAGE) as model:
        assert type(model.pipe).__name__ == "StableDiffusionPipeline"
        assert model.vae_scale == 2 and model.token_limit() == 75
    status = reg.status_of(IMAGE)
    assert status["state"] == "loaded" and status["source"].startswith("local:") and status["bytes"] > 0


# ---- generation -------------------------------------------------------------------------------
def test_seeded_runs_are_deterministic(env, reg):
    a = core.generate(PROMPT, seed=123, steps=2, guidance=0, width=64, height=64, num_images=2, registry=reg)
    b = core.generate(PROMPT, seed="123", steps=2, guidance=0, width=64, height=64, num_images=1, registry=reg)
    c = core.generate(PROMPT, seed=124, steps=2, guidance=0, width=64, height=64, num_images=1, registry=reg)
    assert [i.params.seed for i in a.images] == [123, 124]
    assert np.array_equal(pixels(a.images[0]), pixels(b.images[0]))
    assert np.array_equal(pixels(a.images[1]), pixels(c.images[0]))  # image i of a batch = seed + i alone
    assert not np.array_equal(pixels(a.images[0]), pixels(a.images[1]))
    assert a.done and not a.stopped and a.steps_run == 4


def test_random_seed_is_reported(env, reg):
    result = core.generate(PROMPT, seed="", steps=1, width=64, height=64, registry=reg)
    assert 0 <= result.params.seed < 2**32 and result.images[0].params.seed == result.params.seed


def test_parameters_reach_the_pipeline(env, reg, monkeypatch):
    seen = {}
    with reg.use(IMAGE) as model:
        original = model.pipe.encode_prompt

        def spy(prompt, device, num_images_per_prompt, do_classifier_free_guidance, negative_prompt=None, **kw):
            seen.update(prompt=prompt, cfg=do_classifier_free_guidance, negative=negative_prompt)
            return original(prompt, device, num_images_per_prompt, do_classifier_free_guidance, negative_prompt, **kw)

        monkeypatch.setattr(model.pipe, "encode_prompt", spy)
        steps_seen = []
        result = core.generate(PROMPT, "blurry", seed=7, steps=3, guidance=6.5, width=96, height=64,
                               scheduler="Euler a", registry=reg,
                               progress=lambda f, text: steps_seen.append(text))
        assert seen == {"prompt": PROMPT, "cfg": True, "negative": "blurry"}
        assert model.pipe.guidance_scale == 6.5 and model.pipe.num_timesteps == 3
        assert type(model.pipe.scheduler).__name__ == "EulerAncestralDiscreteScheduler"
    image = result.images[0]
    assert image.image.size == (96, 64)
    assert image.params == core.Params(PROMPT, "blurry", 7, 3, 6.5, 96, 64, 1, "Euler a", env.name)
    assert steps_seen[-3:] == [f"Image 1/1, step {s}/3" for s in (1, 2, 3)]


def test_negative_prompt_is_unused_without_guidance(env, reg):
    result = core.generate(PROMPT, "blurry", seed=1, steps=1, guidance=0, width=64, height=64, registry=reg)
    assert any("no effect" in note for note in result.notes)


@pytest.mark.parametrize("name, cls", [("Euler", "EulerDiscreteScheduler"),
                                       ("Euler a", "EulerAncestralDiscreteScheduler"),
                                       ("DPM++ 2M", "DPMSolverMultistepScheduler"),
                                       ("DPM++ 2M Karras", "DPMSolverMultistepScheduler"),
                                       ("Default", "EulerDiscreteScheduler")])
def test_scheduler_switching(env, reg, name, cls):
    result = core.generate(PROMPT, seed=3, steps=2, width=64, height=64, scheduler=name, registry=reg)
    with reg.use(IMAGE) as model:
        assert type(model.pipe.scheduler).__name__ == cls
        assert model.pipe.scheduler.config.get("use_karras_sigmas", False) == ("Karras" in name)
        assert "LCM" not in model.scheduler_names()
    assert result.images[0].params.scheduler == name


def test_every_sampler_runs_a_stable_diffusion_schedule(env, reg):
    """The dry run (samplers.py) passes every sampler on SD's schedule at 1 to 50 steps."""
    with reg.use(IMAGE) as model:
        assert all(model.sampler_works(name, steps) for name in model.scheduler_names() for steps in range(1, 51))


def test_lcm_needs_an_lcm_model(env, reg, tmp_path, fresh_settings):
    with pytest.raises(UserError, match="LCM-distilled"):
        core.generate(PROMPT, seed=1, steps=2, width=64, height=64, scheduler="LCM", registry=reg)
    lcm_dir = save_pipeline(tmp_path / "tiny-lcm", scheduler="lcm")
    fresh_settings.setenv("AIPM_IMAGE_PATH", str(lcm_dir))
    assert folder_profile(lcm_dir).family == "lcm"
    lcm_reg = private_registry()
    result = core.generate(PROMPT, seed=1, steps=2, guidance=1.0, width=64, height=64, scheduler="LCM",
                           registry=lcm_reg)
    with lcm_reg.use(IMAGE) as model:
        assert type(model.pipe.scheduler).__name__ == "LCMScheduler" and "LCM" in model.scheduler_names()
        assert model.profile.default.startswith("LCM")
    assert len(result.images) == 1


def test_stop_interrupts_between_steps_and_keeps_finished_images(env, reg):
    stop = threading.Event()

    def progress(fraction, text):
        if text == "Image 2/3, step 2/5":
            stop.set()

    result = core.generate(PROMPT, seed=11, steps=5, width=64, height=64, num_images=3, registry=reg,
                           progress=progress, stop=stop)
    assert result.stopped and len(result.images) == 1 and result.steps_run == 5 + 2
    assert any("1 of 3" in note for note in result.notes)
    full = core.generate(PROMPT, seed=11, steps=5, width=64, height=64, registry=reg)
    assert np.array_equal(pixels(result.images[0]), pixels(full.images[0]))
    # The pipeline is usable again after a stop.
    again = core.generate(PROMPT, seed=11, steps=5, width=64, height=64, registry=reg)
    assert np.array_equal(pixels(again.images[0]), pixels(full.images[0]))


def test_iter_generate_yields_each_finished_image(env, reg):
    params, _ = core.check_request(PROMPT, seed=5, steps=1, width=64, height=64, num_images=3)
    counts = [len(r.images) for r in core.iter_generate(params, registry=reg)]
    assert counts == [1, 2, 3]


def test_what_a_plain_call_leaves_out_comes_from_the_models_default_preset(env, reg):
    preset = core.default_preset(reg)
    assert (preset.guidance, preset.scheduler) != (0.0, "Default")  # so the check below can fail
    result = core.generate(PROMPT, seed=5, steps=1, width=64, height=64, registry=reg)
    assert (result.params.guidance, result.params.scheduler) == (preset.guidance, preset.scheduler)


def test_the_plain_default_is_the_shipped_emoji_preset(fresh_settings):
    from products.image.models import EMOJI_FOLDER

    for key, value in {"AIPM_IMAGE_PATH": "", "AIPM_OFFLINE": "1", "AIPM_IMAGE_OFFLINE_MODEL": "emoji"}.items():
        fresh_settings.setenv(key, value)
    presets = json.loads((EMOJI_FOLDER / "aipm_image.json").read_text())
    shipped = presets["presets"][presets["default"]]
    preset = core.default_preset()
    assert (preset.steps, preset.guidance, preset.width) == (shipped["steps"], shipped["guidance"], shipped["width"])


def test_an_abandoned_stream_does_not_block_others(env, reg):
    params, _ = core.check_request(PROMPT, seed=5, steps=1, width=64, height=64, num_images=3)
    stream = core.iter_generate(params, registry=reg)
    first = next(stream)  # suspended after image 1, still holding its lease
    results = []
    worker = threading.Thread(target=lambda: results.append(
        core.generate(PROMPT, seed=5, steps=1, guidance=0, width=64, height=64, scheduler="Default", registry=reg)))
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "a suspended stream blocked another generation"
    assert np.array_equal(pixels(first.images[0]), pixels(results[0].images[0]))
    stream.close()
    assert reg.status_of(IMAGE)["leases"] == 0


# ---- sizes ------------------------------------------------------------------------------------
def test_fit_size():
    assert core.fit_size(512, 512, 1024 * 1024) == (512, 512)
    assert core.fit_size(100, 70, 10**6) == (96, 64)
    assert core.fit_size(2048, 1024, 512 * 512) == (720, 360)
    w, h = core.fit_size(4000, 3000, 1024 * 1024)
    assert w * h <= 1024 * 1024 and w % 8 == 0 and h % 8 == 0 and abs(w / h - 4 / 3) < 0.02
    assert core.fit_size(40, 40, 10**6) == (64, 64)


def test_size_is_clamped_to_multiples_and_budget(env, reg, fresh_settings):
    result = core.generate(PROMPT, seed=1, steps=1, width=100, height=70, registry=reg)
    assert result.images[0].image.size == (96, 64)
    assert any("100x70" in n and "96x64" in n and "multiples of 8" in n for n in result.notes)
    small = ImageSettings(max_pixels=128 * 128)  # a settings object, not the environment
    result = core.generate(PROMPT, seed=1, steps=1, width=256, height=256, registry=reg, config=small)
    assert result.images[0].image.size == (128, 128)
    assert any("pixel budget 16384" in n for n in result.notes)


# ---- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    (dict(prompt="   "), "describe the image"),
    (dict(prompt=None), "describe the image"),
    (dict(steps=0), "Steps must be between 1 and 100; got 0"),
    (dict(steps=-3), "got -3"),
    (dict(steps=10_000), "got 10000"),
    (dict(steps="many"), "steps must be a number"),
    (dict(seed="abc"), "seed 'abc' is not a whole number"),
    (dict(seed="1.5"), "not a whole number"),
    (dict(seed=-7), "not a whole number"),
    (dict(width=0), "between 32 and 8192"),
    (dict(width=-512), "between 32 and 8192"),
    (dict(height=100_000), "got 512x100000"),
    (dict(width="wide"), "width must be a number"),
    (dict(guidance=-1), "Guidance scale"),
    (dict(num_images=0), "Number of images"),
    (dict(num_images=50), "Number of images"),
    (dict(scheduler="Heun++"), "Unknown scheduler"),
    (dict(prompt="x" * 20_000), "the limit is 10000"),
])
def test_bad_input_gets_a_clear_message(kwargs, message):
    args = dict(prompt=PROMPT, seed=None, steps=4, guidance=0, width=512, height=512, num_images=1)
    args.update(kwargs)
    with pytest.raises(UserError, match=message):
        core.check_request(**args)


def test_seed_parsing():
    assert core.parse_seed("42") == 42 and core.parse_seed(42.0) == 42 and core.parse_seed(" 7 ") == 7
    assert core.parse_seed(2**32 + 5) == 5
    assert all(0 <= core.parse_seed(v) < 2**32 for v in (None, "", "-1", -1, "random"))


@pytest.mark.parametrize("seed", [1e30, "1e30", 2**63])
def test_seed_past_64_bits_gets_the_clear_message_before_any_model_loads(seed):
    with pytest.raises(UserError, match=r"is not a whole number from 0 to 9223372036854775807: leave it empty"):
        core.generate(PROMPT, seed=seed, steps=1, guidance=0, width=64, height=64, scheduler="Default",
                      registry=object())  # never reached: the request is refused first


def test_over_long_prompt_is_cut_with_a_note(env, reg):
    long_prompt = " ".join(["a watercolor painting of a lighthouse at sunset"] * 20)
    result = core.generate(long_prompt, seed=1, steps=1, width=64, height=64, registry=reg)
    note = next(n for n in result.notes if "text encoder reads 75" in n)
    assert "The prompt has" in note
    used = result.images[0].params.prompt
    assert long_prompt.startswith(used[:40]) and len(used) < len(long_prompt)
    with reg.use(IMAGE) as model:
        assert len(model.tokenizer(used, add_special_tokens=False)["input_ids"]) <= 75


# ---- metadata ---------------------------------------------------------------------------------
def test_png_metadata_round_trip(env, reg, tmp_path):
    prompt = 'a "quoted" cat, on a sofa: studio light\nsecond line'
    result = core.generate(prompt, "blurry, ugly", seed=99, steps=2, guidance=3.5, width=64, height=64,
                           scheduler="DPM++ 2M", registry=reg, out_dir=tmp_path)
    image = result.images[0]
    stored = core.read_png_parameters(image.path)
    assert stored["params"] == image.params
    assert stored["parameters"] == image.text
    assert core.parse_parameters_text(stored["parameters"]) == image.params
    assert "Negative prompt: blurry, ugly" in image.text
    assert image.text.splitlines()[-1] == ('Steps: 2, Sampler: DPM++ 2M, CFG scale: 3.5, Seed: 99, Size: 64x64, '
                                           f"Model: {env.name}")
    from PIL import Image as PILImage
    assert np.array_equal(np.asarray(PILImage.open(image.path).convert("RGB")), np.asarray(image.image))


def test_parameters_text_quotes_values_with_commas():
    params = core.Params("cat", "", 1, 4, 0.0, 512, 512, 1, "Euler a", "local: /m, v2")
    text = core.parameters_text(params)
    assert 'Model: "local: /m, v2"' in text
    assert core.parse_parameters_text(text) == params


# ---- presets and the safety checker ------------------------------------------------------------
def test_presets_per_model(env, tiny_dir, fresh_settings):
    turbo = make_profile("stabilityai/sd-turbo")
    assert turbo.family == "turbo" and turbo.presets[turbo.default] == core_preset(1, 0.0, 512)
    assert make_profile("stabilityai/sdxl-turbo").presets["Turbo, 4 steps"].width == 1024
    assert make_profile("runwayml/stable-diffusion-v1-5").presets["Standard, 25 steps"].guidance == 7.0
    profile = folder_profile(tiny_dir)
    assert profile.family == "sd" and profile.native == 64
    (tiny_dir / "aipm_image.json").write_text(json.dumps(
        {"presets": {"Tiny, 8 steps": {"steps": 8, "guidance": 2, "width": 64, "height": 64}},
         "default": "Tiny, 8 steps"}))
    try:
        assert configured_profile().presets["Tiny, 8 steps"] == core_preset(8, 2.0, 64)
        assert configured_profile().default == "Tiny, 8 steps"
    finally:
        (tiny_dir / "aipm_image.json").unlink()


def core_preset(steps, guidance, side):
    from products.image.models import Preset
    return Preset(steps, guidance, side, side)


def test_safety_checker_flags_instead_of_a_black_image(tmp_path, fresh_settings, env):
    folder = save_pipeline(tmp_path / "tiny-safe", safety=True)
    fresh_settings.setenv("AIPM_IMAGE_PATH", str(folder))
    safe_reg = private_registry()
    with safe_reg.use(IMAGE) as model:
        assert model.has_safety_checker()
        model.pipe.safety_checker.concept_embeds_weights.data.fill_(-10.0)  # every image is "unsafe"
    result = core.generate(PROMPT, seed=1, steps=1, width=64, height=64, num_images=2, registry=safe_reg)
    assert result.images == [] and result.flagged == [1, 2]
    assert any("flagged by the safety checker" in n and "seed 2" in n for n in result.notes)
    fresh_settings.setenv("AIPM_IMAGE_SAFETY", "0")
    off_reg = private_registry()
    result = core.generate(PROMPT, seed=1, steps=1, width=64, height=64, registry=off_reg)
    with off_reg.use(IMAGE) as model:
        assert not model.has_safety_checker()
    assert len(result.images) == 1 and not result.flagged


# ---- through the app --------------------------------------------------------------------------
def test_gradio_client_generation(env, fresh_settings):
    import gradio as gr
    from gradio_client import Client

    from products.image import PRODUCT, build_tab
    from shared.models import registry

    assert PRODUCT.title == "image.tab"
    with gr.Blocks() as demo:
        build_tab()
    demo.queue().launch(prevent_thread_lock=True, server_port=free_port(), quiet=True)
    try:
        client = Client(demo.local_url, verbose=False)
        gallery, seed_used, parameters, notes, files = client.predict(
            PROMPT, "", "321", 2, 0, 64, 64, 2, "Euler", api_name="/image_generate")
        assert len(gallery) == 2 and seed_used == "321" and "Seed: 322" in parameters
        assert "2 image(s)" in notes
        stored = [core.read_png_parameters(f)["params"] for f in files]
        assert [p.seed for p in stored] == [321, 322] and stored[0].prompt == PROMPT
        assert core.read_png_parameters(gallery[0]["image"])["params"].seed == 321
        assert client.predict("321", api_name="/image_reuse_seed") == "321"

        # Stop from the same session while a long generation runs: the finished images stay.
        job = client.submit(PROMPT, "", "5", 40, 0, 64, 64, 4, "Euler", api_name="/image_generate")
        while len(job.outputs()) < 1 and not job.done():
            threading.Event().wait(0.05)
        client.predict(api_name="/image_stop")
        final = job.result()
        assert "Stopped" in final[3] and 1 <= len(final[0]) < 4

        fresh_settings.setenv("AIPM_IMAGE_PATH", "")
        fresh_settings.setenv("AIPM_IMAGE_HUB", "")
        fresh_settings.setenv("AIPM_IMAGE_OFFLINE_MODEL", "none")
        registry.unload(IMAGE)
        with pytest.raises(Exception, match="AIPM_IMAGE_PATH"):
            client.predict(PROMPT, "", "1", 1, 0, 64, 64, 1, "Euler", api_name="/image_generate")
    finally:
        demo.close()
        try:
            registry.unload(IMAGE)
        except Exception:
            pass


def test_tab_shows_a_note_when_no_model_is_configured(fresh_settings):
    import gradio as gr

    from products.image import build_tab

    fresh_settings.setenv("AIPM_IMAGE_PATH", "")
    fresh_settings.setenv("AIPM_OFFLINE", "1")
    fresh_settings.setenv("AIPM_IMAGE_OFFLINE_MODEL", "none")
    with gr.Blocks() as demo:
        build_tab()
    notes = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "image-no-model"]
    assert len(notes) == 1
    fresh_settings.setenv("AIPM_OFFLINE", "0")
    fresh_settings.setenv("HF_HUB_OFFLINE", "0")
    fresh_settings.setenv("AIPM_IMAGE_HUB", "stabilityai/sd-turbo")
    fresh_settings.setattr("shared.sources.hub_reachable", lambda: True)
    with gr.Blocks() as demo:
        build_tab()
    assert not [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "image-no-model"]


def test_limits_come_from_the_settings_object_passed_in():
    tight = ImageSettings(max_steps=2, max_images=1)
    with pytest.raises(UserError, match="Steps must be between 1 and 2; got 3"):
        core.check_request(PROMPT, steps=3, config=tight)
    with pytest.raises(UserError, match="Number of images"):
        core.check_request(PROMPT, steps=2, num_images=2, config=tight)
    params, _ = core.check_request(PROMPT, steps=3, num_images=2)  # the current settings: 100 steps, 4 images
    assert (params.steps, params.num_images) == (3, 2)
