"""Every user-facing string of the Image generation product, English and Chinese."""
from shared.i18n import add

# The tab
add({
    "image.tab": ("Image generation", "图像生成"),
    "image.intro": ("Describe an image and generate it with a diffusion model. The seed is always shown, so any "
                    "image can be made again; each PNG carries its generation parameters.",
                    "用文字描述图像，由扩散模型生成。始终显示种子，任何图像都可复现；每个 PNG 都内嵌生成参数。"),
    "image.model_note": ("Model: **{name}** (loads on first use). Presets: {presets}.",
                         "模型：**{name}**（首次使用时加载）。预设：{presets}。"),
    "image.no_model": ("⚠️ No image model is available offline: set `AIPM_IMAGE_PATH` to a local diffusers folder, "
                       "or `AIPM_IMAGE_HUB` to a hub id with the hub reachable (`AIPM_OFFLINE=0`). "
                       "The other tabs are unaffected.",
                       "⚠️ 离线时没有可用的图像模型：请把 `AIPM_IMAGE_PATH` 设为本地 diffusers 文件夹，或在可访问模型中心"
                       "（`AIPM_OFFLINE=0`）时把 `AIPM_IMAGE_HUB` 设为模型 id。其他标签页不受影响。"),
    "image.emoji_note": ("Model: **emoji-diffusion**, the offline default: a small emoji model trained in this repo "
                         "on three open emoji sets (loads on first use). It draws 32x32 emoji-style icons, shown as "
                         "pixel art; name a colour (\"a blue star\") to set it, and add \"noto style\", \"twemoji style\" "
                         "or \"fluent style\" to pick a look. For photos or art set `AIPM_IMAGE_PATH` or `AIPM_IMAGE_HUB`. Presets: {presets}.",
                         "模型：**emoji-diffusion**，离线默认模型：本仓库用三套开放表情图集训练的小型表情模型（首次使用时加载）。"
                         "它画 32x32 的表情风格图标，以像素画显示；用英文颜色词（如 \"a blue star\"）指定颜色；在提示词后加 \"noto style\"、\"twemoji style\" 或 "
                         "\"fluent style\" 可选择画风。要生成照片或艺术图，请设置 `AIPM_IMAGE_PATH` 或 `AIPM_IMAGE_HUB`。"
                         "预设：{presets}。"),
    "image.model_card": ("Model card", "模型卡"),
    "image.prompt": ("Prompt", "提示词"),
    "image.negative": ("Negative prompt", "反向提示词"),
    "image.preset": ("Preset", "预设"),
    "image.steps": ("Steps", "步数"),
    "image.guidance": ("Guidance scale", "引导系数"),
    "image.width": ("Width", "宽度"),
    "image.height": ("Height", "高度"),
    "image.count": ("Number of images", "图像数量"),
    "image.scheduler": ("Scheduler", "采样器"),
    "image.seed": ("Seed (empty or -1 = random)", "种子（留空或 -1 为随机）"),
    "image.generate": ("Generate", "生成"),
    "image.stop": ("Stop", "停止"),
    "image.gallery": ("Images", "图像"),
    "image.seed_used": ("Seed used (image i uses seed + i)", "所用种子（第 i 张使用 种子 + i）"),
    "image.reuse": ("Reuse seed", "复用种子"),
    "image.random": ("Random seed", "随机种子"),
    "image.parameters": ("Parameters (the selected image; also stored in its PNG)", "参数（所选图像；也写入 PNG）"),
    "image.files": ("PNG files with parameters", "含参数的 PNG 文件"),
    "image.advanced": ("Advanced", "高级"),
    "image.fb.which": ("Image (click one in the gallery)", "图像（在图库中点选）"),
    "image.fb.favourite": ("⭐ Favourite", "⭐ 收藏"),
    "image.fb.down": ("👎 Not good", "👎 不好"),
})

# Errors and notes (core.py)
add({
    "image.error.empty": ("Please describe the image you want in the prompt.", "请在提示词中描述想要的图像。"),
    "image.error.number": ("{field} must be a number, not '{value}'.", "{field} 必须是数字，而不是“{value}”。"),
    "image.error.steps": ("Steps must be between 1 and {limit}; got {steps}.", "步数必须在 1 到 {limit} 之间；收到 {steps}。"),
    "image.error.size": ("Width and height must be between {low} and {high} pixels; got {width}x{height}.",
                         "宽和高必须在 {low} 到 {high} 像素之间；收到 {width}x{height}。"),
    "image.error.guidance": ("Guidance scale must be between 0 and 30; got {value}.", "引导系数必须在 0 到 30 之间；收到 {value}。"),
    "image.error.count": ("Number of images must be between 1 and {limit}; got {count}.", "图像数量必须在 1 到 {limit} 之间；收到 {count}。"),
    "image.error.scheduler": ("Unknown scheduler '{name}': choose one of {choices}.", "未知的采样器“{name}”：请从 {choices} 中选择。"),
    "image.error.lcm": ("The LCM scheduler needs an LCM-distilled model; this model supports: {choices}.",
                        "LCM 采样器需要 LCM 蒸馏模型；此模型支持：{choices}。"),
    "image.error.sampler_steps": ("The {name} sampler cannot run this model's noise schedule in {steps} steps; "
                                  "at {steps} steps choose one of: {choices}.",
                                  "{name} 采样器无法以 {steps} 步运行此模型的噪声调度；{steps} 步时请选择：{choices}。"),
    "image.error.prompt_chars": ("The prompt has {chars} characters; the limit is {limit}.", "提示词有 {chars} 个字符，上限为 {limit}。"),
    "image.note.size": ("Size {asked} was adjusted to {used} ({why}).", "尺寸 {asked} 已调整为 {used}（{why}）。"),
    "image.note.multiple": ("multiples of {multiple}", "须为 {multiple} 的倍数"),
    "image.note.budget": ("pixel budget {budget} (AIPM_IMAGE_MAX_PIXELS)", "像素预算 {budget}（AIPM_IMAGE_MAX_PIXELS）"),
    "image.note.truncated": ("The {which} has {tokens} tokens; the text encoder reads {limit}, so it was cut after: "
                             "\"…{tail}\".", "{which}有 {tokens} 个词元，文本编码器只读取 {limit} 个，已截断于：“…{tail}”。"),
    "image.note.prompt": ("prompt", "提示词"),
    "image.note.negative": ("negative prompt", "反向提示词"),
    "image.note.negative_unused": ("The negative prompt has no effect at guidance scale {guidance} (it needs more than 1).",
                                   "引导系数为 {guidance} 时反向提示词不起作用（需大于 1）。"),
    "image.note.stopped": ("Stopped: {done} of {total} images finished and kept.", "已停止：保留已完成的 {done}/{total} 张图像。"),
    "image.note.flagged": ("Image {index} (seed {seed}) was flagged by the safety checker and is not shown.",
                           "第 {index} 张图像（种子 {seed}）被安全检查器标记，不予显示。"),
    "image.note.done": ("{count} image(s) in {seconds:.1f}s ({per_step:.2f}s per step).",
                        "生成 {count} 张图像，用时 {seconds:.1f} 秒（每步 {per_step:.2f} 秒）。"),
    "image.progress": ("Image {image}/{images}, step {step}/{steps}", "第 {image}/{images} 张，第 {step}/{steps} 步"),
})
