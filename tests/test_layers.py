"""The layers point down: shared/ never imports a product and never names one; products hand it
their descriptors (shared/descriptor.py)."""
import ast
import re

from tests.conftest import ROOT

SHARED = sorted((ROOT / "shared").rglob("*.py"))


def product_names() -> list[str]:
    from products import load

    return [product.name for _, product, _ in load()]


def test_nothing_under_shared_imports_products():
    found = []
    for path in SHARED:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                    "import_module", "__import__", "find_spec") and node.args \
                    and isinstance(node.args[0], ast.Constant):
                modules = [str(node.args[0].value)]
            else:
                continue
            found += [f"{path.relative_to(ROOT)}:{node.lineno} {m}" for m in modules
                      if m == "products" or m.startswith("products.")]
    assert found == []


def test_no_product_is_named_under_shared():
    """No string, comment or docstring under shared/ names a product: not as a word for the names
    that are not ordinary English words, and not as an identifier-like use (an i18n key "copy.tab",
    an api name "image_generate", a path "products/copy") for those that are ("copy", "image")."""
    names = product_names()
    assert len(names) == 5, "the check needs the products' names"
    ordinary = {"copy", "image"}
    patterns = []
    for name in names:
        patterns.append(re.compile(rf"products[./]{name}\b|[\"']{name}[._\"']|\b{name}_[a-z]", re.IGNORECASE))
        if name not in ordinary:
            patterns.append(re.compile(rf"\b{name}", re.IGNORECASE))
    hits = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
            for path in SHARED for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if any(p.search(line) for p in patterns)]
    assert hits == []


def test_the_check_would_find_a_product_name():
    """The two checks above are not vacuous: the same patterns find names in a product's own code."""
    text = (ROOT / "products" / "sentiment" / "__init__.py").read_text(encoding="utf-8")
    assert "sentiment" in text and re.search(r"[\"']sentiment[._\"']", text)
