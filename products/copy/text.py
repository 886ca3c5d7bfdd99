"""Text rules for copy: counting characters, trimming at a word boundary, detecting and cleaning loops.

Two counting rules, named per channel limit:
  - "width": East Asian wide and full-width characters (Chinese, Japanese, Korean, full-width
    punctuation) count 2, everything else 1. This is how Google Ads counts headline and description
    limits ("double-width" characters) and how X weighs CJK in its 280 limit; we use it for every
    limit that ends up in a Latin-sized box (search ads, meta tags, email subjects, taglines, posts).
  - "chars": every Unicode character counts 1 (how Xiaohongshu counts its 20-character title).
"""
from __future__ import annotations

import re
import unicodedata

RULES = ("width", "chars")


def count(text: str, rule: str = "width") -> int:
    if rule == "chars":
        return len(text)
    if rule != "width":
        raise ValueError(f"unknown counting rule {rule!r}; use one of {RULES}")
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def is_cjk(char: str) -> bool:
    code = ord(char)
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF
            or 0x20000 <= code <= 0x2A6DF)


def chinese_ratio(text: str) -> float:
    """Share of Chinese characters among the letters (CJK + alphabetic) of a text."""
    letters = [c for c in text if is_cjk(c) or c.isalpha()]
    return sum(is_cjk(c) for c in letters) / len(letters) if letters else 0.0


_TRAILING = re.compile(r"[\s,;:\-–—/&|·、，；：]+$")
_DANGLING = {"and", "or", "with", "for", "to", "of", "the", "a", "an", "in", "on", "at", "by", "your", "our", "&"}


def trim(text: str, limit: int, rule: str = "width") -> str:
    """Cut text to at most `limit` by the rule, at a word boundary for Latin text (at any character
    between Chinese characters), dropping dangling connectors and punctuation at the cut."""
    if count(text, rule) <= limit:
        return text
    used, cut = 0, 0
    for i, char in enumerate(text):
        used += count(char, rule)
        if used > limit:
            break
        cut = i + 1
    head = text[:cut]
    nxt = text[cut] if cut < len(text) else ""
    last = head[-1] if head else ""
    # Mid-word in Latin text: go back to the last space (or CJK character, where any cut is a boundary).
    if nxt and not nxt.isspace() and not is_cjk(nxt) and last and not last.isspace() and not is_cjk(last):
        positions = [i for i, c in enumerate(head) if c.isspace() or is_cjk(c)]
        if positions:
            p = positions[-1]
            head = head[:p] if head[p].isspace() else head[:p + 1]
    head = _TRAILING.sub("", head)
    words = head.split(" ")
    while len(words) > 1 and words[-1].lower() in _DANGLING:
        words.pop()
        head = _TRAILING.sub("", " ".join(words))
    return head.strip()


# ---- loops ------------------------------------------------------------------------------------
_LABEL = re.compile(r"^\s*(?:[-*•#>]+\s*)?(?:\d+[.)、]\s*)?(?:\*\*)?\s*([A-Za-z\u4e00-\u9fff ]{1,20}?)\s*\d*\s*(?:\*\*)?\s*[:：]\s*")
_HASHTAG = re.compile(r"#[^\s#，。！？,.!?]+")
_REPEAT_UNIT = re.compile(r"(.{2,40}?)(?:\s*\1){3,}", re.S)  # a 2-40 char unit 4+ times in a row
_REPEAT_CHAR = re.compile(r"([^\s\d.!！。…\-=*_~])\1{5,}")  # one character 6+ times in a row


def _is_phrase_loop(match) -> bool:
    """A repeated unit that is not just digits (1000000) or dots (......)."""
    return bool(re.search(r"[^\d\s.,·…]", match.group(1)))


def normalize_line(line: str) -> str:
    """A line reduced to compare for repeats: no label, numbering, markup, case or punctuation."""
    line = _LABEL.sub("", line)
    return re.sub(r"[\W_]+", "", line.lower())


def hashtags(text: str) -> list[str]:
    return _HASHTAG.findall(text)


def loop_reason(text: str, max_hashtags: int = 0) -> str:
    """Why this (partial) output is looping, or '' when it is not.

    Looking at complete lines only (the last line may still be written): a line that repeats an
    earlier one; a hashtag used twice; more hashtags than the channel takes; a phrase or character
    repeated back to back."""
    lines = text.split("\n")
    complete = lines[:-1]
    seen = set()
    for line in complete:
        key = normalize_line(line)
        if len(key) >= 3:
            if key in seen:
                return "repeated line"
            seen.add(key)
    tags = [t.lower() for t in hashtags("\n".join(complete) + (" " if complete else ""))]
    tags_now = [t.lower() for t in hashtags(text)]
    if len(set(tags)) < len(tags) or (len(tags_now) >= 2 and tags_now[-1] in tags_now[:-1] and text[-1:].isspace()):
        return "repeated hashtag"
    if max_hashtags and len(set(tags_now)) > max_hashtags:
        return "too many hashtags"
    if any(_is_phrase_loop(m) for m in _REPEAT_UNIT.finditer(text)) or _REPEAT_CHAR.search(text):
        return "repeated phrase"
    return ""


