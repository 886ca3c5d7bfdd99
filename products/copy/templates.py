"""Channel templates: each owns its prompt, its output format and its limits.

A template lists its fields (headline, description, ...): how many lines of each, the limit per
line and the counting rule (products/copy/text.py). The prompt asks for exactly that format; the
parser maps the model's lines back onto the fields; `enforce` trims over-long lines at a word
boundary (the count is then shown beside each line).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from products.copy import text as tx

LANGUAGES = {"en": "English", "zh": "Chinese"}
_LANGUAGE_ALIASES = {"en": "en", "english": "en", "英文": "en", "英语": "en",
                     "zh": "zh", "zh-cn": "zh", "chinese": "zh", "中文": "zh", "简体中文": "zh"}
TONES = {"friendly": "亲切友好", "professional": "专业可信", "playful": "活泼有趣", "luxury": "高端奢华",
         "urgent": "紧迫感强"}


def language_code(value: str) -> str | None:
    """'en' / 'zh' for a language name or code, None when unsupported."""
    return _LANGUAGE_ALIASES.get((value or "").strip().lower())


@dataclass(frozen=True)
class Field:
    key: str
    label_en: str
    label_zh: str
    lines: int  # how many lines of this field the template asks for
    limit: int  # per line, by `rule`
    rule: str = "width"
    hashtags: bool = False  # the field is a line of hashtags
    min_lines: int = 0  # fewest lines a finished variant has (0 = `lines`: all of them)

    @property
    def required(self) -> int:
        return self.min_lines or self.lines

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en

    def limit_words(self, lang: str) -> str:
        """The limit as the prompt states it: Chinese characters for zh under the width rule."""
        if lang == "zh":
            return f"{self.limit // 2 if self.rule == 'width' else self.limit}个字"
        return f"{self.limit} characters (about {max(2, self.limit // 7)} words)"  # small models count words, not characters


@dataclass(frozen=True)
class Template:
    key: str
    name_en: str
    name_zh: str
    fields: tuple[Field, ...]
    task_en: str
    task_zh: str
    labelled: bool = False  # each output line starts with its field's label
    max_hashtags: int = 0
    total_limit: int = 0  # for the whole variant, by total_rule (0 = none)
    total_rule: str = "width"
    max_new_tokens: int = 200
    languages: tuple[str, ...] = ("en", "zh")
    paragraphs: bool = False  # lines are paragraphs: blank line between them when copied
    show_labels: bool | None = None  # labels in the copied text (default: when labelled)
    name_in: tuple[str, ...] = ()  # fields whose first line carries the product name
    min_hashtags: int = 0

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en

    @property
    def max_lines(self) -> int:
        return sum(f.lines for f in self.fields)


SEARCH_AD = Template(
    "search_ad", "Search ad (headlines + descriptions)", "搜索广告（标题 + 描述）",
    fields=(Field("headline", "Headline", "标题", 3, 30), Field("description", "Description", "描述", 2, 90)),
    task_en="Write a Google search ad for this product. Every headline is different and names a concrete benefit.",
    task_zh="为这个产品写一条百度/谷歌搜索广告。每个标题都不同，并写出一个具体卖点。",
    labelled=True, max_new_tokens=160, name_in=("headline",))

META = Template(
    "seo_meta", "SEO meta title and description", "SEO 标题和描述",
    fields=(Field("title", "Title", "标题", 1, 60), Field("description", "Description", "描述", 1, 155)),
    task_en="Write the SEO meta title and meta description for this product's web page. Put the product name in the title.",
    task_zh="为这个产品的网页写 SEO 标题（title）和描述（description），标题里要有产品名称。",
    labelled=True, max_new_tokens=120, name_in=("title", "description"))

EMAIL = Template(
    "email_subject", "Email subject lines", "邮件标题",
    fields=(Field("subject", "Subject", "标题", 3, 60),),
    task_en="Write email subject lines for a marketing email about this product, one per line, each a different angle.",
    task_zh="为这个产品的营销邮件写邮件标题，每行一个，角度各不相同。",
    max_new_tokens=100)

TAGLINE = Template(
    "tagline", "Tagline / slogan", "广告语 / 口号",
    fields=(Field("tagline", "Tagline", "口号", 1, 60),),
    task_en="Write one short, memorable tagline for this product.",
    task_zh="为这个产品写一句简短、好记的广告语。",
    max_new_tokens=40)

SOCIAL = Template(
    "social_post", "Social post with hashtags", "社交媒体帖子（带话题标签）",
    # 200 + a newline + 79 = X's 280: the total limit then never cuts the first line (which has the name).
    fields=(Field("post", "Post", "正文", 3, 200, min_lines=1),
            Field("hashtags", "Hashtags", "话题", 1, 79, hashtags=True)),
    task_en="Write a social media post (for X, Instagram or LinkedIn) about this product: a hook, the key benefit and a "
            "call to action, then one last line with 3 to 5 different hashtags.",
    task_zh="为这个产品写一条社交媒体帖子（微博、朋友圈等）：开头吸引人，写出核心卖点和行动号召，最后一行写 3 到 5 个不同的话题标签。",
    max_hashtags=5, min_hashtags=3, total_limit=280, max_new_tokens=160, name_in=("post",))

DESCRIPTION = Template(
    "product_description", "Product description", "产品描述",
    fields=(Field("paragraph", "Paragraph", "段落", 3, 500, min_lines=2),),
    task_en="Write a product description for an online store: 2 or 3 short paragraphs, concrete and persuasive.",
    task_zh="为网店写一段产品描述：2 到 3 个短段落，具体、有说服力。",
    paragraphs=True, total_limit=1200, max_new_tokens=300, name_in=("paragraph",))

XIAOHONGSHU = Template(
    "xiaohongshu", "Xiaohongshu / WeChat post (Chinese)", "小红书 / 微信种草文案",
    fields=(Field("title", "Title", "标题", 1, 20, rule="chars"), Field("body", "Body", "正文", 8, 300, rule="chars", min_lines=1),
            Field("hashtags", "Hashtags", "话题", 1, 80, rule="chars", hashtags=True)),
    task_en="Write a Xiaohongshu (RED) style post in Chinese: a catchy title with an emoji on the first line, then a "
            "personal, enthusiastic body with emoji, and 3 to 6 hashtags on the last line.",
    task_zh="写一篇小红书风格的种草笔记：第一行是吸引人的标题（可带 emoji），然后是真实、亲切、有感染力的正文（适当使用 emoji），"
            "最后一行写 3 到 6 个话题标签，例如 #好物分享。",
    max_hashtags=6, min_hashtags=3, total_limit=1000, total_rule="chars", max_new_tokens=400, languages=("zh",), paragraphs=True,
    labelled=True, show_labels=False, name_in=("title",))

TEMPLATES: dict[str, Template] = {t.key: t for t in (DESCRIPTION, TAGLINE, SOCIAL, SEARCH_AD, EMAIL, META, XIAOHONGSHU)}


# ---- the brief and the prompt -------------------------------------------------------------------
@dataclass
class Brief:
    product: str = ""
    description: str = ""
    features: str = ""
    audience: str = ""
    tone: str = "friendly"
    voice: str = ""
    avoid: str = ""

    TRIMMABLE = ("features", "description", "voice", "audience", "avoid", "product")

    def is_empty(self) -> bool:
        return not (self.product.strip() or self.description.strip() or self.features.strip())

    def avoid_words(self) -> list[str]:
        return [w.strip() for w in re.split(r"[,;，；、\n]", self.avoid) if w.strip()]

    def tone_text(self, lang: str) -> str:
        tone = self.tone.strip()
        return TONES.get(tone.lower(), tone) if lang == "zh" else tone


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


# ---- parsing and limits ---------------------------------------------------------------------
@dataclass
class Line:
    field: str
    label: str
    text: str
    count: int
    limit: int
    rule: str
    trimmed: bool = False
    original: str = ""
    cut: str = ""  # how a line over its limit was shortened: rewritten, sentence, phrase, word (last resort)
    repaired: bool = False  # written or rewritten by a repair: not planned again

    @property
    def ok(self) -> bool:
        return self.count <= self.limit


@dataclass
class Variant:
    lines: list[Line] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    loop: str = ""
    raw: str = ""

    def copy_text(self, template: Template, lang: str) -> str:
        out = []
        numbers: dict[str, int] = {}
        for line in self.lines:
            if template.labelled and template.show_labels is not False:
                f = next(f for f in template.fields if f.key == line.field)
                numbers[line.field] = numbers.get(line.field, 0) + 1
                number = f" {numbers[line.field]}" if f.lines > 1 else ""
                out.append(f"{line.label}{number}{'：' if lang == 'zh' else ': '}{line.text}")
            else:
                out.append(line.text)
        return ("\n\n" if template.paragraphs else "\n").join(out)


_MARKUP = re.compile(r"^\s*(?:[-*•>]+\s+|\d+[.)、]\s*|\*\*)+")
_QUOTES = "\"'“”‘’「」『』《》"


def _strip(text: str) -> str:
    text = _MARKUP.sub("", text).replace("**", "").strip()
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    return text


def _label_of(line: str, template: Template) -> tuple[Field | None, str]:
    """(field, rest) when the line starts with one of the template's labels (either language)."""
    body = _MARKUP.sub("", line).replace("**", "").strip()
    m = re.match(r"^([A-Za-z\u4e00-\u9fff ]{1,24}?)\s*\d*\s*[:：]\s*(.*)$", body)
    if not m:
        return None, line
    name = m.group(1).strip().lower()
    for f in template.fields:
        names = {f.label_en.lower(), f.label_zh, f.key, f.label_en.lower() + "s", "meta " + f.label_en.lower(),
                 "subject line", "seo " + f.label_en.lower()}
        if name in names:
            return f, m.group(2)
    return None, line


