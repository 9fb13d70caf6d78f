"""cli/ has no import circle (issue 15): its modules import each other one way only."""

from __future__ import annotations

import ast
from pathlib import Path

import neuronet.cli

CLI = Path(neuronet.cli.__file__).parent


def _imports() -> dict:
    """{module: cli modules it imports, at top level or inside functions}."""
    graph = {}
    for path in CLI.glob("*.py"):
        name = path.stem
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module.startswith("neuronet.cli."):
                    found.add(node.module.split(".")[2])
                elif node.module == "neuronet.cli":
                    found.update(a.name for a in node.names if (CLI / f"{a.name}.py").exists())
        graph[name] = found - {name}
    return graph


def test_no_import_cycle_among_cli_modules():
    graph = _imports()
    assert "train_cmd" not in graph["commands"] and "commands" not in graph["train_cmd"]

    def visit(node, path):
        assert node not in path, f"import cycle: {' -> '.join(path + [node])}"
        for nxt in graph.get(node, ()):
            if nxt != "__init__":
                visit(nxt, path + [node])

    for module in graph:
        if module != "__init__":
            visit(module, [])
