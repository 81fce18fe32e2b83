"""The layers, as the README's "How it is built" names them, checked on the source.

- no module imports, directly or through others, a module that imports it back;
- the core (everything but cli.py, commands/ and render/) never imports the CLI framework, rich,
  or the CLI and rendering layers: it returns data and raises typed errors;
- render/ never imports commands/.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "otelcli"
UI_MODULES = ("typer", "click", "rich")
CLI_LAYERS = (
    "otelcli.cli",
    "otelcli.__main__",
    "otelcli.global_options",
    "otelcli.commands",
    "otelcli.render",
)


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _imports(path: Path) -> set[str]:
    """Every module named by an import anywhere in the file (lazy imports count too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: {target for target in _imports(path) if target in modules and target != name}
        for name, path in modules.items()
    }


def _is_core(module: str) -> bool:
    return not any(module == layer or module.startswith(layer + ".") for layer in CLI_LAYERS)


def test_no_import_cycles() -> None:
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append(path[path.index(target) :] + [target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_core_never_imports_the_cli_or_rendering_layers() -> None:
    offenders = []
    for module, path in sorted(_modules().items()):
        if not _is_core(module):
            continue
        for target in sorted(_imports(path)):
            top = target.split(".")[0]
            if top in UI_MODULES or not _is_core(target):
                offenders.append(f"{module} imports {target}")
    assert not offenders, "\n".join(offenders)


def test_render_never_imports_commands() -> None:
    offenders = [
        f"{module} imports {target}"
        for module, path in _modules().items()
        if module.startswith("otelcli.render")
        for target in _imports(path)
        if target.startswith(("otelcli.commands", "otelcli.cli"))
    ]
    assert not offenders, "\n".join(offenders)