def parse(raw: str, template: Template, lang: str) -> tuple[list[tuple[Field, str]], list[str]]:
    """Map the model's output lines onto the template's fields; notes say what was dropped."""
    counts = {f.key: 0 for f in template.fields}
    out: list[tuple[Field, str]] = []
    dropped = 0
    current: Field | None = None
    text_fields = [f for f in template.fields if not f.hashtags]
    tag_field = next((f for f in template.fields if f.hashtags), None)
    for line in raw.split("\n"):
        if not line.strip():
            continue
        f, rest = _label_of(line, template)
        if f is not None:
            current = f
            line = rest
            if not line.strip():
                continue  # a header line ("Headlines:"): the lines below belong to it
        if f is None and tag_field is not None and line.strip().startswith("#") and tx.hashtags(line):
            f = tag_field
        if f is None and template.labelled and current is not None:
            f = current
        if f is None:
            f = next((x for x in text_fields if counts[x.key] < x.lines), None)
        text = tx.strip_label(_strip(strip_echo(line)))
        if f is None or not text or counts[f.key] >= f.lines:
            dropped += 1
            continue
        if f.hashtags:  # only the tags themselves, once each
            text = " ".join(dict.fromkeys(tx.hashtags(text)))
            if not text:
                continue
        counts[f.key] += 1
        out.append((f, text))
    notes = []
    if dropped:
        notes.append(f"dropped {dropped} extra line(s)")
    return out, notes


