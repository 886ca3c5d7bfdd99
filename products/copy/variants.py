"""From the model's text to the variant a user sees: map its lines onto the template's fields
(`parse`), fit each line and the whole variant to the limits (`enforce`, `fit_total`), and `finish`
does both after cleaning loops."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from products.copy import text as tx
from products.copy.prompts import strip_echo
from products.copy.templates import Field, Template
from shared.i18n import t
from products.copy import strings  # noqa: F401  (registers the notes' messages)

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
    total_note: str = ""  # the note fit_total wrote last (replaced when a repair refits the total)

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


def parse(raw: str, template: Template, lang: str, lang_ui: str = "en") -> tuple[list[tuple[Field, str]], list[str]]:
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
        notes.append(t("copy.note.dropped", lang_ui, n=dropped))
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


def enforce(pairs: list[tuple[Field, str]], template: Template, lang: str,
            lang_ui: str = "en") -> tuple[list[Line], list[str]]:
    """Fit every line to its field's limit, then the whole variant to the template's total limit
    (dropping its last optional body lines first). The notes are fit_total's."""
    lines = []
    for f, text in pairs:
        trimmed, how = fit_tags(text, f.limit, f.rule) if f.hashtags else fit_line(text, f.limit, f.rule)
        lines.append(Line(f.key, f.label(lang), trimmed, tx.count(trimmed, f.rule), f.limit, f.rule,
                          trimmed != text, text, how))
    return lines, fit_total(lines, template, lang_ui)


def fit_total(lines: list[Line], template: Template, lang_ui: str = "en") -> list[str]:
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
        notes.append(t("copy.note.total", lang_ui, total=total(), limit=template.total_limit))
    return notes


def end_whole(pairs: list[tuple[Field, str]], lang_ui: str = "en") -> tuple[list[tuple[Field, str]], list[str]]:
    """The last line of a variant the token budget broke off: a prose line trimmed to its last whole
    sentence, a hashtag line without its last (perhaps half) tag; any other line, or one that would be
    left under 30% of its limit, is dropped (a repair writes a required one again)."""
    if not pairs:
        return pairs, []
    f, text = pairs[-1]
    kept = ""
    if f.hashtags:
        kept = " ".join(text.split()[:-1])
    elif f.prose:
        kept = tx.last_sentence(text)
        kept = kept if tx.count(kept, f.rule) >= f.limit * 0.3 else ""
    if kept:
        return pairs[:-1] + [(f, kept)], [t("copy.note.ran_out_trimmed", lang_ui)]
    return pairs[:-1], [t("copy.note.ran_out_dropped", lang_ui)]


def finish(raw: str, template: Template, lang: str, loop: str = "", lang_ui: str = "en",
           ran_out: bool = False) -> Variant:
    """Clean loops, parse, end a line the token budget broke off, enforce limits: the variant the
    user sees (notes in `lang_ui`)."""
    cleaned = tx.clean(raw, template.max_hashtags)
    pairs, notes = parse(cleaned, template, lang, lang_ui)
    if ran_out and not loop and cleaned.strip() and not cleaned.endswith("\n"):  # its last line was being written
        before, _ = parse(cleaned.rsplit("\n", 1)[0] if "\n" in cleaned else "", template, lang, lang_ui)
        if len(before) < len(pairs):  # that line is the last pair (not an extra line that parse dropped)
            pairs, ended = end_whole(pairs, lang_ui)
            notes += ended
    lines, total = enforce(pairs, template, lang, lang_ui)
    variant = Variant(lines, notes + total, loop, raw, total_note=total[0] if total else "")
    if any(line.cut == "word" for line in lines):
        variant.notes.append(t("copy.note.cut_word", lang_ui))
    elif any(line.trimmed for line in lines):
        variant.notes.append(t("copy.note.cut_phrase", lang_ui))
    return variant


def refit_total(variant: Variant, template: Template, lang_ui: str = "en") -> None:
    """Fit the variant to the total limit again (after a repair changed lines); its total note is replaced."""
    notes = fit_total(variant.lines, template, lang_ui)
    variant.notes = [n for n in variant.notes if n != variant.total_note] + notes
    variant.total_note = notes[0] if notes else ""
