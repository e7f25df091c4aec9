"""The package's shape: no import cycle (imports inside functions count), no module over 400
lines, boto3 imported by the AWS modules alone (sts, answers, client, iam), keyring by the
keystore alone, and printing left to the command layer."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "credproc"
MAX_LINES = 400
# The modules that talk to AWS through boto3; each is imported only when AWS must be called.
# client: the one client construction (bounds, deadline); answers: the one error mapper;
# iam: IAM's access key calls, for `keys rotate` alone.
AWS_MODULES = {
    "credproc.aws.sts",
    "credproc.aws.answers",
    "credproc.aws.client",
    "credproc.aws.iam",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(path: Path) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that can run, at any depth; not those under TYPE_CHECKING."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for inner in ast.walk(node))
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in skipped
    ]


def _imports(path: Path) -> set[str]:
    """Every credproc module this file imports, at any depth of the file."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    modules = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    found: set[str] = set()
    for node in _runtime_imports(path):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            parts = package.split(".")
            base = ".".join([*parts[: len(parts) - node.level + 1], *([base] if base else [])])
        for alias in node.names:
            # `from . import sts` imports the module credproc.aws.sts; `from .x import y`, x.
            submodule = f"{base}.{alias.name}"
            found.add(submodule if submodule in modules else base)
    return {module for module in found if module in modules and module != name}


def _graph() -> dict[str, set[str]]:
    return {_module_name(path): _imports(path) for path in PACKAGE.rglob("*.py")}


def test_no_import_cycle() -> None:
    graph = _graph()
    # A package's __init__ runs before its modules: an edge to a parent package is no cycle
    # of concern as long as the parent does not import the child back.
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        for target in sorted(graph[module]):
            if target in path:
                cycles.append([*path[path.index(target) :], target])
            elif len(path) < len(graph):
                visit(target, [*path, target])

    for module in sorted(graph):
        visit(module, [module])
    assert cycles == []


def test_the_cycle_check_sees_imports_inside_functions() -> None:
    imports = _imports(PACKAGE / "__main__.py")
    assert "credproc.cli.main" in imports  # imported inside main only, after a miss


def test_no_module_is_over_the_limit() -> None:
    sizes = {_module_name(p): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    assert {name: size for name, size in sizes.items() if size > MAX_LINES} == {}


def _importers(packages: tuple[str, ...]) -> set[str]:
    """The credproc modules that import any of these top-level packages, at any depth."""
    importers = set()
    for path in PACKAGE.rglob("*.py"):
        for node in _runtime_imports(path):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if not node.level
                else []
            )
            if any(name.split(".")[0] in packages for name in names):
                importers.add(_module_name(path))
    return importers


def test_only_the_aws_modules_import_boto3() -> None:
    assert _importers(("boto3", "botocore")) == AWS_MODULES


def test_only_the_keystore_imports_keyring() -> None:
    assert _importers(("keyring", "secretstorage", "jeepney")) == {"credproc.keys.keyring"}


def test_only_the_command_layer_writes_to_stdout() -> None:
    writers = {
        _module_name(path)
        for path in PACKAGE.rglob("*.py")
        if "sys.stdout.write" in path.read_text() or "print(" in path.read_text()
    }
    assert {w for w in writers if not w.startswith("credproc.cli.commands.")} == set()
