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
