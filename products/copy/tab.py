"""The Marketing copy tab: a brief, a channel, N variants streamed side by side, Stop, Regenerate."""
from __future__ import annotations


import gradio as gr

from products.copy import core, models, strings  # noqa: F401  (strings registers the labels)
from products.copy.options import PRESETS
from products.copy.templates import TEMPLATES, TONES, Brief
from shared import capture, feedback
from shared.i18n import I18N, add, request_lang, t
from shared.ui import HEAVY, HEAVY_LIMIT, SessionStops, escape, examples, progress_adapter, user_errors

EXAMPLES = [
    ["BrewMate Pro", "a smart pour-over coffee maker", "brews at the exact temperature\napp with 20 recipes\n"
     "quiet 3-minute brew", "home coffee lovers", "friendly", "en", "search_ad"],
    ["TrailLite 2", "an ultralight two-person tent", "1.2 kg\nsets up in 3 minutes\nwaterproof to 3000 mm",
     "weekend hikers", "playful", "en", "social_post"],
    ["云朵枕", "记忆棉护颈枕", "慢回弹记忆棉\n可拆洗枕套\n贴合颈椎曲线", "久坐办公的年轻人", "friendly", "zh", "xiaohongshu"],
    ["LinguaPal", "一款 AI 口语陪练 App", "24 小时随时练\n实时纠正发音\n每天 10 分钟", "想提高英语口语的大学生", "professional",
     "zh", "seo_meta"],
]

STOPS = SessionStops()

add({
    "copy.fb.variant": ("Variant", "版本"),
    "copy.fb.up": ("👍 Good", "👍 好"), "copy.fb.down": ("👎 Not good", "👎 不好"),
    "copy.fb.pick": ("✔ Use this one", "✔ 就用这个"),
    "copy.fb.edit_title": ("Submit your edited version", "提交你修改后的版本"),
    "copy.fb.edited": ("Your edited version of that variant", "你修改后的该版本文案"),
    "copy.fb.edit": ("Send my edit", "发送我的修改"),
})


def _escape(text: str) -> str:
    """Copy text (which may echo the brief) as a Markdown table cell: no HTML, no column breaks."""
    return escape(text).replace("|", "\\|").replace("\n", " ")


def counts_table(variant, template, lang_ui: str) -> str:
    """Each line with its count beside it (count/limit, ✂ when trimmed to fit)."""
    if not variant.lines:
        return ""
    rows = [f"| | {t('copy.col.line', lang_ui)} | {t('copy.col.count', lang_ui)} |", "|---|---|---|"]
    numbers: dict[str, int] = {}
    for line in variant.lines:
        f = next(f for f in template.fields if f.key == line.field)
        numbers[line.field] = numbers.get(line.field, 0) + 1
        label = line.label + (f" {numbers[line.field]}" if f.lines > 1 else "")
        mark = "✂" if line.trimmed else ("✓" if line.ok else "✗")
        rows.append(f"| {label} | {_escape(line.text)} | {line.count}/{line.limit} {mark} |")
    rules = sorted({line.rule for line in variant.lines})
    foot = "; ".join(t(f"copy.rule.{rule}", lang_ui) for rule in rules)
    notes = "; ".join(variant.notes)
    return "\n".join(rows) + f"\n\n<small>{foot}{' · ' + _escape(notes) if notes else ''}</small>"


def _details(update, model: str) -> dict:
    stats = update.stats
    return {
        "model": model, "template": update.template.key if update.template else "", "language": update.lang,
        "stopped": update.stopped, "seed": stats.seed, "prompt_tokens": stats.prompt_tokens,
        "tokens_per_variant": stats.steps, "first_token_s": round(stats.first_token_s or 0, 3),
        "decode_tok_s": round(stats.decode_tok_s, 2), "seconds": round(stats.seconds, 2),
        "decode_s": round(stats.decode_s, 2), "repair_s": round(stats.repair_s, 2), "notes": update.notes,
        "variants": [{"text": text, "loop": v.loop, "notes": v.notes,
                      "lines": [{"field": x.field, "text": x.text, "count": x.count, "limit": x.limit, "rule": x.rule,
                                 "trimmed": x.trimmed} for x in v.lines]}
                     for text, v in zip(update.texts, update.variants)],
    }