def clean(text: str, max_hashtags: int = 0) -> str:
    """Remove what loops leave behind: repeated lines (the first is kept), repeated hashtags, more
    hashtags than the channel takes, phrases repeated back to back (one is kept), and an unfinished
    hashtag or blank lines at the end."""
    text = _REPEAT_UNIT.sub(lambda m: m.group(1) if _is_phrase_loop(m) else m.group(0), text)
    text = _REPEAT_CHAR.sub(lambda m: m.group(1) * 3, text)
    out, seen, tags = [], set(), []
    for line in text.split("\n"):
        key = normalize_line(line)
        if len(key) >= 3 and key in seen:
            continue
        if len(key) >= 3:
            seen.add(key)

        def keep_tag(match):
            tag = match.group(0)
            if tag.lower() in (t.lower() for t in tags) or (max_hashtags and len(tags) >= max_hashtags):
                return ""
            tags.append(tag)
            return tag

        line = _HASHTAG.sub(keep_tag, line)
        line = re.sub(r"[ \t]{2,}", " ", line).rstrip()
        if line.strip() == "" and key:  # a line of hashtags that were all dropped
            continue
        out.append(line)
    text = "\n".join(out)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


# ---- labels and boundaries ----------------------------------------------------------------------
LABEL_WORDS = ("hook", "key benefit", "benefit", "call to action", "cta", "headline", "description", "title",
               "subject", "subject line", "tagline", "slogan", "post", "hashtags", "hashtag", "body", "paragraph",
               "product", "tone", "meta title", "meta description", "feature", "features", "intro", "closing",
               "标题", "正文", "话题", "描述", "口号", "段落", "卖点", "核心卖点", "行动号召", "开头", "结尾", "产品", "标签")
_LEAK = re.compile(r"^\s*(?:[-*•>]+\s*)?(?:\d+[.)、]\s*)?\**\s*(" + "|".join(re.escape(w) for w in LABEL_WORDS) +
                   r")\s*\d*\s*\**\s*[:：]\s*\**\s*", re.I)


def strip_label(text: str) -> str:
    """A prompt label at the start of a line ("Hook: ", "Key Benefit: ", "标题："), removed."""
    for _ in range(3):
        m = _LEAK.match(text)
        if not m:
            break
        text = text[m.end():]
    return text.strip()


def has_label(text: str) -> bool:
    return bool(_LEAK.match(text))


_SENTENCE_END = re.compile(r"[.!?。！？…]+[\"'”’」)）]*")
_PHRASE_END = re.compile(r"[,;:，；：、—–]|\s[-–—]\s")


_CLOSERS = "\"'”’」』)）]】"


def ends_sentence(text: str) -> bool:
    """The text ends its sentence: . ! ? 。！？… (or a ~), perhaps followed by closing quotes and
    emoji (a post often ends "... today! 🚀")."""
    tail = text.rstrip()
    while tail and (unicodedata.category(tail[-1]) in ("So", "Sk", "Cf", "Mn") or tail[-1] in _CLOSERS
                    or tail[-1].isspace() or 0xFE00 <= ord(tail[-1]) <= 0xFE0F):
        tail = tail[:-1]
    return bool(tail) and tail[-1] in ".!?。！？…~～"


_WHOLE_SENTENCE = re.compile(r"(?:[.!?…]+[\"'”’」)）]*(?=\s|$)|[。！？]+[”’」』)）]*)")  # not the dot of 1.2 kg


def last_sentence(text: str) -> str:
    """The text up to the end of its last whole sentence ('' when none ends in it)."""
    ends = [m.end() for m in _WHOLE_SENTENCE.finditer(text)]
    return text[:ends[-1]].strip() if ends else ""


def cut_at_boundary(text: str, limit: int, rule: str) -> tuple[str, str]:
    """(text, how) cut to the limit at the last sentence end, else the last phrase boundary;
    ('', '') when neither is within the limit (never cut mid-phrase)."""
    if count(text, rule) <= limit:
        return text, ""
    ends = [m.end() for m in _SENTENCE_END.finditer(text) if count(text[:m.end()].rstrip(), rule) <= limit]
    ends = [e for e in ends if e < len(text)]
    if ends and count(text[:ends[-1]], rule) >= limit * 0.3:
        return text[:ends[-1]].strip(), "sentence"
    phrases = [m.start() for m in _PHRASE_END.finditer(text) if count(text[:m.start()].rstrip(), rule) <= limit]
    for at in reversed(phrases):
        head = trim(text[:at], limit, rule)  # drops a dangling "and"/comma, never cuts inside (it fits)
        if head and count(head, rule) >= limit * 0.3:
            return head, "phrase"
    if ends:
        return text[:ends[-1]].strip(), "sentence"
    return "", ""
