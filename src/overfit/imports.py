"""Which of the package's source files a job runs: its rules' code inputs, read from the real imports.

A rule's script runs one job function (``overfit.jobs.<stage>.<job>``); the
files that job can execute are the modules it imports, followed through
every ``import`` and ``from … import`` of the package, read statically with
``ast``. Listing them as the rule's inputs makes Snakemake rerun exactly the
jobs whose code changed.

Two granularities:

- the job adapters (``overfit.jobs.*``) import lazily inside each job
  function, so a job's closure starts from its function: the module's top
  level, the function's body, and the module's own helpers it calls;
- every other module counts whole (all its imports, wherever they are):
  editing it reruns every job that imports it.

A module that runs a file of another language beside it (the compiled
kernel's C++ source) names it in a top-level ``CODE_FILES`` tuple: that file
is code of every job that imports the module.

Free of JAX: Snakemake imports this while it builds the DAG.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

PACKAGE = "overfit"
ADAPTERS = "overfit.jobs"


def job_code(entry: str, root: str | Path) -> list[str]:
    """The source files of ``entry`` ("overfit.jobs.train:train"), under ``root`` (the folder holding overfit/)."""
    root = Path(root)
    module, _, function = entry.partition(":")
    seen: set[str] = set()
    todo = [*_parents(ADAPTERS)]  # every script runs overfit.jobs.run
    if function:  # the adapter module itself counts, but only the job function's imports are followed
        seen.add(module)
        todo += [*_parents(module)[:-1], *_imports_of_job(root, module, function)]
    else:
        todo.append(module)
    while todo:
        name = todo.pop()
        if name in seen or _file(root, name) is None:
            continue
        seen.add(name)
        todo.extend(_imports(root, name))
    return sorted(str(path) for name in seen for path in (_file(root, name), *_companions(root, name)))


def module_files(root: str | Path) -> dict[str, Path]:
    """Every module of the package under ``root``, by dotted name."""
    root = Path(root)
    files = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        files[".".join(parts)] = path
    return files


def _file(root: Path, module: str) -> Path | None:
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _companions(root: Path, module: str) -> list[Path]:
    """The files a module's ``CODE_FILES = ("name", ...)`` names, beside the module."""
    path = _file(root, module)
    for node in _tree(path).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "CODE_FILES" for t in node.targets):
            return [path.with_name(name) for name in ast.literal_eval(node.value)]
    return []


def _parents(module: str):
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


@lru_cache(maxsize=None)
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported(root: Path, module: str, nodes) -> list[str]:
    """Package modules named by the import statements among ``nodes`` (with their parent packages)."""
    names = []
    package = module if _file(root, module) and _file(root, module).name == "__init__.py" else module.rpartition(".")[0]
    for node in nodes:
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # "from a import b": b is a submodule when it has a file, else a name inside a
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names if _file(root, f"{base}.{alias.name}"))]
        else:
            continue
        for target in targets:
            if target == PACKAGE or target.startswith(PACKAGE + "."):
                names.extend(_parents(target))
    return names


def _imports(root: Path, module: str) -> list[str]:
    """Everything a whole module imports, at its top level or inside any function."""
    return _imported(root, module, ast.walk(_tree(_file(root, module))))


def _imports_of_job(root: Path, module: str, function: str) -> list[str]:
    """What one job function of an adapter module imports: top level, its body, the module's helpers it calls."""
    tree = _tree(_file(root, module))
    functions = {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    if function not in functions:
        raise ValueError(f"{module} has no function {function!r}")
    top_level = [node for node in tree.body if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    nodes = [child for node in top_level for child in ast.walk(node)]
    used, todo = set(), [function]
    while todo:
        name = todo.pop()
        if name in used:
            continue
        used.add(name)
        for child in ast.walk(functions[name]):
            nodes.append(child)
            if isinstance(child, ast.Name) and child.id in functions:
                todo.append(child.id)
    return _imported(root, module, nodes)
