"""Repair what decoding left wrong, with the model: a missing field is written, an over-long line
is rewritten to fit (never cut mid-phrase), a line that lacks the product name or uses a word to
avoid is rewritten. Every request asks for candidates; the first that passes every check wins.
Only when none does is a line cut at its last sentence or phrase boundary (or, for the name and
the words to avoid, edited by rule).

`complete(requests, n)` is the engine's: a list of (messages, grammar, banned words) and a number
of candidates per request; it returns the candidates' texts per request, decoded together.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from shared.i18n import t
from products.copy import strings  # noqa: F401  (registers the notes' messages)
from products.copy import structure
from products.copy import text as tx
from products.copy.prompts import SYSTEM, brief_block
from products.copy.templates import Brief, Field, Template
from products.copy.variants import Line, Variant

CANDIDATES = 2  # each candidate is a sequence decoded: on a small CPU, time grows with them
_DANGLING = re.compile(r"\b(and|or|with|for|to|of|the|a|an|in|on|at|by|your|our|its|from|that)$", re.I)
# ...or a contraction or verb that needs what follows ("That's what we'd", "BrewMate Pro makes")
_OPEN_END = re.compile(r"\b\w+'(?:d|ll|re|ve)$|\b(?:is|are|was|were|be|will|can|makes?|gets?|lets?|has|have)$", re.I)


@dataclass
class Fix:
    variant: int
    field: Field
    line: int | None  # index into variant.lines, None = a new line for the field
    kind: str  # "missing", "long", "name", "avoid", "language"
    messages: list[dict]
    grammar: str
    need_name: bool


def _limit(f: Field, lang: str) -> str:
    return f.limit_words(lang)


def _line_grammar(f: Field, lang: str, name: str) -> str:
    """One line of this field, with the name when it must carry it."""
    single = Template("one", "", "", fields=(Field(f.key, f.label_en, f.label_zh, 1, f.limit, f.rule, f.hashtags),),
                      task_en="", task_zh="", name_in=(f.key,) if name else (), max_hashtags=5, min_hashtags=3)
    return structure.grammar(single, lang, name, exact=True)  # bounded by the limit: the model ends in time


def _ask(brief: Brief, lang: str, task: str) -> list[dict]:
    return [{"role": "system", "content": SYSTEM[lang]}, {"role": "user", "content": brief_block(brief, lang) + "\n\n" + task}]


def _avoid(brief: Brief, lang: str) -> str:
    words = brief.avoid_words()
    if not words:
        return ""
    return ("不要使用这些词：" + "、".join(words) + "。") if lang == "zh" else " Do not use these words: " + ", ".join(words) + "."


KEEP_CUT = 0.6  # a line cut at a boundary that keeps this share of its limit is kept, not rewritten


def kept_by_cut(line: Line, f: Field) -> bool:
    """An over-long line already cut to whole sentences (or, outside prose, whole phrases) that fills
    most of its limit is good copy: rewriting it would cost a model call for little (#30: repairs were
    costing as much as the copy)."""
    boundary = line.cut == "sentence" or (line.cut == "phrase" and not f.prose)
    return boundary and line.count >= f.limit * KEEP_CUT


def plan(variant: Variant, index: int, template: Template, lang: str, brief: Brief) -> list[Fix]:
    """What this variant needs: one request per missing line or faulty line."""
    fixes = []
    name = brief.product.strip()
    needs_name = set(structure.name_missing(variant, template, brief))
    for f in structure.missing_fields(variant, template):
        have = sum(1 for x in variant.lines if x.field == f.key)
        must = bool(name) and f.key in template.name_in and structure.name_fits(name, f) and have == 0
        for _ in range(f.required - have):
            if f.hashtags:
                task = ("为这个产品写 3 到 5 个话题标签，写在一行，用空格分开。" if lang == "zh" else
                        "Write 3 to 5 hashtags for this product on one line, separated by spaces.")
            elif lang == "zh":
                task = f"为这个产品写一个{template.name(lang)}的{f.label(lang)}，不超过{_limit(f, lang)}" + \
                       (f"，要包含“{name}”" if must else "") + "。只输出这一行。" + _avoid(brief, lang)
            else:
                task = f"Write one {f.label(lang).lower()} for a {template.name(lang).lower()} about this product, " \
                       f"at most {_limit(f, lang)}" + (f", including \"{name}\"" if must else "") + \
                       ". Output only that line." + _avoid(brief, lang)
            fixes.append(Fix(index, f, None, "missing", _ask(brief, lang, task), _line_grammar(f, lang, name if must else ""), must))
            must = False
    fields = {f.key: f for f in template.fields}
    first_of = {}
    for i, line in enumerate(variant.lines):
        first_of.setdefault(line.field, i)
    for i, line in enumerate(variant.lines):
        f = fields[line.field]
        short = line.cut in ("sentence", "phrase", "word") and line.count < f.limit * 0.3  # cut to a stub
        if f.hashtags or (line.repaired and not short):  # a second round adds what fitting the total took away
            continue
        text = line.original or line.text
        over = tx.count(text, f.rule) > f.limit and not kept_by_cut(line, f)
        long = over or not _natural(line.text, f, lang) or short  # over, ended by the bound, or a stub
        lacks = line.field in needs_name and first_of[line.field] == i
        hits = structure.avoid_hits(text, brief)
        wrong = (lang == "zh" and tx.chinese_ratio(text) < 0.5) or (lang == "en" and tx.chinese_ratio(text) > 0)
        if not (long or lacks or hits or wrong):
            continue
        kind = "long" if long else "name" if lacks else "avoid" if hits else "language"
        must = lacks or (bool(name) and name.lower() in text.lower() and structure.name_fits(name, f))
        if lang == "zh":
            task = f"把下面这行{f.label(lang)}改写到不超过{_limit(f, lang)}，保留意思" + \
                   (f"，要包含“{name}”" if must else "") + "，用简体中文。只输出改写后的这一行。" + _avoid(brief, lang) + \
                   f"\n\n{text}"
        else:
            task = f"Rewrite this {f.label(lang).lower()} in English to at most {_limit(f, lang)}, keeping its meaning" + \
                   (f" and the name \"{name}\"" if must else "") + ". Output only the rewritten line." + \
                   _avoid(brief, lang) + f"\n\n{text}"
        fixes.append(Fix(index, f, i, kind, _ask(brief, lang, task), _line_grammar(f, lang, name if must else ""), must))
    return fixes


def acceptable(text: str, fix: Fix, brief: Brief, lang: str) -> bool:
    f = fix.field
    if not text or tx.count(text, f.rule) > f.limit or structure.avoid_hits(text, brief) or tx.has_label(text):
        return False
    if fix.need_name and brief.product.strip().lower() not in text.lower():
        return False
    if not _natural(text, f, lang) or (f.prose and not tx.ends_sentence(text)):  # prose ends its sentence
        return False
    if f.hashtags:
        return len(tx.hashtags(text)) >= 3
    return tx.chinese_ratio(text) >= 0.5 if lang == "zh" else tx.chinese_ratio(text) == 0


def _natural(text: str, f: Field, lang: str) -> bool:
    """Ended by the model, not by the grammar's bound (which may fall mid-phrase)."""
    hit_bound = len(text) > structure.line_chars(f, lang) and not re.search(r"[.!?。！？…]$", text)
    return not hit_bound and not _DANGLING.search(text.rstrip(" ,;")) and not _OPEN_END.search(text) and \
        not re.search(r"[,;:，；：、&+—-]$", text)


