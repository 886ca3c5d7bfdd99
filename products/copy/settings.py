"""The Marketing copy product's settings (README's configuration table lists them)."""
from __future__ import annotations

from shared.config import as_auto_int, as_flag, as_float, as_int, as_list, as_lower, as_text, product_settings, \
    setting


@product_settings
class CopySettings:
    models: tuple = setting(
        "AIPM_COPY_MODELS", "qwen-1.5b,qwen-0.5b",
        "Copy models offered, the first is the default: `qwen-1.5b` (embedded Qwen2.5-Coder-1.5B-Instruct, better copy), `qwen-0.5b` (embedded 0.5B, about 3x faster); a configured `custom` model comes first.",
        as_list)
    # read by its LocalPath source
    path: str = setting(
        "AIPM_COPY_PATH", "",
        "Local chat model for marketing copy: a transformers folder or a `.gguf` file (converted once into the cache); offered as `custom`.",
        as_text)
    # read by its HubModel source
    hub: str = setting(
        "AIPM_COPY_HUB", "",
        "Hub id of a chat model for marketing copy (for example `Qwen/Qwen2.5-7B-Instruct` on a GPU Space), offered as `custom`; falls back to the embedded 1.5B when unreachable.",
        as_text)
    max_brief_tokens: int = setting(
        "AIPM_COPY_MAX_BRIEF_TOKENS", "1024",
        "Most prompt tokens a brief may take; longer briefs are trimmed with a note.",
        as_int())
    # at least 16: the max-length slider's upper bound
    max_new_tokens: int = setting(
        "AIPM_COPY_MAX_NEW_TOKENS", "512",
        "Most tokens one variant may generate (the max-length slider's upper bound).",
        as_int(minimum=16))
    repetition_penalty: float = setting(
        "AIPM_COPY_REPETITION_PENALTY", "1.1",
        "Repetition penalty for the copy models (1 = off).",
        as_float())
    engine: str = setting(
        "AIPM_COPY_ENGINE", "auto",
        "Engine for the copy models: `auto` (llama.cpp for GGUF files on CPU when llama-cpp-python is installed, else transformers), `llama.cpp` or `transformers`.",
        as_lower)
    # None = auto: measured by the engine (shared/threads.py)
    threads: int | None = setting(
        "AIPM_COPY_THREADS", "auto",
        "CPU threads of the llama.cpp engine; `auto` = measured once per machine on the model at its first load.",
        as_auto_int)
    draft: str = setting(
        "AIPM_COPY_DRAFT", "auto",
        "Speculative decoding on llama.cpp (the embedded 0.5B guesses tokens, the 1.5B or a custom GGUF with the same tokenizer checks them in one batch; the text is the model's own): `auto` = on where it measures faster (once per machine at the first load; on 2-core CPUs it is not), `on`, `off`, or the `.gguf` path of another draft model (always on).",
        as_text)
    draft_tokens: int = setting(
        "AIPM_COPY_DRAFT_TOKENS", "4",
        "Tokens the draft model guesses per row and step.",
        as_int(minimum=1))
    context: int = setting(
        "AIPM_COPY_CONTEXT", "4096",
        "Context of the llama.cpp engine in tokens, shared by the variants of one request (the prompt once, plus each variant's new tokens).",
        as_int(minimum=512))
    repair: bool = setting(
        "AIPM_COPY_REPAIR", "1",
        "`1` has the model rewrite what a variant still lacks after decoding (missing field, over-long line, product name, words to avoid); `0` only cuts at sentence or phrase boundaries.",
        as_flag)
    # read by its Server source
    openai_url: str = setting(
        "AIPM_COPY_OPENAI_URL", "",
        "Base URL of an OpenAI-compatible server (vLLM, TGI, llama.cpp server, Ollama), e.g. `http://vllm:8000/v1`; offered as the copy model `openai`, first.",
        as_text)
    openai_model: str = setting(
        "AIPM_COPY_OPENAI_MODEL", "",
        "Model name sent to that server (empty = the first one its `/models` lists).",
        as_text)
    openai_key: str = setting(
        "AIPM_COPY_OPENAI_KEY", "",
        "API key for that server (sent as a Bearer token; empty = none).",
        as_text)
    openai_structure: str = setting(
        "AIPM_COPY_OPENAI_STRUCTURE", "grammar",
        "How the structure is enforced on that server: `grammar` (GBNF in the `grammar` field: llama.cpp server, llama-cpp-python; vLLM takes it too), `json_schema` (`response_format`: vLLM, TGI, Ollama, OpenAI) or `none` (parse and repair only).",
        as_lower)
    openai_timeout: float = setting(
        "AIPM_COPY_OPENAI_TIMEOUT", "120",
        "Seconds to wait for that server to answer a request.",
        as_float())
    no_repeat_ngram: int = setting(
        "AIPM_COPY_NO_REPEAT_NGRAM", "6",
        "Token n-grams of this size are never repeated within a variant (0 = off); small enough to stop phrase loops, large enough to let a product name recur.",
        as_int())
