"""products/copy/variants.py: the model's lines mapped onto a template's fields and fitted to its limits."""
from products.copy import text as tx
from products.copy.templates import TEMPLATES
from products.copy.variants import enforce, finish, parse


def test_finished_social_post_is_clean_and_within_limits():
    raw = ("Mornings just got better.\nMornings just got better.\nBrew café-quality coffee in 3 minutes.\n"
           "#coffee #coffee #morning #brew #home #barista #daily")
    variant = finish(raw, TEMPLATES["social_post"], "en", loop="repeated hashtag")
    assert [line.text for line in variant.lines] == [
        "Mornings just got better.", "Brew café-quality coffee in 3 minutes.", "#coffee #morning #brew #home #barista"]
    assert all(line.ok for line in variant.lines)


def test_search_ad_parse_and_enforce():
    raw = ("Headline 1: Brew barista-grade coffee at home every morning\n**Headline 2:** Quiet 3-minute brews\n"
           "Headline 3: 20 recipes in the app\nHeadline 4: one too many\n"
           "Description 1: Smart pour-over that brews at the exact temperature. Order today and taste the difference at home!\n"
           "Description 2: \"Twenty recipes, one button.\"")
    template = TEMPLATES["search_ad"]
    variant = finish(raw, template, "en")
    assert [(x.field, x.text, x.count, x.limit, x.trimmed) for x in variant.lines] == [
        ("headline", "Brew barista-grade coffee", 25, 30, True),
        ("headline", "Quiet 3-minute brews", 20, 30, False),
        ("headline", "20 recipes in the app", 21, 30, False),
        ("description", "Smart pour-over that brews at the exact temperature.", 52, 90, True),  # a sentence, not mid-phrase
        ("description", "Twenty recipes, one button.", 27, 90, False),
    ]
    assert "dropped 1 extra line(s)" in variant.notes
    assert variant.copy_text(template, "en").splitlines()[:2] == [
        "Headline 1: Brew barista-grade coffee", "Headline 2: Quiet 3-minute brews"]


def test_chinese_limits_count_cjk_as_two():
    template = TEMPLATES["search_ad"]
    raw = "标题 1：智能手冲咖啡机，精准控温每一杯都好喝\n标题 2：二十种配方\n描述 1：好喝"
    variant = finish(raw, template, "zh")
    first = variant.lines[0]
    assert first.text == "智能手冲咖啡机" and first.count == 14 and first.trimmed and first.cut == "phrase"
    assert variant.copy_text(template, "zh").splitlines()[0] == "标题 1：智能手冲咖啡机"


def test_xiaohongshu_title_counts_characters_and_copies_without_labels():
    template = TEMPLATES["xiaohongshu"]
    raw = "标题：打工人续命神器☕️早上三分钟就能喝到手冲咖啡真的太香了\n正文：姐妹们！\n这台咖啡机真的好用\n话题：#好物分享 #咖啡 #好物分享"
    variant = finish(raw, template, "zh")
    assert variant.lines[0].rule == "chars" and variant.lines[0].count <= 20
    assert variant.copy_text(template, "zh").endswith("#好物分享 #咖啡")
    assert "标题" not in variant.copy_text(template, "zh")


def test_total_limit_of_a_social_post():
    long = "word " * 70
    pairs, _ = parse(f"{long}\n{long}\n#a #b", TEMPLATES["social_post"], "en")
    lines, notes = enforce(pairs, TEMPLATES["social_post"], "en")
    total = sum(tx.count(x.text) for x in lines) + len(lines) - 1
    assert total <= 280 and lines[-1].text == "#a #b" and notes == [f"total {total}/280"]


def test_notes_follow_the_interface_language_and_a_refit_replaces_the_total():
    from products.copy.variants import refit_total

    raw = "标题 1：智能手冲咖啡机，精准控温每一杯都好喝\n标题 2：二十种配方\n标题 3：好\n标题 4：多余\n描述 1：好喝\n描述 2：方便\n描述 3：多余"
    zh = finish(raw, TEMPLATES["search_ad"], "zh", lang_ui="zh")
    en = finish(raw, TEMPLATES["search_ad"], "zh")
    assert "舍弃了 2 行多余内容" in zh.notes and "dropped 2 extra line(s)" in en.notes
    assert "为符合字数在句子或短语边界处缩短" in zh.notes
    post = finish(("word " * 70 + "\n") * 2 + "#a #b", TEMPLATES["social_post"], "en", lang_ui="zh")
    assert post.total_note.startswith("总计 ") and post.total_note in post.notes
    post.lines.pop(0)
    refit_total(post, TEMPLATES["social_post"], "zh")
    assert [n for n in post.notes if n.startswith("总计")] == [post.total_note]