def _fallback(candidates: list[str], fix: Fix, variant: Variant, brief: Brief, lang: str) -> tuple[str, str]:
    """The last resort when no candidate passes: cut at a boundary, name and avoid-words by rule."""
    f = fix.field
    name = brief.product.strip()
    original = (variant.lines[fix.line].original or variant.lines[fix.line].text) if fix.line is not None else ""
    pool = [c for c in candidates + [original] if c]
    for text in pool:
        text = remove_words(text, brief)
        if fix.need_name and name.lower() not in text.lower():
            text = f"{name} – {text}"
        if tx.count(text, f.rule) <= f.limit and _natural(text, f, lang) and (not f.prose or tx.ends_sentence(text)):
            return text, ""
        limit = min(f.limit, tx.count(text, f.rule) - 1)
        cut, how = tx.cut_at_boundary(text, limit, f.rule)
        if cut and (not fix.need_name or name.lower() in cut.lower()):
            return cut, how
    if name and structure.name_fits(name, f) and not f.hashtags and not f.prose and not structure.avoid_hits(name, brief):
        return name, "phrase"  # the name alone is a line a customer can use; a word cut is not
    text = remove_words(pool[0], brief) if pool else ""
    return tx.cut_at_boundary(text, f.limit, f.rule) if text else ("", "")  # ('', '') rather than a word cut


