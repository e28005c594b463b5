"""The import graph keeps the data flow one way: faces on top, the pipeline under them,
checks and parsing at the bottom. Function-level imports count; TYPE_CHECKING ones do not."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "reviewer"
FACES = {"reviewer.cli", "reviewer.__main__"}
# a module may import these only downward: never a face, never a use case above it
ABOVE = {
    "reviewer.pr": FACES,
    "reviewer.gate": FACES | {"reviewer.pr"},
    "reviewer.audit": FACES | {"reviewer.pr", "reviewer.gate", "reviewer.github"},
    "reviewer.batch": FACES | {"reviewer.audit", "reviewer.pr", "reviewer.gate",
                               "reviewer.pipeline", "reviewer.render", "reviewer.github",
                               "reviewer.inline"},
    "reviewer.judge": FACES | {"reviewer.pr", "reviewer.gate", "reviewer.pipeline",
                               "reviewer.render", "reviewer.github", "reviewer.inline",
                               "reviewer.audit", "reviewer.batch"},
    # the pipeline takes another judge as a callable; it never knows the audit's batch judge
    "reviewer.pipeline": FACES | {"reviewer.pr", "reviewer.gate", "reviewer.render",
                                  "reviewer.github", "reviewer.inline", "reviewer.audit",
                                  "reviewer.batch"},
    "reviewer.engine": FACES | {"reviewer.pr", "reviewer.gate", "reviewer.pipeline",
                                "reviewer.judge", "reviewer.render"},
    "reviewer.render": FACES | {"reviewer.pr", "reviewer.gate", "reviewer.judge",
                                "reviewer.github", "reviewer.audit", "reviewer.batch"},
    "reviewer.checks": FACES | {"reviewer.pr", "reviewer.gate", "reviewer.pipeline",
                                "reviewer.engine", "reviewer.judge", "reviewer.render",
                                "reviewer.inline", "reviewer.change"},
    "reviewer.protocol": FACES | {"reviewer.render", "reviewer.pr", "reviewer.gate",
                                  "reviewer.rubric", "reviewer.review"},
    # the rubric author's tools sit beside pr and gate: under the faces, over the pipeline
    "reviewer.cases": FACES | {"reviewer.pr", "reviewer.gate"},
    "reviewer.calibrate": FACES | {"reviewer.pr", "reviewer.gate"},
    "reviewer.impact": FACES | {"reviewer.pr", "reviewer.gate"},
}
ALLOWED_CYCLES: list[set[str]] = []


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and ast.unparse(block.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
                   for node in ast.walk(block)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("reviewer"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("reviewer"))
    return found


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in imports_of(path) if m in files and m != name}
            for name, path in files.items()}


def within(module: str, group: str) -> bool:
    return module == group or module.startswith(group + ".")


def cycles(edges: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(edges[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_nothing_imports_upward():
    edges = graph()
    upward = [(source, target) for source, targets in edges.items() for target in targets
              for group, above in ABOVE.items() if within(source, group)
              and any(within(target, a) for a in above)]
    assert upward == []


def test_no_import_cycles():
    assert cycles(graph()) == ALLOWED_CYCLES


def test_the_checker_sees_an_upward_import_and_a_cycle():
    """The test above could pass by reading nothing; it must see real edges."""
    edges = graph()
    assert "reviewer.pipeline" in edges["reviewer.cli"]
    assert "reviewer.engine" in edges["reviewer.pipeline"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
