"""No import circle inside the copnet package: a module that imports another at import time never
needs that one to import it back (a circle makes the import order decide what works, and hides
which module a rule belongs to).

Module-level imports only (those inside functions run later, when every module is loaded); the
generated `v1` code is included, read from the source tree without importing anything.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import copnet

PACKAGE_ROOT = Path(copnet.__file__).parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_level_imports(tree: ast.Module, name: str, is_package: bool) -> set[str]:
    """Every module name an import statement outside functions and classes may load."""
    found: set[str] = set()
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        else:  # module-level if / try / with blocks import at import time too
            pending.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt))
    return found


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in PACKAGE_ROOT.rglob("*.py")}
    graph = {}
    for name, path in paths.items():
        imported = module_level_imports(ast.parse(path.read_text(), str(path)), name, path.name == "__init__.py")
        graph[name] = {other for other in imported if other in paths and other != name}
    return graph


def test_the_copnet_package_has_no_import_circle():
    try:
        graphlib.TopologicalSorter(import_graph()).prepare()
    except graphlib.CycleError as circle:
        raise AssertionError(f"import circle: {' -> '.join(circle.args[1])}") from None


def test_imports_are_read_as_module_names():
    tree = ast.parse("from copnet.membership import access, seats\nimport copnet.kernel.db\n"
                     "def later():\n    from copnet.membership import teams\n")
    assert module_level_imports(tree, "copnet.membership.x", False) == {
        "copnet.membership", "copnet.membership.access", "copnet.membership.seats", "copnet.kernel.db"}