def _drop_optional(variants: list[Variant], template: Template, broken: set[tuple[int, int]]) -> None:
    """Lines cut mid-word leave their variant when their field keeps its required lines without them
    (a customer can use a variant with one paragraph fewer, not one that breaks off mid-word)."""
    fields = {f.key: f for f in template.fields}
    for index in sorted({v for v, _ in broken}):
        lines = variants[index].lines
        for at in sorted((i for v, i in broken if v == index), reverse=True):
            f = fields[lines[at].field]
            if sum(1 for x in lines if x.field == f.key) > f.required:
                lines.pop(at)


def close_sentences(variant: Variant, template: Template, lang: str) -> None:
    """The last touch, after the repairs: a prose line (sentences) that the model ended without closing
    its sentence ("...drift off at night") gets its full stop, when it fits the line's and the total
    limit. Never a line that looks broken off (a dangling "with", a "we'd", a word cut, one that ran
    into the grammar's bound) or a stub of a few words: a full stop would hide the break."""
    fields = {f.key: f for f in template.fields}
    stop = "。" if lang == "zh" else "."
    lines = variant.lines
    for line in lines:
        f = fields[line.field]
        text = line.text.rstrip()
        if not f.prose or not text or tx.ends_sentence(text) or not (text[-1].isalnum() or tx.is_cjk(text[-1])):
            continue
        stub = len(text) < 6 if lang == "zh" else len(text.split()) < 4
        if stub or line.cut == "word" or _DANGLING.search(text) or _OPEN_END.search(text) or not _natural(text, f, lang):
            continue
        closed = text + stop
        grows = tx.count(closed, template.total_rule) - tx.count(line.text, template.total_rule)
        total = sum(tx.count(x.text, template.total_rule) for x in lines) + max(0, len(lines) - 1)
        if tx.count(closed, f.rule) <= f.limit and (not template.total_limit or total + grows <= template.total_limit):
            line.text, line.count = closed, tx.count(closed, f.rule)


def remove_words(text: str, brief: Brief) -> str:
    for word in brief.avoid_words():
        pattern = re.escape(word)
        if re.match(r"\w", word):
            pattern = r"\b" + pattern + r"\b"
        text = re.sub(r"\s*" + pattern, "", text, flags=re.I).strip()
    return re.sub(r"\s{2,}", " ", text)


def apply(variants: list[Variant], template: Template, lang: str, brief: Brief, complete, lang_ui: str = "en") -> int:
    """Plan, request and apply every fix of every variant in one batched round; how many were made."""
    fixes = [fx for i, v in enumerate(variants) for fx in plan(v, i, template, lang, brief)]
    if not fixes:
        return 0
    results = complete([(fx.messages, fx.grammar, brief.avoid_words()) for fx in fixes], CANDIDATES)
    added: dict[int, list[Line]] = {}
    broken: set[tuple[int, int]] = set()  # (variant, line) cut at a word that no repair could replace
    for fx, candidates in zip(fixes, results):
        candidates = [tx.strip_label(c.strip().split("\n")[0].strip().strip("\"“”")) for c in candidates]
        if fx.field.hashtags:
            candidates = [" ".join(list(dict.fromkeys(tx.hashtags(c)))[:5]) for c in candidates]
        good = next((c for c in candidates if acceptable(c, fx, brief, lang)), None)
        how = "rewritten"
        if good is None:
            good, how = _fallback(candidates, fx, variants[fx.variant], brief, lang)
        good = good.rstrip(" ,;:，；：、&+-—") if how in ("phrase", "word") else good  # a cut never ends on a comma
        if not good:
            if fx.line is not None and variants[fx.variant].lines[fx.line].cut == "word":
                broken.add((fx.variant, fx.line))
            continue
        f = fx.field
        before = good if fx.line is None else variants[fx.variant].lines[fx.line].original
        line = Line(f.key, f.label(lang), good, tx.count(good, f.rule), f.limit, f.rule,
                    trimmed=fx.kind == "long", original=before, cut=how if fx.kind == "long" or how != "rewritten" else "", repaired=True)
        if fx.line is None:
            added.setdefault(fx.variant, []).append(line)
        else:
            variants[fx.variant].lines[fx.line] = line
    _drop_optional(variants, template, broken)
    order = {f.key: i for i, f in enumerate(template.fields)}
    for index, lines in added.items():
        v = variants[index]
        v.lines = sorted(v.lines + lines, key=lambda x: order[x.field])  # stable: new lines after their field's
    for index, v in enumerate(variants):
        kinds = sorted({fx.kind for fx in fixes if fx.variant == index})
        if kinds:
            names = [t(f"copy.repair.{k}", lang_ui) for k in kinds]
            v.notes.append(t("copy.note.repaired", lang_ui, kinds=("、" if lang_ui == "zh" else ", ").join(names)))
    return len(fixes)
