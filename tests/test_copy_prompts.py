"""products/copy/prompts.py: the exact prompt for a brief and a channel template."""
import pytest

from products.copy.prompts import build_messages, prefill
from products.copy.templates import TEMPLATES
from tests.test_copy import brief, build_tiny


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny(tmp_path_factory.mktemp("tiny-qwen"))


def test_exact_prompt_search_ad_english(tiny):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny)
    prompt = tok.apply_chat_template(build_messages(brief(avoid="cheap, best"), TEMPLATES["search_ad"], "en"),
                                     tokenize=False, add_generation_prompt=True) + prefill(TEMPLATES["search_ad"], "en")
    assert prompt == (
        "<|im_start|>system\nYou are a senior marketing copywriter. You write concrete, on-brief copy in English. "
        "You output only the copy itself, in exactly the format requested.<|im_end|>\n"
        "<|im_start|>user\nProduct: BrewMate Pro\nWhat it is: a smart pour-over coffee maker\n"
        "Key features and benefits: exact temperature\n20 recipes\nTarget audience: home coffee lovers\nTone: friendly\n\n"
        "Task: Write a Google search ad for this product. Every headline is different and names a concrete benefit.\n\n"
        "Use exactly this format:\nHeadline 1: <at most 30 characters (about 4 words)>\n"
        "Headline 2: <at most 30 characters (about 4 words)>\nHeadline 3: <at most 30 characters (about 4 words)>\n"
        "Description 1: <at most 90 characters (about 12 words)>\nDescription 2: <at most 90 characters (about 12 words)>\n\n"
        "Use the product name \"BrewMate Pro\" in the headline.\n\nDo not use these words: cheap, best<|im_end|>\n"
        "<|im_start|>assistant\nHeadline 1: ")


def test_exact_prompt_tagline_chinese():
    messages = build_messages(brief(product="云朵枕", description="记忆棉护颈枕", features="", audience="", voice="温柔"),
                              TEMPLATES["tagline"], "zh")
    assert messages == [
        {"role": "system", "content": "你是一名资深营销文案。你用简体中文写具体、贴合需求的文案。你只输出文案本身，严格按照要求的格式。"},
        {"role": "user", "content": "产品：云朵枕\n简介：记忆棉护颈枕\n语气：亲切友好\n品牌调性：温柔\n\n"
                                    "任务：为这个产品写一句简短、好记的广告语。\n\n格式：口号：1 行，每行不超过30个字。"},
    ]
    assert prefill(TEMPLATES["tagline"], "zh") == ""


def test_exact_prompt_social_post_english_format():
    content = build_messages(brief(), TEMPLATES["social_post"], "en")[1]["content"]
    assert content.endswith("Format:\nPost: at most 3 lines, each at most 200 characters (about 28 words)\nLast line: the hashtags\n"
                            "At most 280 characters (about 40 words) in all\n\nUse the product name \"BrewMate Pro\" in the post.")


def test_exact_prompt_xiaohongshu_format():
    content = build_messages(brief(), TEMPLATES["xiaohongshu"], "zh")[1]["content"]
    assert content.endswith("严格按下面的格式输出：\n标题：<不超过20个字>\n正文：<最多 8 段，每段不超过300个字>\n话题：<3 到 6 个话题标签>\n\n在标题中写出产品名“BrewMate Pro”。")
    assert prefill(TEMPLATES["xiaohongshu"], "zh") == "标题："
