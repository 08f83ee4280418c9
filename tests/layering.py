"""The import-direction check (docs/architecture.md, "Rooms"): walks the AST of every project module.

Rules, each reported as one line naming the module, the line and what to do:
- layers: the core (`deid` minus the shell) imports no other project package; `producers`, `recognizers`,
  `catalog` import only the core; `schema_inference`, `pipelines` only the core and those three; `batch` (files
  in buckets) the core and every library below it; only the
  shell (`deid.cli`, `deid.demo`, `deid.stack`, `deid.__main__`) imports everything. Packages of one layer
  do not import each other.
- no import cycles between modules (imports under `if TYPE_CHECKING:` excepted: they never run);
- a function-local project import only where it buys start-up time, saying so in a comment containing
  "start-up" between the function's `def` and the import (once for a group of them);
- below the shell nothing calls `load_settings()` or reads `os.environ` / `os.getenv`, except the
  settings loader itself and the modules in `ENVIRONMENT_ALLOWED` (each with its reason).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = ("deid", "producers", "recognizers", "catalog", "schema_inference", "pipelines", "batch")
SHELL = ("deid.cli", "deid.demo", "deid.stack", "deid.__main__")
RANKS = {
    "core": 0, "producers": 1, "recognizers": 1, "catalog": 1, "schema_inference": 2, "pipelines": 2, "batch": 3,
    "shell": 4,
}  # fmt: skip
ENVIRONMENT_ALLOWED = {
    "deid.settings": "the settings loader: the one place that reads DEID_* and DEID_CONFIG",
    "schema_inference.spark": "Spark's own launcher variables (PYSPARK_*, SPARK_LOCAL_IP), not deid settings",
    "recognizers.ner.train": "thread limits for the training run (OMP/BLIS), not deid settings",
}
MARKER = "start-up"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    local: bool
    commented: bool


@dataclass
class Module:
    name: str
    path: Path
    is_package: bool
    lines: list[str] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    environment: list[tuple[int, str]] = field(default_factory=list)


def layer(module: str) -> str:
    if module.startswith(SHELL) and (module in SHELL or module.split(".")[1] in {"cli", "demo", "stack"}):
        return "shell"
    top = module.split(".")[0]
    return "core" if top == "deid" else top


def discover(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Module]:
    modules: dict[str, Module] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            name = ".".join(parts[:-1] if is_package else parts)
            modules[name] = Module(name, path, is_package)
    return modules


def _targets(module: Module, node: ast.Import | ast.ImportFrom, known: dict[str, Module]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join([*base, *([node.module] if node.module else [])])
    else:
        prefix = node.module or ""
    return [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in known else prefix for a in node.names]


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}


def _context(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> tuple[int | None, bool]:
    """(first line of the innermost enclosing function or None, under `if TYPE_CHECKING:`)."""
    function: int | None = None
    type_checking = False
    while node in parents:
        node = parents[node]
        if function is None and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            function = node.lineno
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_checking = True
    return function, type_checking


def _environment_reads(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
            if node.attr in {"environ", "getenv", "environb"}:
                found.append((node.lineno, f"os.{node.attr}"))
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [(node.lineno, f"os.{a.name}") for a in node.names if a.name in {"environ", "getenv"}]
        elif isinstance(node, ast.Name) and node.id == "load_settings":
            found.append((node.lineno, "load_settings"))
        elif isinstance(node, ast.alias) and node.name == "load_settings":
            found.append((getattr(node, "lineno", 0), "load_settings"))
    return sorted(set(found))


def parse(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Module]:
    modules = discover(root, packages)
    tops = tuple(packages)
    for module in modules.values():
        text = module.path.read_text(encoding="utf-8")
        module.lines = text.splitlines()
        tree = ast.parse(text, filename=str(module.path))
        parents = _parents(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            function, type_checking = _context(node, parents)
            if type_checking:
                continue
            local = function is not None
            # The reason may stand once above a group of deferred imports: anywhere from the `def` to here.
            above = module.lines[(function or node.lineno) - 1 : node.end_lineno or node.lineno]
            commented = local and any(MARKER in line and "#" in line for line in above)
            for target in _targets(module, node, modules):
                if target.split(".")[0] in tops and target != module.name:
                    module.edges.append(Edge(module.name, target, node.lineno, local, commented))
        module.environment = _environment_reads(tree)
    return modules


def _cycles(modules: dict[str, Module]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    graph = {name: sorted({e.target for e in m.edges if e.target in modules}) for name, m in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(graph[child])))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def violations(root: Path, packages: Iterable[str] = PACKAGES) -> list[str]:
    """Every broken rule, one line each; empty when the tree keeps the direction."""
    modules = parse(root, packages)
    problems: list[str] = []
    for module in modules.values():
        where = layer(module.name)
        for edge in module.edges:
            to = layer(edge.target)
            if to != where and (RANKS[to] >= RANKS[where]):
                problems.append(
                    f"{module.name}:{edge.line}: {where} imports {edge.target} ({to}); "
                    "a module imports only layers below its own: move the shared code down"
                )
            if edge.local and not edge.commented:
                problems.append(
                    f"{module.name}:{edge.line}: function-local import of {edge.target}; import it at the top, "
                    f"or say why it buys start-up time in a comment containing {MARKER!r}"
                )
        if where != "shell" and module.name not in ENVIRONMENT_ALLOWED:
            problems += [
                f"{module.name}:{line}: {what} below the shell; take the settings as an argument"
                for line, what in module.environment
            ]
    problems += [f"import cycle: {' -> '.join(c)}; break it by moving the shared part" for c in _cycles(modules)]
    return sorted(set(problems))


if __name__ == "__main__":
    import sys

    found = violations(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
    print("\n".join(found) or "import direction: ok")
    sys.exit(1 if found else 0)
