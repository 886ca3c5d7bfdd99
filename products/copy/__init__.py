"""Marketing copy: on-brief copy per channel (ads, meta tags, email subjects, posts...), streamed, in
English and Chinese, from a small instruction-tuned LLM (Qwen2.5-Coder-Instruct 1.5B / 0.5B, embedded)."""
TAB_TITLE = "copy.tab"


def build_tab() -> None:
    from products.copy.tab import build_tab as build

    build()