# ---- a variant the token budget breaks off (#30: never end mid-sentence, never mid-word) -----------------
from products.copy import repair  # noqa: E402
from products.copy.templates import Brief  # noqa: E402
from products.copy.variants import Line, Variant, end_whole  # noqa: E402


def test_a_sentence_end_is_read_past_emoji_and_quotes_and_not_in_a_number():
    assert tx.ends_sentence("Order today! 🚀") and tx.ends_sentence("真的好用！😍") and tx.ends_sentence('He said "yes."')
    assert not tx.ends_sentence("start your s") and not tx.ends_sentence("其一键研磨")
    assert tx.last_sentence("Weighs 1.2 kg and") == ""  # the dot of a number ends no sentence
    assert tx.last_sentence("Brew better. BrewMate Pro makes") == "Brew better."
    assert tx.last_sentence("好用！其一键研磨") == "好用！"


def test_a_broken_off_description_is_trimmed_to_its_last_whole_sentence():
    raw = ("BrewMate Pro brews at the exact temperature for a rich cup every morning. Choose from 20 recipes in the "
           "app.\nIts quiet three-minute brew lets the house sleep while the kitchen fills with the smell of fresh "
           "coffee. Every cup tastes the way your favourite cafe makes it, at home. Pour, press start and the BrewMate Pro makes")
    v = finish(raw, TEMPLATES["product_description"], "en", ran_out=True)
    assert [line.text for line in v.lines][-1].endswith("the way your favourite cafe makes it, at home.")
    assert any("ran out" in n for n in v.notes)
    untouched = finish(raw, TEMPLATES["product_description"], "en", ran_out=False)
    assert untouched.lines[-1].text.endswith("BrewMate Pro makes")  # the model ended it: nothing is guessed


def test_a_broken_off_line_without_a_whole_sentence_or_a_short_field_is_left_out():
    t = TEMPLATES["search_ad"]
    raw = "Headline: BrewMate Pro Coffee\nHeadline: Exact Temperature\nHeadline: Quiet Brew\n" \
          "Description: Twenty recipes in the app.\nDescription: Wake up and start your s"
    v = finish(raw, t, "en", ran_out=True)
    assert [line.text for line in v.lines] == ["BrewMate Pro Coffee", "Exact Temperature", "Quiet Brew",
                                               "Twenty recipes in the app."]  # the repair writes description 2
    zh = finish("标题：云朵枕\n正文：慢回弹记忆棉，贴合颈椎。其一键研磨", TEMPLATES["xiaohongshu"], "zh", ran_out=True)
    assert [line.text for line in zh.lines] == ["云朵枕"]  # "慢回弹记忆棉，贴合颈椎。" is under 30% of 300
    headline = finish("Headline: BrewMate Pro Coffee\nHeadline: Exact Tempe", t, "en", ran_out=True)
    assert [line.text for line in headline.lines] == ["BrewMate Pro Coffee"]


def test_a_broken_off_hashtag_line_loses_its_last_tag():
    f = TEMPLATES["social_post"].fields[1]
    pairs, notes = end_whole([(f, "#coffee #brewing #morningritual #Brew")])
    assert pairs[0][1] == "#coffee #brewing #morningritual" and notes


def _fix_for(variant, template, brief):
    return repair.plan(variant, 0, template, "en", brief)


def test_a_repair_never_cuts_a_line_at_a_word_and_drops_an_optional_one_it_cannot_fix():
    t = TEMPLATES["product_description"]
    brief = Brief(product="BrewMate Pro", description="a coffee maker")
    long_words = "BrewMate Pro " + " ".join(["brewing"] * 80)  # no sentence or phrase boundary at all
    paragraphs = [Line("paragraph", "Paragraph", "BrewMate Pro brews great coffee.", 33, 500, "width"),
                  Line("paragraph", "Paragraph", "It is quiet.", 12, 500, "width"),
                  Line("paragraph", "Paragraph", long_words[:500].rsplit(" ", 1)[0], 496, 500, "width",
                       trimmed=True, original=long_words, cut="word")]
    variants = [Variant(list(paragraphs))]
    repair.apply(variants, t, "en", brief, lambda requests, n: [[long_words] * n for _ in requests])
    assert [line.text for line in variants[0].lines] == [paragraphs[0].text, paragraphs[1].text]


