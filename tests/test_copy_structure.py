"""Structure that cannot break, without a model: grammars from the templates, boundary cuts, label
stripping, and the repairs (driven by a scripted `complete`)."""
from __future__ import annotations

import json

import pytest

from products.copy import repair, structure
from products.copy import text as tx
from products.copy.templates import TEMPLATES, Brief
from products.copy.variants import finish

BRIEF = Brief(product="BrewMate Pro", description="a smart pour-over coffee maker", features="exact temperature",
              audience="home coffee lovers", tone="friendly", avoid="cheap, best")


@pytest.mark.parametrize("key", list(TEMPLATES))
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_grammar_has_every_field_and_our_labels(key, lang):
    template = TEMPLATES[key]
    if lang not in template.languages:
        pytest.skip("Chinese only")
    gbnf = structure.grammar(template, lang, BRIEF.product)
    root = gbnf.splitlines()[0]
    assert root.startswith("root ::= ")
    for f in template.fields[1:]:
        if template.labelled:
            assert f'"\\n{f.label(lang)}' in root  # the label is ours, a literal
    if template.name_in:
        assert '"BrewMate Pro"' in gbnf
    if any(f.hashtags for f in template.fields):
        assert "tag" in root and template.max_hashtags - 1 == int(root.rsplit(",", 1)[1].rstrip("}"))
    if lang == "en":
        assert "\\u4e00-\\u9fff" in gbnf  # no Chinese characters in English copy
    unprefilled = structure.grammar(template, lang, BRIEF.product, prefilled=False)
    if template.labelled:
        assert unprefilled.splitlines()[0].startswith(f'root ::= "{template.fields[0].label(lang)}')


def test_long_names_are_not_forced_into_short_fields():
    gbnf = structure.grammar(TEMPLATES["search_ad"], "en", "The Extraordinarily Long Product Name")
    assert "Extraordinarily" not in gbnf


@pytest.mark.parametrize("text, limit, expected, how", [
    ("Brew better coffee. Every morning, at home, in three minutes flat", 40, "Brew better coffee.", "sentence"),
    ("Brew better coffee at home, every morning, in three minutes flat", 42, "Brew better coffee at home, every morning", "phrase"),
    ("Brew better coffee at home every single morning of the week", 30, "", ""),
    ("智能手冲咖啡机，精准控温每一杯都好喝", 30, "智能手冲咖啡机", "phrase"),
])
def test_cut_at_boundary_never_mid_phrase(text, limit, expected, how):
    assert tx.cut_at_boundary(text, limit, "width") == (expected, how)


@pytest.mark.parametrize("line, clean", [
    ("Hook: Mornings just got better.", "Mornings just got better."),
    ("**Key Benefit:** Exact temperature.", "Exact temperature."),
    ("标题：打工人续命神器", "打工人续命神器"),
    ("BrewMate Pro: brew better", "BrewMate Pro: brew better"),  # a name is not a label
])
def test_prompt_labels_are_stripped(line, clean):
    assert tx.strip_label(line) == clean


def test_finish_removes_leaked_labels_from_a_social_post():
    raw = "Hook: Mornings just got better with BrewMate Pro.\nCall to action: Order today.\n#coffee #brew #home"
    variant = finish(raw, TEMPLATES["social_post"], "en")
    assert [x.text for x in variant.lines] == ["Mornings just got better with BrewMate Pro.", "Order today.",
                                              "#coffee #brew #home"]


def test_json_schema_round_trip():
    template = TEMPLATES["search_ad"]
    schema = structure.json_schema(template)
    assert schema["properties"]["headline"]["minItems"] == 3 and schema["required"] == ["headline", "description"]
    data = {"headline": ["A", "B", "C"], "description": ["D1", "D2"]}
    text = structure.from_json(data, template, "en")
    assert text.startswith("A\nHeadline 2: B")  # after the prefill "Headline 1: "
    assert structure.partial_json_text(json.dumps(data)[:-8]).splitlines()[:3] == ["A", "B", "C"]


def scripted(answers):
    """A `complete` that answers each request with the next scripted candidates, recording the requests."""
    asked = []

    def complete(requests, n):
        asked.extend(requests)
        return [answers.pop(0) for _ in requests]
    return complete, asked


def test_missing_field_is_written_and_over_long_line_rewritten():
    template = TEMPLATES["seo_meta"]
    raw = "Title: BrewMate Pro smart pour-over coffee maker that brews at the exact temperature every time"
    variant = finish(raw, template, "en")
    complete, asked = scripted([
        ["BrewMate Pro brews pour-over coffee at the exact temperature. Order yours today."],
        ["BrewMate Pro: smart pour-over coffee, exact temperature, every cup", "BrewMate Pro | Pour-Over Coffee"],
    ])
    assert repair.apply([variant], template, "en", BRIEF, complete) == 2
    kinds = [r[0][1]["content"] for r in asked]
    assert "Write one description" in kinds[0] and "Rewrite this title" in kinds[1]
    assert [x.text for x in variant.lines] == ["BrewMate Pro | Pour-Over Coffee",
                                              "BrewMate Pro brews pour-over coffee at the exact temperature. Order yours today."]
    assert variant.lines[0].cut == "rewritten" and all(x.ok for x in variant.lines)
    assert '"BrewMate Pro"' in asked[1][1]  # the rewrite's grammar keeps the name
    assert "repaired: over-long line, missing field" in variant.notes


def test_repair_notes_follow_the_interface_language():
    template = TEMPLATES["seo_meta"]
    variant = finish("Title: BrewMate Pro", template, "zh", lang_ui="zh")
    complete, _ = scripted([["BrewMate Pro 智能手冲咖啡机，精准控温，每一杯都好喝。"]] * 4)
    repair.apply([variant], template, "zh", BRIEF, complete, lang_ui="zh")
    assert any(n.startswith("已修复：") and "缺失的字段" in n for n in variant.notes), variant.notes


def test_fallbacks_when_no_candidate_fits():
    template = TEMPLATES["search_ad"]
    raw = ("Headline 1: BrewMate Pro, the best pour-over for home\nHeadline 2: Quiet brews\nHeadline 3: 20 recipes\n"
           "Description 1: Exact temperature.\nDescription 2: Order today.")
    variant = finish(raw, template, "en")
    complete, _ = scripted([["BrewMate Pro makes the best coffee you ever tasted at home"] * 2])
    repair.apply([variant], template, "en", BRIEF, complete)
    first = variant.lines[0]
    assert first.text == "BrewMate Pro" or ("BrewMate Pro" in first.text and "best" not in first.text.lower())
    assert first.ok and first.cut in ("sentence", "phrase", "")


def test_avoid_words_and_missing_name_are_repaired():
    template = TEMPLATES["product_description"]
    raw = "A cheap smart pour-over that brews at the exact temperature.\n\nTwenty recipes in the app."
    variant = finish(raw, template, "en")
    complete, asked = scripted([["BrewMate Pro is a smart pour-over that brews at the exact temperature."]])
    repair.apply([variant], template, "en", BRIEF, complete)
    text = variant.copy_text(template, "en")
    assert "BrewMate Pro" in text and not structure.avoid_hits(text, BRIEF)
    assert "Do not use these words: cheap, best" in asked[0][0][1]["content"]


def test_no_requests_when_the_variant_is_fine():
    template = TEMPLATES["tagline"]
    variant = finish("Barista coffee, at home.", template, "en")
    complete, asked = scripted([])
    assert repair.apply([variant], template, "en", BRIEF, complete) == 0 and not asked
