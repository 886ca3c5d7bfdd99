"""The copy package's shape: no import circle among its modules (function-level imports included),
options.py a leaf, and the offline tools in products/copy/tools/, which the runtime never imports."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "products" / "copy"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def copy_imports() -> dict[str, set[str]]:
    """Each copy module and the copy modules it imports anywhere in its code."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found |= {f"{node.module}.{a.name}" for a in node.names} | {node.module}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
        graph[name] = {m for m in found if m in modules and m != name and m != "products.copy"}
    return graph


def test_no_import_circle_among_the_copy_modules():
    graph = copy_imports()
    state: dict[str, str] = {}
    circles = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for dep in sorted(graph[name]):
            if state.get(dep) == "open":
                circles.append(path[path.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, path + [dep])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert circles == []


def test_options_is_a_leaf_and_the_tools_stay_offline():
    graph = copy_imports()
    assert graph["products.copy.options"] == set()
    tools = {name for name in graph if name.startswith("products.copy.tools")}
    assert "products.copy.tools.evaluate" in tools
    assert not [name for name, deps in graph.items() if name not in tools and deps & tools]