def test_a_line_cut_to_a_stub_is_repaired_again():
    t = TEMPLATES["search_ad"]
    brief = Brief(product="BrewMate Pro")
    lines = [Line("headline", "Headline", "BrewMate Pro", 12, 30, "width"),
             Line("headline", "Headline", "Exact Temperature", 17, 30, "width"),
             Line("headline", "Headline", "Quiet Brew", 10, 30, "width"),
             Line("description", "Description", "Twenty recipes in the app.", 26, 90, "width"),
             Line("description", "Description", "Brew.", 5, 90, "width", trimmed=True, cut="sentence",
                  original="Brew. " + "x" * 100, repaired=True)]
    fixes = _fix_for(Variant(lines), t, brief)
    assert [(fx.line, fx.kind) for fx in fixes] == [(4, "long")]


def test_a_prose_line_the_model_ended_gets_its_full_stop_but_a_broken_one_does_not():
    t = TEMPLATES["product_description"]

    def closed(*texts, template=t, lang="en"):
        v = finish("\n".join(texts), template, lang)
        repair.close_sentences(v, template, lang)
        return [line.text for line in v.lines]

    assert closed("Pour, press start and relax while it brews", "The house stays quiet every single morning") == \
        ["Pour, press start and relax while it brews.", "The house stays quiet every single morning."]
    assert closed("Proof of delivery with", "That's what we'd", "Its quiet motor makes") == \
        ["Proof of delivery with", "That's what we'd", "Its quiet motor makes"]  # broken off: no stop hides it
    assert closed("正文：慢回弹记忆棉，贴合颈椎", "正文：正文", template=TEMPLATES["xiaohongshu"], lang="zh") == \
        ["慢回弹记忆棉，贴合颈椎。", "正文"]
    full = "Fresh fish caught within 48 hours, recipe cards in every box, and skip any week you choose"
    assert len(full) == 90
    ad = closed("Headline: Quiet Brew", "Headline: Exact Heat", "Headline: BrewMate Pro", "Description: " + full,
                template=TEMPLATES["search_ad"])
    assert ad == ["Quiet Brew", "Exact Heat", "BrewMate Pro", full]  # headlines take no stop; 90 of 90: no room


def test_a_line_cut_to_whole_sentences_that_fills_most_of_its_limit_is_not_rewritten():
    t = TEMPLATES["search_ad"]
    brief = Brief(product="BrewMate Pro")
    heads = [Line("headline", "Headline", h, len(h), 30, "width") for h in ("BrewMate Pro", "Exact Heat", "Quiet Brew")]
    kept = "Twenty recipes in the app, ready when you are. Brews at the exact temperature."  # 78 of 90
    stub = "Twenty recipes."  # 15 of 90: rewritten
    lines = heads + [Line("description", "Description", kept, len(kept), 90, "width", trimmed=True, cut="sentence",
                          original=kept + " Quiet enough for a sleeping house."),
                     Line("description", "Description", stub, len(stub), 90, "width", trimmed=True, cut="sentence",
                          original=stub + " " + "More words here to go over the limit. " * 3)]
    fixes = repair.plan(Variant(lines), 0, t, "en", brief)
    assert [(fx.line, fx.kind) for fx in fixes] == [(4, "long")]


def test_a_repair_candidate_that_stops_mid_sentence_is_cut_to_its_last_whole_sentence():
    t = TEMPLATES["social_post"]
    brief = Brief(product="RouteWise")
    broken = "RouteWise plans your delivery routes! Delivering to 100 stops in just seconds? That's what we'd"
    variants = [Variant([Line("hashtags", "Hashtags", "#RouteWise #Delivery #Routes", 28, 79, "width")])]
    repair.apply(variants, t, "en", brief, lambda requests, n: [[broken] * n for _ in requests])
    post = [line.text for line in variants[0].lines if line.field == "post"]
    assert post == ["RouteWise plans your delivery routes! Delivering to 100 stops in just seconds?"]


def test_a_broken_off_line_that_parse_dropped_leaves_the_lines_before_it():
    raw = ("Subject: BrewMate Pro - your coffee, your way\n\nDear [Customer's Name],\n\n"
           "I hope this message finds you well. I am writing to thank you for choosing the BrewMate Pro. It")
    v = finish(raw, TEMPLATES["follow_up_email"], "en", ran_out=True)
    assert [line.text for line in v.lines] == ["BrewMate Pro - your coffee, your way"]