def fit_line(text: str, limit: int, rule: str) -> tuple[str, str]:
    """(text, how) within the limit: cut at a sentence or phrase boundary, at a word only as a last resort."""
    if tx.count(text, rule) <= limit:
        return text, ""
    cut, how = tx.cut_at_boundary(text, limit, rule)
    return (cut, how) if cut else (tx.trim(text, limit, rule), "word")


def fit_tags(text: str, limit: int, rule: str) -> tuple[str, str]:
    """A hashtag line fitted by dropping whole tags from its end (a tag is never cut)."""
    tags = text.split()
    while len(tags) > 1 and tx.count(" ".join(tags), rule) > limit:
        tags.pop()
    fitted = " ".join(tags)
    return (fitted, "tags") if tx.count(fitted, rule) <= limit else fit_line(fitted, limit, rule)


def enforce(pairs: list[tuple[Field, str]], template: Template, lang: str) -> tuple[list[Line], list[str]]:
    """Fit every line to its field's limit, then the whole variant to the template's total limit
    (dropping its last optional body lines first)."""
    lines = []
    notes = []
    for f, text in pairs:
        trimmed, how = fit_tags(text, f.limit, f.rule) if f.hashtags else fit_line(text, f.limit, f.rule)
        lines.append(Line(f.key, f.label(lang), trimmed, tx.count(trimmed, f.rule), f.limit, f.rule,
                          trimmed != text, text, how))
    return lines, notes + fit_total(lines, template)


def fit_total(lines: list[Line], template: Template) -> list[str]:
    """Fit the variant (in place) to the template's total limit: drop optional body lines first."""
    notes = []
    if template.total_limit:
        fields = {f.key: f for f in template.fields}

        def total():
            return sum(tx.count(line.text, template.total_rule) for line in lines) + max(0, len(lines) - 1)

        while total() > template.total_limit:
            body = [i for i, line in enumerate(lines) if not fields[line.field].hashtags]
            if not body:
                break
            i = body[-1]
            line = lines[i]
            have = sum(1 for x in lines if x.field == line.field)
            over = total() - template.total_limit
            keep = tx.count(line.text, template.total_rule) - over
            if have > fields[line.field].required or (keep < 20 and len(body) > 1):
                lines.pop(i)  # an optional line: drop it whole rather than cut it
                continue
            text, how = fit_line(line.text, max(1, keep), template.total_rule)
            if text == line.text or not text:  # cannot shorten further
                lines.pop(i)
                continue
            line.text, line.trimmed, line.cut = text, True, how
            line.count = tx.count(text, line.rule)
        notes.append(f"total {total()}/{template.total_limit}")
    return notes


def finish(raw: str, template: Template, lang: str, loop: str = "") -> Variant:
    """Clean loops, parse, enforce limits: the variant the user sees."""
    cleaned = tx.clean(raw, template.max_hashtags)
    pairs, notes = parse(cleaned, template, lang)
    lines, more = enforce(pairs, template, lang)
    variant = Variant(lines, notes + more, loop, raw)
    if any(line.cut == "word" for line in lines):
        variant.notes.append("cut at a word boundary to fit")
    elif any(line.trimmed for line in lines):
        variant.notes.append("shortened at a sentence or phrase boundary to fit")
    return variant
