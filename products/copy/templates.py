"""Channel templates: each owns its task, its output format and its limits; and the brief.

A template lists its fields (headline, description, ...): how many lines of each, the limit per
line and the counting rule (products/copy/text.py). products/copy/prompts.py asks the model for
exactly that format; products/copy/variants.py maps the model's lines back onto the fields and fits
them to the limits (the count is then shown beside each line).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

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
    prose: bool = False  # its lines are sentences: one that stops without ending its sentence is broken off

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
    fields=(Field("headline", "Headline", "标题", 3, 30), Field("description", "Description", "描述", 2, 90, prose=True)),
    task_en="Write a Google search ad for this product. Every headline is different and names a concrete benefit.",
    task_zh="为这个产品写一条百度/谷歌搜索广告。每个标题都不同，并写出一个具体卖点。",
    labelled=True, max_new_tokens=160, name_in=("headline",))

META = Template(
    "seo_meta", "SEO meta title and description", "SEO 标题和描述",
    fields=(Field("title", "Title", "标题", 1, 60), Field("description", "Description", "描述", 1, 155, prose=True)),
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
    fields=(Field("post", "Post", "正文", 3, 200, min_lines=1, prose=True),
            Field("hashtags", "Hashtags", "话题", 1, 79, hashtags=True)),
    task_en="Write a social media post (for X, Instagram or LinkedIn) about this product: a hook, the key benefit and a "
            "call to action, then one last line with 3 to 5 different hashtags.",
    task_zh="为这个产品写一条社交媒体帖子（微博、朋友圈等）：开头吸引人，写出核心卖点和行动号召，最后一行写 3 到 5 个不同的话题标签。",
    max_hashtags=5, min_hashtags=3, total_limit=280, max_new_tokens=160, name_in=("post",))

DESCRIPTION = Template(
    "product_description", "Product description", "产品描述",
    fields=(Field("paragraph", "Paragraph", "段落", 3, 500, min_lines=2, prose=True),),
    task_en="Write a product description for an online store: 2 or 3 short paragraphs, concrete and persuasive.",
    task_zh="为网店写一段产品描述：2 到 3 个短段落，具体、有说服力。",
    paragraphs=True, total_limit=1200, max_new_tokens=300, name_in=("paragraph",))

XIAOHONGSHU = Template(
    "xiaohongshu", "Xiaohongshu / WeChat post (Chinese)", "小红书 / 微信种草文案",
    fields=(Field("title", "Title", "标题", 1, 20, rule="chars"), Field("body", "Body", "正文", 8, 300, rule="chars", min_lines=1, prose=True),
            Field("hashtags", "Hashtags", "话题", 1, 80, rule="chars", hashtags=True)),
    task_en="Write a Xiaohongshu (RED) style post in Chinese: a catchy title with an emoji on the first line, then a "
            "personal, enthusiastic body with emoji, and 3 to 6 hashtags on the last line.",
    task_zh="写一篇小红书风格的种草笔记：第一行是吸引人的标题（可带 emoji），然后是真实、亲切、有感染力的正文（适当使用 emoji），"
            "最后一行写 3 到 6 个话题标签，例如 #好物分享。",
    max_hashtags=6, min_hashtags=3, total_limit=1000, total_rule="chars", max_new_tokens=400, languages=("zh",), paragraphs=True,
    labelled=True, show_labels=False, name_in=("title",))

FOLLOW_UP = Template(
    "follow_up_email", "Follow-up email after a call", "通话后的跟进邮件",
    fields=(Field("subject", "Subject", "主题", 1, 70),
            Field("body", "Body", "正文", 6, 400, min_lines=3, prose=True)),  # greeting, 1-3 complaints, thanks
    task_en="Write a follow-up email to this customer after their call: a subject line, then a greeting with their "
            "name, one short paragraph per complaint that names it and says what we will do about it, thanks for "
            "what they liked, and a closing line with the signature.",
    task_zh="给这位客户写一封通话后的跟进邮件：先写主题，然后称呼客户，每个问题一小段，点名问题并说明我们会怎么做，"
            "感谢客户喜欢的地方，最后一行落款。",
    labelled=True, show_labels=False, paragraphs=True, total_limit=1800, max_new_tokens=480)

TEMPLATES: dict[str, Template] = {t.key: t for t in (DESCRIPTION, TAGLINE, SOCIAL, SEARCH_AD, EMAIL, META, XIAOHONGSHU,
                                                     FOLLOW_UP)}


# ---- the brief -------------------------------------------------------------------------------------
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

