"""The products shown as tabs, in order. Adding a product = one package here + one line below.

Each package has TAB_TITLE (an i18n key) and build_tab(); its plain functions live beside the tab
and never import another product.
"""
import shared  # noqa: F401,E402  (sets OMP_WAIT_POLICY once, before any product imports torch)

PRODUCTS = [
    "products.copy",
    "products.sentiment",
    "products.recommend",
    "products.speech",
    "products.image",
]