def _outputs(update, n: int, model: str, lang_ui: str):
    texts = [gr.update(value=update.texts[i] if i < len(update.texts) else "", visible=i < n)
             for i in range(core.MAX_VARIANTS)]
    if update.done:
        tables = [gr.update(value=counts_table(update.variants[i], update.template, lang_ui) if i < n else "",
                            visible=i < n) for i in range(core.MAX_VARIANTS)]
        stats = update.stats
        status = t("copy.status.stopped", lang_ui, steps=stats.steps) if update.stopped else \
            t("copy.status.done", lang_ui, n=n, model=model, seconds=stats.seconds, ttft=stats.first_token_s or 0,
              speed=stats.decode_tok_s, repair=stats.repair_s, seed=stats.seed)
        details = _details(update, model)
    else:
        tables = [gr.update(visible=i < n) for i in range(core.MAX_VARIANTS)]
        status = t("copy.status.running", lang_ui, n=n, model=model, steps=update.stats.steps)
        details = gr.update()
    if update.notes:
        status += "\n\n" + "\n".join(f"- {escape(note)}" for note in update.notes)
    return [status, *texts, *tables, details]


@user_errors
def write_copy(product: str, description: str, features: str, audience: str, tone: str, language: str,
               voice: str, avoid: str, template: str, variants: float = 3, model: str = "",
               temperature: float = 0.7, top_p: float = 0.9, max_tokens: float = 0, seed: float = -1,
               request: gr.Request = None, progress=gr.Progress()):
    """Stream (status, 5 variant texts, 5 count tables, details) while the copy is written."""
    lang_ui = request_lang(request)
    brief = Brief(product or "", description or "", features or "", audience or "", tone or "", voice or "",
                  avoid or "")
    options = core.Options(variants=int(variants or 1), temperature=float(temperature), top_p=float(top_p),
                           max_new_tokens=int(max_tokens or 0), seed=seed)  # read by shared/seeds.py in core
    model = model or models.configured_models()[0]
    # Leaving the block (done, Stop, page closed) sets the flag: the model thread ends now.
    with STOPS.running(request) as stop:
        for update in core.generate(brief, template, language, options, model, stop=stop,
                                    progress=progress_adapter(progress), lang_ui=lang_ui):
            if update.done:  # what the feedback buttons rate: this request's variants
                capture.note(memo={"count": len(update.texts), "variants": list(update.texts)},
                             model=model, template=template, preset=preset_of(options),
                             tokens_in=update.stats.prompt_tokens,
                             tokens_out=update.stats.steps * len(update.texts), outputs=update.texts)
            yield _outputs(update, len(update.texts), model, lang_ui)  # one when greedy (core's note says so)


def preset_of(options) -> str:
    """The preset whose sampling these options use ('custom' when the sliders were moved)."""
    for name, (temperature, top_p) in PRESETS.items():
        if abs(options.temperature - temperature) < 1e-6 and abs(options.top_p - top_p) < 1e-6:
            return name
    return "custom"


# write_copy's inputs by name, in the order build_tab passes them (tests/test_copy_tab.py checks it is write_copy's)
INPUTS = ("product", "description", "features", "audience", "tone", "language", "voice", "avoid", "template",
          "variants", "model", "temperature", "top_p", "max_tokens", "seed")


def regenerate(*args, request: gr.Request = None, progress=gr.Progress()):
    """The same brief again with a fresh random seed."""
    values = dict(zip(INPUTS, args), seed=-1)
    yield from write_copy(**values, request=request, progress=progress)


def stop_generation(request: gr.Request = None) -> None:
    """Stop this session's running generation (within about one token)."""
    STOPS.stop(request)


def apply_preset(name: str):
    temperature, top_p = PRESETS.get(name, PRESETS["balanced"])
    return temperature, top_p


def show_variants(n: float):
    n = int(n or 1)
    return [gr.update(visible=i < n) for i in range(core.MAX_VARIANTS)] * 2


def setup_note(lang: str) -> str:
    """While the set-up steps run in the background (a Space, setup_steps.py): what generates meanwhile."""
    from products.copy import llama_engine
    from shared import setup
    from shared.setup_note import waiting_text

    return waiting_text(lang, [(setup.EMBEDDED_STEP, "copy.setup.packages"), (llama_engine.SETUP_STEP, "copy.setup.llama")],
                        llama_engine.SETUP_STEP, "copy.setup.failed")


