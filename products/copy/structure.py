"""Output structure that cannot break: a GBNF grammar (and a JSON schema, for servers that take
one) built from a template's fields, and the checks that say what a finished variant still lacks.

The grammar fixes what a small model gets wrong: every field with its number of lines, our own
labels (the model never writes one: a colon is only allowed between digits),
hashtags only in the hashtag field and in the right number, the product name in the first line
of the fields that need it, English lines without Chinese characters. What a grammar cannot say
(a limit of characters as counted by the channel, words to avoid) is checked after decoding and
repaired (products/copy/repair.py).
"""
from __future__ import annotations

import re

from products.copy import text as tx
from products.copy.prompts import prefill
from products.copy.templates import Brief, Field, Template
from products.copy.variants import Variant

_NO_TEXT = r"\n\r\t#\x00-\x1f"
_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _bound(f: Field, lang: str = "en", exact: bool = False) -> int:
    """Most characters a line may take in the grammar: for short lines (and rewrites) the limit (in
    characters: a Chinese character is 2 by width) and a little more, so that a line within the limit
    is one the model ended, never one the bound cut mid-word; a line over it is rewritten."""
    if exact or f.limit <= 120:  # short lines: about the limit from the start (a rewrite costs seconds)
        chars = line_chars(f, lang)
        return chars + max(8, chars // 4)  # a little room: a line under the limit was ended by the model
    return 0


def line_chars(f: Field, lang: str) -> int:
    return f.limit // 2 if lang == "zh" and f.rule == "width" else f.limit


def name_fits(name: str, f: Field) -> bool:
    name = name.strip()
    return bool(name) and "\n" not in name and "#" not in name and tx.count(name, f.rule) <= 0.6 * f.limit


def grammar(template: Template, lang: str, product: str = "", prefilled: bool = True, exact: bool = False) -> str:
    """GBNF for the answer after the prefill (`prompts.prefill`; with it when not `prefilled`,
    as on a chat API that cannot prefill): the template's exact shape."""
    cjk = _CJK if lang == "en" else ""
    rules = {
        # A colon only between digits ("3:00"): a model that writes "Hook:" or "标题：" cannot.
        "c": f"[^{_NO_TEXT}:：{cjk}] | [0-9] \":\" [0-9]",
        "s": f"[^{_NO_TEXT} *•>:：{cjk}-]",  # how a line may start (no bullet, no space)
    }
    tag_char = r"[A-Za-z0-9_]" if lang == "en" else r"[^ #，。！？、,.!?：:;；\x00-\x1f]"  # GBNF has no \s
    rules["tag"] = f'"#" {tag_char}{{1,24}}'
    body: list[str] = []
    sep = "\\n\\n" if template.paragraphs and not template.labelled else "\\n"
    name = product.strip()
    for position, f in enumerate(template.fields):
        bound = _bound(f, lang, exact)
        tail = f"c{{0,{bound - 1}}}" if bound else "c*"
        if not f.hashtags:
            rules[f"line-{f.key}"] = f"s {tail}"
        if name and f.key in template.name_in and name_fits(name, f):
            room = max(0, (bound or 120) - len(name) - 1)
            space = ' " "' if lang == "en" else ""  # "home brewer BrewMate Pro", not "brewerBrewMate Pro"
            rules[f"named-{f.key}"] = f"(s c{{0,{min(room, 120)}}}{space})? {_literal(name)} c{{0,{room}}}"
        if f.hashtags:
            lo = max(1, template.min_hashtags or 3) - 1
            hi = max(lo, (template.max_hashtags or 5) - 1)
            part = f'tag (" " tag){{{lo},{hi}}}'
        else:
            rest = f"line-{f.key}"
            part = f"named-{f.key}" if f"named-{f.key}" in rules else rest
            extra_min, extra_max = f.required - 1, f.lines - 1
            if extra_max > 0:
                if template.labelled and template.show_labels is not False:  # every line labelled ("Headline 2: ")
                    part += " " + " ".join(f"{_literal(chr(10) + f.label(lang) + f' {i + 1}' + _colon(lang))} {rest}"
                                           for i in range(1, f.lines))
                else:
                    part += f' ("{sep}" {rest}){{{extra_min},{extra_max}}}'
        if template.labelled:
            label = f.label(lang) + (" 1" if f.lines > 1 and template.show_labels is not False else "") + _colon(lang)
            if position == 0:
                body.append(part if prefilled else f"{_literal(label)} {part}")  # the prefill wrote it
            else:
                body.append(f"{_literal(chr(10) + label)} {part}")
        else:
            body.append(part if position == 0 else f'"{sep if not f.hashtags else chr(92) + "n"}" {part}')
    rules_text = "\n".join(f"{key} ::= {value}" for key, value in rules.items())
    return f"root ::= {' '.join(body)}\n{rules_text}\n"


def _colon(lang: str) -> str:
    return "：" if lang == "zh" else ": "


def json_schema(template: Template) -> dict:
    """The same structure as JSON (for OpenAI-compatible servers that take `response_format`)."""
    props = {}
    for f in template.fields:
        props[f.key] = {"type": "array", "items": {"type": "string", "minLength": 1},
                        "minItems": f.required, "maxItems": f.lines}
    return {"type": "object", "properties": props, "required": [f.key for f in template.fields],
            "additionalProperties": False}


def from_json(data: dict, template: Template, lang: str) -> str:
    """JSON fields back to the lines the parser reads (labelled where the template labels them)."""
    out = []
    for f in template.fields:
        values = data.get(f.key) or []
        if isinstance(values, str):
            values = [values]
        for i, value in enumerate(values[:f.lines]):
            value = str(value).replace("\n", " ").strip()
            if template.labelled:
                number = f" {i + 1}" if f.lines > 1 and template.show_labels is not False else ""
                out.append(f"{f.label(lang)}{number}{_colon(lang)}{value}")
            else:
                out.append(value)
    text = "\n".join(out)
    start = prefill(template, lang)
    return text[len(start):] if start and text.startswith(start) else text


_PARTIAL_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"?')


def partial_json_text(raw: str) -> str:
    """What to show while a JSON answer streams: its string values so far, one per line."""
    values = []
    for m in re.finditer(r':\s*\[?\s*' + _PARTIAL_STRING.pattern + r'|,\s*' + _PARTIAL_STRING.pattern, raw):
        value = m.group(1) if m.group(1) is not None else m.group(2)
        if value:
            values.append(value.replace('\\"', '"').replace("\\n", " "))
    return "\n".join(values)


# ---- what a finished variant may still lack ---------------------------------------------------
def name_missing(variant: Variant, template: Template, brief: Brief) -> list[str]:
    """Fields that need the product name (and can hold it) but lack it."""
    name = brief.product.strip().lower()
    if not name:
        return []
    missing = []
    for f in template.fields:
        if f.key in template.name_in and name_fits(brief.product, f):
            lines = [x.text.lower() for x in variant.lines if x.field == f.key]
            if lines and not any(name in x for x in lines):
                missing.append(f.key)
    return missing


def avoid_hits(text: str, brief: Brief) -> list[str]:
    lower = text.lower()
    return [w for w in brief.avoid_words() if w.lower() in lower]


def missing_fields(variant: Variant, template: Template) -> list[Field]:
    counts = {f.key: 0 for f in template.fields}
    for line in variant.lines:
        counts[line.field] += 1
    return [f for f in template.fields if counts[f.key] < f.required]


