"""The prompt for a brief and a channel template: the brief's lines, the task, the exact output
format the template's fields ask for, and the prefilled start of the answer."""
from __future__ import annotations

import re

from products.copy.templates import Brief, Field, Template

_BRIEF_LABELS = {
    "en": {"product": "Product", "description": "What it is", "features": "Key features and benefits",
           "audience": "Target audience", "tone": "Tone", "voice": "Brand voice"},
    "zh": {"product": "产品", "description": "简介", "features": "核心卖点", "audience": "目标人群", "tone": "语气",
           "voice": "品牌调性"},
}

SYSTEM = {
    "en": "You are a senior marketing copywriter. You write concrete, on-brief copy in English. "
          "You output only the copy itself, in exactly the format requested.",
    "zh": "你是一名资深营销文案。你用简体中文写具体、贴合需求的文案。你只输出文案本身，严格按照要求的格式。",
}

# Lines (or tails of lines) where a small model echoes the brief back instead of writing copy.
_ECHO = re.compile(r"(?:^|\s|[,.;，。；])(?:Target audience|Tone|Brand voice|What it is|Key features and benefits|"
                   r"目标人群|语气|品牌调性|核心卖点|简介)\s*[:：]", re.I)


def strip_echo(line: str) -> str:
    """Cut a line where it starts repeating the brief's labels ("Tone: friendly")."""
    m = _ECHO.search(line)
    return line[:m.start()].rstrip(" ,;，；") if m else line


def brief_block(brief: Brief, lang: str) -> str:
    labels = _BRIEF_LABELS[lang]
    sep = "：" if lang == "zh" else ": "
    lines = []
    for key in ("product", "description", "features", "audience"):
        value = getattr(brief, key).strip()
        if value:
            lines.append(f"{labels[key]}{sep}{value}")
    tone = brief.tone_text(lang)
    if tone:
        lines.append(f"{labels['tone']}{sep}{tone}")
    if brief.voice.strip():
        lines.append(f"{labels['voice']}{sep}{brief.voice.strip()}")
    return "\n".join(lines)


def format_block(template: Template, lang: str) -> str:
    """The exact output format the model is asked for."""
    out = []
    if template.labelled:
        for f in template.fields:
            if f.hashtags:
                hint = "<3 到 6 个话题标签>" if lang == "zh" else "<3 to 5 hashtags>"
            elif f.lines > 1 and template.show_labels is False:
                hint = f"<最多 {f.lines} 段，每段不超过{f.limit_words(lang)}>" if lang == "zh" else \
                    f"<at most {f.lines} paragraphs of at most {f.limit_words(lang)}>"
            else:
                hint = f"<不超过{f.limit_words(lang)}>" if lang == "zh" else f"<at most {f.limit_words(lang)}>"
            numbered = f.lines > 1 and template.show_labels is not False
            for i in range(f.lines if numbered else 1):
                number = f" {i + 1}" if numbered else ""
                out.append(f"{f.label(lang)}{number}{'：' if lang == 'zh' else ': '}{hint}")
        head = "严格按下面的格式输出：" if lang == "zh" else "Use exactly this format:"
        return head + "\n" + "\n".join(out)
    for f in template.fields:
        if f.hashtags:
            out.append("最后一行：话题标签" if lang == "zh" else "Last line: the hashtags")
        elif lang == "zh":
            many = f"最多 {f.lines} 行" if f.lines > 1 else "1 行"
            out.append(f"{f.label(lang)}：{many}，每行不超过{f.limit_words(lang)}")
        else:
            many = f"at most {f.lines} lines" if f.lines > 1 else "1 line"
            out.append(f"{f.label(lang)}: {many}, each at most {f.limit_words(lang)}")
    if template.total_limit:
        total = Field("total", "", "", 1, template.total_limit, template.total_rule).limit_words(lang)
        out.append(f"全部合计不超过{total}" if lang == "zh" else f"At most {total} in all")
    return ("格式：" if lang == "zh" else "Format:\n") + ("；".join(out) + "。" if lang == "zh" else "\n".join(out))


def prefill(template: Template, lang: str) -> str:
    """The start of the answer, written for the model: the first label of a labelled template
    (small models then keep the format instead of writing a preamble)."""
    if not template.labelled:
        return ""
    first = template.fields[0]
    number = " 1" if first.lines > 1 and template.show_labels is not False else ""
    return first.label(lang) + number + ("：" if lang == "zh" else ": ")


def build_messages(brief: Brief, template: Template, lang: str) -> list[dict]:
    task = template.task_zh if lang == "zh" else template.task_en
    parts = [brief_block(brief, lang), ("任务：" if lang == "zh" else "Task: ") + task, format_block(template, lang)]
    name = brief.product.strip()
    named = [f.label(lang).lower() if lang == "en" else f.label(lang) for f in template.fields if f.key in template.name_in]
    if name and named:  # in words too: the grammar holds it, the prompt makes the model plan for it
        parts.append(f"在{'和'.join(named)}中写出产品名“{name}”。" if lang == "zh" else
                     f"Use the product name \"{name}\" in the {' and '.join(named)}.")
    avoid = brief.avoid_words()
    if avoid:
        parts.append(("不要使用这些词：" + "、".join(avoid)) if lang == "zh" else
                     "Do not use these words: " + ", ".join(avoid))
    return [{"role": "system", "content": SYSTEM[lang]}, {"role": "user", "content": "\n\n".join(parts)}]
