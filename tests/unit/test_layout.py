"""The package's shape: layers whose imports point down, no import cycle (imports inside
functions and modules loaded by name count), boto3 imported by the AWS layer alone, keyring by
the keyring module alone, and printing left to the command layer."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from credproc.cli.commands import DEFAULT_MODULE
from credproc.config.syntax import COMMANDS

PACKAGE = Path(__file__).resolve().parents[2] / "credproc"

# Each layer may import the layers below it and modules of its own folder; nothing above it,
# nor a layer of the same rank (aws and prompt know nothing of each other, nor do endpoint and
# the Python API). errors is the error tree every layer raises, at the bottom; the package
# itself (its __init__), api and __main__ are its face (__main__ enters the hit, core.hit).
LAYER_ORDER: tuple[tuple[str, ...], ...] = (
    ("credproc.errors",),
    ("credproc.core",),
    ("credproc.config",),
    ("credproc.aws", "credproc.prompt"),
    ("credproc.keys",),
    ("credproc.fetch",),
    ("credproc.endpoint", "credproc.api"),
    ("credproc.cli",),
    ("credproc",),
    ("credproc.__main__",),
)
# Imports that point up on purpose, each with its reason.
UPWARD_ON_PURPOSE = {
    # --version prints the package's version; Python has loaded the package before any of
    # its modules, so this costs nothing and makes no cycle (the test below checks that).
    ("credproc.cli.main", "credproc"),
}
# Modules that load others by a name built at run time (importlib), and what they can load.
# A module that does so and is not here fails test_every_load_by_name_is_followed.
LOADED_BY_NAME = {
    # one module per command of the syntax, imported only when run
    "credproc.cli.commands": {
        f"credproc.cli.commands.{name or DEFAULT_MODULE}" for name in ("", *COMMANDS)
    },
    # argparse's parser, for a command line that fastargs does not read (cli.main) and for a
    # credproc line in the AWS config (config.cmdline): not for a plain run that resolves
    "credproc.cli.main": {"credproc.config.parser"},
    # the provider, when the entry is not fresh (a fresh one answers as the hit would)
    "credproc.cli.commands.process": {"credproc.core.provider"},
    "credproc.config.cmdline": {"credproc.config.parser"},
    # the fetch step, imported when a refresh calls it (boto3: not for a warm env or exec)
    "credproc.cli.refresh": {"credproc.fetch.fetch"},
    # CPython's own SHA-256 modules (_sha2, _sha256): none of credproc's
    "credproc.core.private": set(),
    # filelock when a lock is taken, logging when something is logged, platformdirs where
    # core.hit's rule does not apply: none of credproc's, each costly for a run that only
    # resolves and prints
    "credproc.core.lock": set(),
    "credproc.core.log": set(),
    "credproc.core.dirs": set(),
    # configparser, for a file the plain reader leaves to it: none of credproc's
    "credproc.config.awsconfig": set(),
    # the package's public names, each from its module when first used
    "credproc": {"credproc.api", "credproc.core.credentials", "credproc.errors"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> set[str]:
    return {_module_name(path) for path in PACKAGE.rglob("*.py")}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text())


def _runtime_nodes(tree: ast.Module) -> Iterator[ast.AST]:
    """Every node that can run, at any depth; not those under TYPE_CHECKING."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for inner in ast.walk(node))
    return (node for node in ast.walk(tree) if id(node) not in skipped)


def _runtime_imports(path: Path) -> list[ast.Import | ast.ImportFrom]:
    return [
        node
        for node in _runtime_nodes(_tree(path))
        if isinstance(node, (ast.Import, ast.ImportFrom))
    ]


def _loads_by_name(path: Path) -> bool:
    """Whether the file calls importlib.import_module or __import__ (at run time)."""
    for node in _runtime_nodes(_tree(path)):
        if isinstance(node, ast.Call):
            called = ast.unparse(node.func)
            if called.endswith("import_module") or called == "__import__":
                return True
    return False