def build_tab() -> None:
    from shared.setup_note import live_note

    gr.Markdown(I18N("copy.intro"))
    live_note(setup_note)
    choices = models.configured_models()
    with gr.Row():
        with gr.Column(scale=2, min_width=320):
            product = gr.Textbox(label=I18N("copy.product"), max_length=200)
            description = gr.Textbox(label=I18N("copy.description"), max_length=2000)
            features = gr.Textbox(label=I18N("copy.features"), lines=4, max_length=20000)
            audience = gr.Textbox(label=I18N("copy.audience"), max_length=500)
            with gr.Row():
                tone = gr.Dropdown(list(TONES), value="friendly", allow_custom_value=True, label=I18N("copy.tone"))
                language = gr.Radio([("English", "en"), ("中文", "zh")], value="en", label=I18N("copy.language"))
            voice = gr.Textbox(label=I18N("copy.voice"), max_length=1000)
            avoid = gr.Textbox(label=I18N("copy.avoid"), max_length=500)
            template = gr.Dropdown([(tpl.name_en, key) for key, tpl in TEMPLATES.items()], value="search_ad",
                                   label=I18N("copy.template"))
            with gr.Row():
                variants = gr.Slider(1, core.MAX_VARIANTS, value=3, step=1, label=I18N("copy.variants"))
                model = gr.Dropdown(choices, value=choices[0], label=I18N("copy.model"))
            with gr.Accordion(I18N("copy.advanced"), open=False):
                preset = gr.Radio(list(PRESETS), value="balanced", label=I18N("copy.preset"))
                with gr.Row():
                    temperature = gr.Slider(0, 1.5, value=PRESETS["balanced"][0], step=0.05,
                                            label=I18N("copy.temperature"))
                    top_p = gr.Slider(0.05, 1, value=PRESETS["balanced"][1], step=0.05, label=I18N("copy.top_p"))
                with gr.Row():
                    max_tokens = gr.Slider(0, core.max_new_tokens_limit(), value=0, step=8, label=I18N("copy.max_tokens"))
                    seed = gr.Number(-1, precision=0, label=I18N("copy.seed"))
            with gr.Row():
                run = gr.Button(I18N("copy.generate"), variant="primary")
                again = gr.Button(I18N("copy.regenerate"))
                stop = gr.Button(I18N("copy.stop"), variant="stop")
        with gr.Column(scale=5):
            status = gr.Markdown()
            with gr.Row(equal_height=False):
                boxes, tables = [], []
                for i in range(core.MAX_VARIANTS):
                    with gr.Column(min_width=200):
                        boxes.append(gr.Textbox(label=f"#{i + 1}", lines=6, max_lines=30, buttons=["copy"],
                                                interactive=False, visible=i < 3, autoscroll=True))
                        tables.append(gr.Markdown(visible=i < 3))
            with gr.Row():  # feedback on this session's latest variants (shared/feedback.py)
                rated = gr.Dropdown([str(i + 1) for i in range(core.MAX_VARIANTS)], value="1",
                                    label=I18N("copy.fb.variant"), scale=0, min_width=110)
                feedback.buttons("copy", [("copy.fb.up", "up"), ("copy.fb.down", "down"), ("copy.fb.pick", "pick")],
                                 item=rated)
            with gr.Accordion(I18N("copy.fb.edit_title"), open=False):
                edited = gr.Textbox(label=I18N("copy.fb.edited"), lines=4, max_length=20000)
                feedback.buttons("copy", [("copy.fb.edit", "edit")], item=rated, text=edited)
            with gr.Accordion(I18N("copy.details"), open=False):
                details = gr.JSON()
    examples(EXAMPLES, inputs=[product, description, features, audience, tone, language, template])
    by_name = dict(product=product, description=description, features=features, audience=audience, tone=tone,
                   language=language, voice=voice, avoid=avoid, template=template, variants=variants, model=model,
                   temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed)
    inputs = [by_name[name] for name in INPUTS]
    outputs = [status, *boxes, *tables, details]
    event = run.click(write_copy, inputs, outputs, api_name="copy_generate",
                      concurrency_limit=HEAVY_LIMIT, concurrency_id=HEAVY)
    again_event = again.click(regenerate, inputs, outputs, api_name="copy_regenerate",
                              concurrency_limit=HEAVY_LIMIT, concurrency_id=HEAVY)
    stop.click(stop_generation, None, None, cancels=[event, again_event], api_name="copy_stop", queue=False)
    preset.change(apply_preset, [preset], [temperature, top_p], queue=False, api_visibility="private")
    variants.change(show_variants, [variants], [*boxes, *tables], queue=False, api_visibility="private")
