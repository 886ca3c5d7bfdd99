"""What a product tells the shared layer about itself: one `Product` per package, declared in the
package's `__init__.py` and handed down by the layer above (app.py, through `register`).

The shared layer never imports a product and never names one: capture, feedback, the Insights and
System tabs, the catalog and the settings table read the registered descriptors instead.

    PRODUCT = Product(
        name="echo", title="echo.tab", build_tab=build_tab,
        actions=("echo_run",), rated=("echo_run",),
        feedback=(FeedbackKind("up", score=1.0), FeedbackKind("fix", check=check_fix)),
        measures=(Measure("chars", "characters read"),),
        settings=(EchoSettings,), artifacts=declared_in(artifacts),
    )
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Rating:
    """One piece of feedback while it is checked: what the user sent, what the rated request
    remembered (`memo`), and what a check hook adds. A hook raises `shared.ui.UserError` to refuse."""
    kind: str
    value: str
    item: str
    text: str
    memo: dict
    lang: str
    updates: dict = field(default_factory=dict)  # columns of the stored row to set (value, predicted, score, ...)
    measures: dict = field(default_factory=dict)  # numbers measured from the feedback (a word error rate, ...)
    content: str | None = None  # user text stored only with AIPM_STORE_CONTENT=1
    message: tuple[str, dict] | None = None  # (i18n key, values): the thank-you line instead of the default


@dataclass(frozen=True)
class FeedbackKind:
    """A kind of feedback on a product's results: its satisfaction score (1 good, 0 bad, None
    neither), an optional check hook, and whether the rated item is remembered for the session
    (items the next results can leave out or build on: `feedback.session_items`)."""
    name: str
    score: float | None = None
    check: Callable[[Rating], None] | None = None
    remember_item: bool = False


@dataclass(frozen=True)
class Measure:
    """A usage quantity a product's requests report through `capture.note(name=value)`: stored per
    request without a schema change (a known column, or the generic `measures` JSON)."""
    name: str
    help: str


@dataclass(frozen=True)
class Service:
    """An OpenAI-compatible capability a product serves with one of its models (shared/api/openai_routes.py
    routes /v1/... calls to it by model id). `run`'s signature is the capability's, in shared/api/capabilities.py:
    "chat", "embeddings", "transcription" or "images"."""
    capability: str
    model: str  # the id callers name in "model" (and /v1/models lists)
    run: Callable
    description: str = ""
    default: bool = False  # the model used when a call names none, or "default"


@dataclass(frozen=True)
class Product:
    name: str  # short id: the tab id, the stored `product`, the feedback API's product value
    title: str  # i18n key of the tab title
    build_tab: Callable[[], None]
    actions: tuple[str, ...]  # the public api names of its events
    rated: tuple[str, ...] = ()  # the actions whose results feedback rates
    feedback: tuple[FeedbackKind, ...] = ()
    measures: tuple[Measure, ...] = ()
    settings: tuple[type, ...] = ()  # its @product_settings classes (README's table, the System tab)
    artifacts: tuple = ()  # its embedded Artifacts (the catalog: verification and licences)
    description: str = ""  # i18n key of a one-line summary, for overviews
    # What it serves under /v1/ (OpenAI's shape): a tuple, or a function giving one when the models on
    # offer depend on configuration read at call time.
    services: tuple[Service, ...] | Callable[[], tuple[Service, ...]] = ()
    routes: Callable[[], object] | None = None  # its native REST routes: () -> fastapi.APIRouter (imported on demand)
    uses: tuple[str, ...] = ()  # a workflow: the products it composes (for overviews)

    def __post_init__(self):
        unknown = set(self.rated) - set(self.actions)
        if unknown:
            raise ValueError(f"{self.name}: rated actions {sorted(unknown)} are not among its actions")
        names = [k.name for k in self.feedback]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.name}: a feedback kind is declared twice: {names}")

    def kind(self, name: str) -> FeedbackKind | None:
        return next((k for k in self.feedback if k.name == name), None)

    def offered_services(self) -> tuple[Service, ...]:
        return tuple(self.services() if callable(self.services) else self.services)

    @property
    def kind_names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.feedback)


_lock = threading.Lock()
_products: dict[str, Product] = {}
_owners: dict[str, str] = {}  # action -> product name


def register(products) -> None:
    """Make these the products the shared layer serves (in tab order), replacing any before."""
    found: dict[str, Product] = {}
    owners: dict[str, str] = {}
    for product in products:
        if product.name in found:
            raise ValueError(f"two products are named {product.name!r}")
        for action in product.actions:
            if action in owners:
                raise ValueError(f"action {action!r} is declared by {owners[action]!r} and {product.name!r}")
            owners[action] = product.name
        found[product.name] = product
    with _lock:
        _products.clear()
        _products.update(found)
        _owners.clear()
        _owners.update(owners)


def registered() -> tuple[Product, ...]:
    with _lock:
        return tuple(_products.values())


def names() -> tuple[str, ...]:
    with _lock:
        return tuple(_products)


def get(name: str) -> Product | None:
    with _lock:
        return _products.get(name)


def owner_of(action: str) -> str | None:
    """The product that declared this api name, or None (the shared tabs' own events)."""
    with _lock:
        return _owners.get(action)


def measure_names() -> frozenset[str]:
    with _lock:
        return frozenset(m.name for p in _products.values() for m in p.measures)
