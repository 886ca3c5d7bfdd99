"""The products shown as tabs, in order. Adding a product = one package here + one line below.

Each package has TAB_TITLE (an i18n key) and build_tab(); its plain functions live beside the tab
and never import another product.
"""
PRODUCTS = [
    "products.copy",
    "products.sentiment",
    "products.recommend",
    "products.speech",
    "products.image",
]
