"""The Image generation tab: prompt and controls, a gallery with per-step progress, Stop, seeds."""
from __future__ import annotations

import gradio as gr

from shared import capture, feedback
from shared.i18n import I18N, request_lang, t
from shared.outputs import request_dir
from shared.ui import HEAVY, HEAVY_LIMIT, SessionStops, examples, progress_adapter, user_errors

from products.image import core
from products.image.models import SCHEDULERS, configured_profile, configured_source, model_card


EXAMPLES = [
    ["a cozy cabin in a snowy forest at dusk, warm light in the windows, photograph", ""],
    ["a red fox reading a book under a tree, children's book illustration", "blurry, low quality"],
    ["a bowl of ramen on a wooden table, studio lighting, 35mm", ""],
]

# Prompts the offline emoji model follows best (faces, people, colour words; docs/emoji_model.md),
# one with a style token.
EMOJI_EXAMPLES = [["a smiling face", ""], ["a red heart", ""], ["a purple heart", ""], ["a woman, twemoji style", ""],
                  ["a blue car", ""]]

STOPS = SessionStops()


def _model_note() -> tuple[str, object]:
    """("ok" | "emoji" | "no_model", the profile of the model that would load)."""
    source = configured_source()
    return {"": "no_model", "emoji": "emoji"}.get(source, "ok"), configured_profile()


@user_errors
def generate(prompt, negative_prompt, seed, steps, guidance, width, height, num_images, scheduler,
             request: gr.Request = None, progress=gr.Progress()):
    """Streams (gallery, seed used, parameters, notes, files) after each finished image."""
    lang = request_lang(request)
    params, notes = core.check_request(prompt, negative_prompt, seed, steps, guidance, width, height,
                                       num_images, scheduler, lang)
    out_dir = str(request_dir("image"))  # swept by age (shared/outputs.py)
    model = configured_profile().name
    with STOPS.running(request) as stop:
        for result in core.iter_generate(params, progress=progress_adapter(progress), stop=stop, lang=lang,
                                         out_dir=out_dir, notes=notes):
            done = len(result.images)
            capture.note(model=model, template=scheduler, images=done,
                         pixels=done * result.params.width * result.params.height, memo={"count": done})
            gallery = [(image.path, image.text) for image in result.images]
            text = result.images[-1].text if result.images else ""
            yield (gallery, str(result.params.seed), text, "\n\n".join(result.notes),
                   [image.path for image in result.images])


def stop_generation(request: gr.Request = None) -> None:
    """Ask this session's running generation to stop at its next step."""
    STOPS.stop(request)


def apply_preset(name: str):
    preset = configured_profile().presets.get(name)
    if preset is None:
        return [gr.update()] * 5
    return preset.steps, preset.guidance, preset.width, preset.height, preset.scheduler


def reuse_seed(seed_used: str) -> str:
    return seed_used or ""


def show_selected(evt: gr.SelectData):
    caption = getattr(evt, "value", None)
    if isinstance(caption, dict):
        return caption.get("caption") or ""
    return ""


def selected_number(evt: gr.SelectData):
    index = getattr(evt, "index", 0)
    return (index[0] if isinstance(index, (list, tuple)) else int(index or 0)) + 1


def build_tab() -> None:
    status, profile = _model_note()
    preset_names = list(profile.presets)
    first = profile.presets[profile.default]
    gr.Markdown(I18N("image.intro"))
    if status == "no_model":
        gr.Markdown(I18N("image.no_model"), elem_id="image-no-model")
    elif status == "emoji":
        gr.Markdown(t("image.emoji_note", "en", presets=", ".join(preset_names)), elem_id="image-emoji-note")
        with gr.Accordion(I18N("image.model_card"), open=False):
            gr.Markdown(model_card(), elem_id="image-model-card")
    else:
        gr.Markdown(t("image.model_note", "en", name=profile.name, presets=", ".join(preset_names)))
    with gr.Row():
        with gr.Column(scale=2):
            prompt = gr.Textbox(label=I18N("image.prompt"), lines=3, max_length=core.MAX_PROMPT_CHARS)
            negative = gr.Textbox(label=I18N("image.negative"), lines=2, max_length=core.MAX_PROMPT_CHARS)
            with gr.Row():
                button = gr.Button(I18N("image.generate"), variant="primary")
                stop = gr.Button(I18N("image.stop"), variant="stop")
            preset = gr.Dropdown(preset_names, value=profile.default, label=I18N("image.preset"))
            with gr.Row():
                steps = gr.Slider(1, core.max_steps(), value=first.steps, step=1, label=I18N("image.steps"))
                guidance = gr.Slider(0, 20, value=first.guidance, step=0.5, label=I18N("image.guidance"))
            with gr.Row():
                width = gr.Slider(core.MIN_SIDE, 2048, value=first.width, step=core.MULTIPLE, label=I18N("image.width"))
                height = gr.Slider(core.MIN_SIDE, 2048, value=first.height, step=core.MULTIPLE,
                                   label=I18N("image.height"))
            with gr.Row():
                count = gr.Slider(1, core.max_images(), value=1, step=1, label=I18N("image.count"))
                scheduler = gr.Dropdown(list(SCHEDULERS), value=first.scheduler, label=I18N("image.scheduler"))
            with gr.Row():
                seed = gr.Textbox(label=I18N("image.seed"), value="", placeholder="-1")
                random_seed = gr.Button(I18N("image.random"), size="sm")
        with gr.Column(scale=3):
            gallery = gr.Gallery(label=I18N("image.gallery"), type="filepath", columns=2, height=520,
                                 format="png", show_label=True)
            with gr.Row():
                seed_used = gr.Textbox(label=I18N("image.seed_used"), interactive=False)
                reuse = gr.Button(I18N("image.reuse"), size="sm")
            with gr.Row(equal_height=True):
                which = gr.Number(value=1, precision=0, minimum=1, maximum=core.max_images(),
                                  label=I18N("image.fb.which"), scale=1, min_width=120)
                feedback.buttons("image", [("image.fb.favourite", "favourite"), ("image.fb.down", "down")],
                                 item=which)
            notes = gr.Markdown()
            parameters = gr.Textbox(label=I18N("image.parameters"), lines=4, interactive=False, buttons=["copy"])
            files = gr.File(label=I18N("image.files"), file_count="multiple", interactive=False)
    examples(EMOJI_EXAMPLES if status == "emoji" else EXAMPLES, inputs=[prompt, negative])
    gr.on([button.click, prompt.submit], generate,
                  [prompt, negative, seed, steps, guidance, width, height, count, scheduler],
                  [gallery, seed_used, parameters, notes, files], api_name="image_generate",
                  concurrency_limit=HEAVY_LIMIT, concurrency_id=HEAVY)
    stop.click(stop_generation, None, None, api_name="image_stop", queue=False)
    reuse.click(reuse_seed, seed_used, seed, api_name="image_reuse_seed", queue=False)
    random_seed.click(lambda: "", None, seed, api_visibility="private", queue=False)
    preset.change(apply_preset, preset, [steps, guidance, width, height, scheduler], api_name="image_preset",
                  queue=False)
    gallery.select(show_selected, None, parameters, api_visibility="private", queue=False)
    gallery.select(selected_number, None, which, api_visibility="private", queue=False)
