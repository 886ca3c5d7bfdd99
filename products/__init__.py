"""The products shown as tabs, in order. Adding a product = one package here + one line below.

Each package declares `PRODUCT`, a `shared.descriptor.Product` (its name, tab, actions, feedback
kinds, usage measures, settings and artifacts) in its `__init__.py`; its plain functions live beside
the tab and never import another product. Importing this package hands the descriptors down to the
shared layer (`shared.descriptor.register`); app.py does the same for the list it builds.
"""
from __future__ import annotations

import importlib
import logging

import shared  # noqa: F401  (sets OMP_WAIT_POLICY once, before any product imports torch)
from shared import descriptor

PRODUCTS = [
    "products.copy",
    "products.sentiment",
    "products.recommend",
    "products.speech",
    "products.image",
]

log = logging.getLogger(__name__)


def load(packages=None) -> list[tuple[str, descriptor.Product | None, str]]:
    """(package, its PRODUCT or None, "ok" or why it is left out) for each package, in order: a package
    that cannot be imported hides its tab, the others still run."""
    found = []
    for package in PRODUCTS if packages is None else packages:
        try:
            product = importlib.import_module(package).PRODUCT
            if not isinstance(product, descriptor.Product):
                raise TypeError(f"{package}.PRODUCT is not a shared.descriptor.Product")
            found.append((package, product, "ok"))
        except Exception as err:
            log.exception("product %s is not shown", package)
            found.append((package, None, f"not shown: {type(err).__name__}: {err}"))
    return found


descriptor.register([product for _, product, _ in load() if product is not None])