def _imports(path: Path) -> set[str]:
    """Every credproc module this file imports, at any depth of the file, and those it loads
    by name."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    modules = _modules()
    found: set[str] = set(LOADED_BY_NAME.get(name, ()))
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


def _layer(module: str) -> tuple[int, str]:
    """The rank of the module's layer, and the layer's name: the longest that contains it."""
    found = [
        (rank, layer)
        for rank, layers in enumerate(LAYER_ORDER)
        for layer in layers
        if module == layer or module.startswith(layer + ".")
    ]
    assert found, f"{module} is in no layer of LAYER_ORDER"
    return max(found, key=lambda pair: len(pair[1]))


def _against_the_layers(graph: dict[str, set[str]]) -> list[str]:
    """Every import that points up, or sideways to another layer of the same rank."""
    wrong = []
    for module, targets in sorted(graph.items()):
        rank, layer = _layer(module)
        for target in sorted(targets):
            target_rank, target_layer = _layer(target)
            if (module, target) in UPWARD_ON_PURPOSE or target_layer == layer:
                continue
            if target_rank >= rank:
                wrong.append(f"{module} -> {target}")
    return wrong


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        for target in sorted(graph.get(module, ())):
            if target in path:
                cycles.append([*path[path.index(target) :], target])
            elif len(path) < len(graph):
                visit(target, [*path, target])

    for module in sorted(graph):
        visit(module, [module])
    return cycles


def test_imports_point_down_the_layers() -> None:
    assert _against_the_layers(_graph()) == []


def test_the_layer_check_sees_an_import_that_points_up_or_sideways() -> None:
    graph = {
        "credproc.core.cache": {"credproc.config.options", "credproc.core.files"},
        "credproc.aws.sts": {"credproc.prompt.mfa", "credproc.config.options"},
        "credproc.cli.main": {"credproc.core.cache"},
    }
    assert _against_the_layers(graph) == [
        "credproc.aws.sts -> credproc.prompt.mfa",
        "credproc.core.cache -> credproc.config.options",
    ]


def test_every_module_is_in_a_layer() -> None:
    for module in _modules():
        _layer(module)


def test_no_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_imports_inside_functions_and_loads_by_name_are_followed() -> None:
    graph = _graph()
    assert "credproc.prompt.mfa" in graph["credproc.fetch.fetch"]  # inside from_aws only
    assert "credproc.cli.commands.completion" in graph["credproc.cli.commands"]  # by name
    # The cycle completion once made through the command registry is seen:
    graph["credproc.cli.completion"].add("credproc.cli.main")
    assert [
        "credproc.cli.main",
        "credproc.cli.commands",
        "credproc.cli.commands.completion",
        "credproc.cli.completion",
        "credproc.cli.main",
    ] in _cycles(graph)


def test_every_load_by_name_is_followed() -> None:
    loaders = {_module_name(path) for path in PACKAGE.rglob("*.py") if _loads_by_name(path)}
    assert loaders == set(LOADED_BY_NAME)


def test_every_command_has_a_module_that_mypy_checks() -> None:
    """A module (or package) per command of the syntax, and no other; each named in
    commands.MODULES, which mypy checks against the CommandModule protocol."""
    folder = PACKAGE / "cli" / "commands"
    files = {path.stem for path in folder.glob("*.py") if path.stem != "__init__"}
    # A command with actions may be a package, one module per action (credproc sso).
    files |= {path.parent.name for path in folder.glob("*/__init__.py")}
    loaded = {target.rpartition(".")[2] for target in LOADED_BY_NAME["credproc.cli.commands"]}
    assert files == loaded
    checked = {
        alias.name
        for node in ast.walk(_tree(folder / "__init__.py"))
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is None
        for alias in node.names
    }
    assert checked == files


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


def test_only_the_aws_layer_imports_boto3() -> None:
    importers = _importers(("boto3", "botocore"))
    assert importers
    assert {module for module in importers if not module.startswith("credproc.aws.")} == set()


def test_only_the_keyring_module_imports_keyring() -> None:
    assert _importers(("keyring", "secretstorage", "jeepney")) == {"credproc.keys.keystore"}


def test_only_the_dpop_module_imports_cryptography() -> None:
    # the login extra: anything else would need it installed for more than aws login sessions
    assert _importers(("cryptography", "awscrt")) == {"credproc.aws.dpop"}


# The fenced hit answers before the CLI is loaded: it writes its answer itself.
FENCED_WRITERS = {"credproc.core.hit", "credproc.core.warm"}


def test_only_the_command_layer_writes_to_stdout() -> None:
    writers = {
        _module_name(path)
        for path in PACKAGE.rglob("*.py")
        if re.search(r"sys\.stdout(\.buffer)?\.write|print\(", path.read_text())
    }
    assert writers >= FENCED_WRITERS
    outside = {w for w in writers if not w.startswith("credproc.cli.commands.")}
    assert outside == FENCED_WRITERS
