"""Windows and macOS take their documented paths: no POSIX-only (or Linux-only) name is used
without a guard anywhere in credproc, and every module imports, and the file primitives run,
with those names taken away.

A guard is one a reader recognises: a test of ``sys.platform`` or ``os.name``, ``hasattr`` or
``getattr`` with a default, a name assigned from such a test (``self._waits =
hasattr(signal, "sigwaitinfo")``), or ``try`` with ``except ImportError``/``AttributeError``.
It guards the branch it chooses, the rest of a block after it returns, and the later operands
of ``and``/``or``. The hosted CI (.github/workflows/ci.yml) runs this suite on macOS and
Windows for real; this test is what fails here first.
"""

from __future__ import annotations

import ast
import importlib
import os
import signal
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from credproc.config.resolve import default_session_name
from credproc.core import hit, log

PACKAGE = Path(__file__).resolve().parents[2] / "credproc"

# Modules Windows does not have at all.
POSIX_ONLY_MODULES = frozenset(
    {"fcntl", "grp", "posix", "pty", "pwd", "resource", "syslog", "termios", "tty", "crypt"}
)
# Names Windows (or, for the Linux-only ones, macOS) lacks, by module. os.fchmod came to
# Windows only in 3.13, os.get_blocking/set_blocking in 3.12: still POSIX-only for 3.10+.
POSIX_ONLY_NAMES: dict[str, frozenset[str]] = {
    "os": frozenset(
        {
            *("O_NOFOLLOW", "O_NONBLOCK", "O_NOCTTY", "O_CLOEXEC", "O_DIRECTORY", "O_SYNC"),
            *("O_DSYNC", "O_ASYNC", "O_NDELAY", "O_EXLOCK", "O_SHLOCK", "O_PATH", "O_TMPFILE"),
            *("O_DIRECT", "O_NOATIME", "O_CLOFORK"),
            *("getuid", "geteuid", "getgid", "getegid", "getgroups", "getresuid", "getresgid"),
            *("setuid", "seteuid", "setgid", "setegid", "initgroups"),
            *("getpgid", "getpgrp", "setpgid", "setpgrp", "getsid", "setsid", "killpg"),
            *("tcgetpgrp", "tcsetpgrp", "ttyname", "openpty", "forkpty", "fork", "login_tty"),
            *("fchmod", "lchmod", "fchown", "chown", "lchown", "chroot", "mkfifo", "mknod"),
            *("statvfs", "fstatvfs", "sync", "nice", "getpriority", "setpriority"),
            *("getloadavg", "uname", "sysconf", "fpathconf", "pathconf", "confstr"),
            *("wait", "wait3", "wait4", "waitid", "WNOHANG", "WUNTRACED", "WCONTINUED"),
            *("WIFEXITED", "WEXITSTATUS", "WIFSIGNALED", "WTERMSIG", "WIFSTOPPED"),
            *("posix_spawn", "posix_spawnp", "register_at_fork", "pread", "pwrite"),
            *("get_blocking", "set_blocking", "pipe2", "sched_getaffinity"),
            *("sched_setaffinity", "memfd_create", "eventfd", "splice", "posix_fadvise"),
            *("sendfile", "getlogin_r", "ctermid"),
        }
    ),
    "signal": frozenset(
        {
            *("SIGHUP", "SIGQUIT", "SIGKILL", "SIGUSR1", "SIGUSR2", "SIGPIPE", "SIGALRM"),
            *("SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGWINCH"),
            *("SIGBUS", "SIGTRAP", "SIGSYS", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM"),
            *("SIGPROF", "SIGIO", "SIGPOLL", "SIGPWR", "SIGRTMIN", "SIGRTMAX", "SIGINFO"),
            *("alarm", "pause", "setitimer", "getitimer", "siginterrupt", "pthread_kill"),
            *("pthread_sigmask", "sigpending", "sigwait", "sigwaitinfo", "sigtimedwait"),
            *("SIG_BLOCK", "SIG_UNBLOCK", "SIG_SETMASK", "pidfd_send_signal"),
        }
    ),
    "select": frozenset({"poll", "epoll", "kqueue", "kevent", "devpoll"}),
    "time": frozenset({"tzset"}),
}
# Only on Linux: macOS lacks them too.
LINUX_ONLY = {
    "os": frozenset(
        {
            *("pipe2", "sched_getaffinity", "sched_setaffinity", "memfd_create", "eventfd"),
            *("splice", "posix_fadvise", "getresuid", "getresgid", "O_PATH", "O_TMPFILE"),
            *("O_DIRECT", "O_NOATIME"),
        }
    ),
    "signal": frozenset({"sigwaitinfo", "sigtimedwait", "SIGRTMIN", "SIGRTMAX", "SIGPWR"}),
    "select": frozenset({"epoll"}),
}
# subprocess refuses these keywords on Windows (start_new_session and process_group it
# ignores there, as documented: a child outlives its parent on Windows without them).
POSIX_ONLY_KEYWORDS = frozenset({"preexec_fn", "pass_fds", "user", "group", "extra_groups"})
_STARTS_A_PROCESS = frozenset({"Popen", "run", "call", "check_call", "check_output"})
_CATCHES = frozenset({"ImportError", "ModuleNotFoundError", "AttributeError"})
_STOPS = (ast.Return, ast.Raise, ast.Continue, ast.Break)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return "TYPE_CHECKING" in ast.unparse(test)


class _Finder:
    """The unguarded POSIX-only uses in one module: (function, name, line) each."""

    def __init__(self, tree: ast.Module) -> None:
        self.aliases: dict[str, str] = {}  # local name -> module (os, signal, termios, ...)
        self.imported: dict[str, str] = {}  # local name -> "os.O_NOFOLLOW" (from os import)
        self.guard_names: set[str] = set()
        self.found: list[tuple[str, str, int]] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.aliases[alias.asname or alias.name.split(".")[0]] = alias.name
        # Names that hold a platform test, at any depth: `self._waits = hasattr(...)`.
        for node in ast.walk(tree):
            value = getattr(node, "value", None)
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and self._is_guard(value):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                self.guard_names.update(ast.unparse(target) for target in targets)

    # -- what a guard is --

    def _is_guard(self, test: ast.AST | None) -> bool:
        for node in ast.walk(test) if test is not None else ():
            text = ast.unparse(node) if isinstance(node, (ast.Attribute, ast.Name)) else ""
            if text in ("sys.platform", "os.name") or text in self.guard_names:
                return True
            if isinstance(node, ast.Call) and _asks_for_a_name(node):
                return True
        return False

    def _ends_guarded(self, statement: ast.stmt) -> bool:
        """``if os.name == "nt": return ...``: what follows in its block is the other branch."""
        if not isinstance(statement, ast.If) or not self._is_guard(statement.test):
            return False
        return _ends(statement.body) or _ends(statement.orelse)

    # -- the walk --

    def block(self, body: list[ast.stmt], where: str, guarded: bool) -> None:
        for statement in body:
            self.statement(statement, where, guarded)
            guarded = guarded or self._ends_guarded(statement)

    def statement(self, node: ast.stmt, where: str, guarded: bool) -> None:
        if isinstance(node, ast.If):
            if not _is_type_checking(node.test):  # a TYPE_CHECKING block never runs
                self.expression(node.test, where, guarded)
                inner = guarded or self._is_guard(node.test)
                self.block(node.body, where, inner)
                self.block(node.orelse, where, inner)
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":  # 3.11's except*
            handlers: list[ast.ExceptHandler] = getattr(node, "handlers", [])
            caught = guarded or any(_catches(handler) for handler in handlers)
            self.block(getattr(node, "body", []), where, caught)
            for handler in handlers:
                self.block(handler.body, where, guarded)
            self.block(getattr(node, "orelse", []), where, caught)
            self.block(getattr(node, "finalbody", []), where, guarded)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.fields(node, where, guarded, body_of=node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            self.imports(node, where, guarded)
        else:
            self.fields(node, where, guarded)

    def imports(self, node: ast.Import | ast.ImportFrom, where: str, guarded: bool) -> None:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif node.level:
            return  # credproc's own
        else:
            module = node.module or ""
            names = [module]
            for alias in node.names:
                if alias.name in POSIX_ONLY_NAMES.get(module, ()):
                    self.imported[alias.asname or alias.name] = f"{module}.{alias.name}"
                    names.append(f"{module}.{alias.name}")
        for name in names if not guarded else ():
            if name.split(".")[0] in POSIX_ONLY_MODULES or name in self.imported.values():
                self.found.append((where, name, node.lineno))

    def fields(self, node: ast.AST, where: str, guarded: bool, body_of: str = "") -> None:
        """Every part of a statement that no rule above covers: blocks as blocks (for, while,
        with, match; a def's or class's body, named by it), expressions as expressions."""
        for name, value in ast.iter_fields(node):
            values = value if isinstance(value, list) else [value]
            if values and all(isinstance(item, ast.stmt) for item in values):
                self.block(values, body_of if body_of and name == "body" else where, guarded)
                continue
            for item in values:
                if isinstance(item, ast.expr):
                    self.expression(item, where, guarded)
                elif isinstance(item, (ast.AST)) and not isinstance(item, ast.stmt):
                    self.fields(item, where, guarded)  # arguments, handlers, with items, cases

    def expression(self, node: ast.expr, where: str, guarded: bool) -> None:
        if isinstance(node, ast.BoolOp):  # `hasattr(os, "x") and os.x()`
            for value in node.values:
                self.expression(value, where, guarded)
                guarded = guarded or self._is_guard(value)
            return
        if isinstance(node, ast.IfExp):
            self.expression(node.test, where, guarded)
            inner = guarded or self._is_guard(node.test)
            self.expression(node.body, where, inner)
            self.expression(node.orelse, where, inner)
            return
        if not guarded:
            self.found += [(where, name, node.lineno) for name in self._uses(node)]
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expression(child, where, guarded)
            else:
                self.fields(child, where, guarded)  # comprehensions, keywords

    def _uses(self, node: ast.expr) -> list[str]:
        """The POSIX-only names this very node uses."""
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = self.aliases.get(node.value.id, "")
            posix = module.split(".")[0] in POSIX_ONLY_MODULES
            return [f"{module}.{node.attr}"] if posix or _posix_only(module, node.attr) else []
        if isinstance(node, ast.Name):
            return [self.imported[node.id]] if node.id in self.imported else []
        if not isinstance(node, ast.Call):
            return []
        called = ast.unparse(node.func)
        if called == "getattr" and len(node.args) == 2:  # no default: AttributeError
            owner, name = (ast.unparse(node.args[0]), node.args[1])
            module = self.aliases.get(owner, "")
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                return [f"{module}.{name.value}"] if _posix_only(module, name.value) else []
        if called.rpartition(".")[2] not in _STARTS_A_PROCESS:
            return []
        return [f"{k.arg}=" for k in node.keywords if k.arg in POSIX_ONLY_KEYWORDS]


def _asks_for_a_name(call: ast.Call) -> bool:
    """``hasattr(os, "x")``, or ``getattr(os, "x", default)``."""
    called = ast.unparse(call.func)
    return called == "hasattr" or (called == "getattr" and len(call.args) > 2)


def _posix_only(module: str, name: object) -> bool:
    return name in POSIX_ONLY_NAMES.get(module, ())


def _catches(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return False
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(ast.unparse(kind).rpartition(".")[2] in _CATCHES for kind in kinds)


def _ends(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], _STOPS)


def unguarded(source: str) -> list[tuple[str, str, int]]:
    """(function, name, line) of every POSIX-only use in ``source`` that no guard covers."""
    tree = ast.parse(source)
    finder = _Finder(tree)
    finder.block(tree.body, "<module>", False)
    return finder.found


def _every_module() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield _module_name(path), path


def test_no_posix_only_name_is_used_without_a_guard() -> None:
    found = {
        (module, where, name): line
        for module, path in _every_module()
        for where, name, line in unguarded(path.read_text(encoding="utf-8"))
    }
    unguarded_uses = sorted(
        f"{module}:{found[module, where, name]} {where}: {name}" for module, where, name in found
    )
    assert unguarded_uses == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Each of these fails: the checker sees the name itself.
        ("import os\nos.open('p', os.O_NOFOLLOW)", [("<module>", "os.O_NOFOLLOW", 2)]),
        ("import os\ndef f():\n    return os.getuid()", [("f", "os.getuid", 3)]),
        ("import signal\nsignal.SIGHUP", [("<module>", "signal.SIGHUP", 2)]),
        (
            "from os import O_NOFOLLOW\nO_NOFOLLOW",
            [("<module>", "os.O_NOFOLLOW", 1), ("<module>", "os.O_NOFOLLOW", 2)],
        ),
        ("import termios", [("<module>", "termios", 1)]),
        ("import fcntl as f", [("<module>", "fcntl", 1)]),
        ("import os\ngetattr(os, 'killpg')(1, 9)", [("<module>", "os.killpg", 2)]),
        ("import subprocess\nsubprocess.run([], preexec_fn=f)", [("<module>", "preexec_fn=", 2)]),
        (
            "import signal\ntry:\n    signal.SIGKILL\nexcept OSError:\n    pass",
            [("<module>", "signal.SIGKILL", 3)],
        ),
        ("import os\nif os.path.exists('x'):\n    os.setsid()", [("<module>", "os.setsid", 3)]),
        # And each of these is guarded.
        ("import os\nflags = getattr(os, 'O_NOFOLLOW', 0)", []),
        ("import os\nif hasattr(os, 'getuid'):\n    os.getuid()", []),
        ("import os, sys\nif sys.platform != 'win32':\n    os.getuid()\nelse:\n    pass", []),
        (
            "import os\ndef f():\n    if os.name == 'nt':\n        return 0\n"
            "    return os.getuid()",
            [],
        ),
        ("import os\nok = not hasattr(os, 'geteuid') or os.geteuid() == 0", []),
        ("import os\nx = os.getpgrp() if os.name == 'posix' else 0", []),
        ("import sys\nif sys.platform != 'win32':\n    import pwd", []),
        ("try:\n    import fcntl\nexcept ImportError:\n    fcntl = None", []),
        ("import signal\ntry:\n    signal.SIGHUP\nexcept AttributeError:\n    pass", []),
        (
            "import signal\nclass S:\n    def __init__(self):\n"
            "        self._waits = hasattr(signal, 'sigwaitinfo')\n"
            "    def w(self):\n        if not self._waits:\n            return\n"
            "        signal.sigwaitinfo({signal.SIGCHLD})",
            [],
        ),
        ("import os\nif TYPE_CHECKING:\n    os.getuid()", []),
    ],
)
def test_the_guard_check_can_fail(source: str, expected: list[tuple[str, str, int]]) -> None:
    assert unguarded(source) == expected


# -- the modules imported, and the file primitives run, without the POSIX-only names --------


def _credproc_modules() -> list[str]:
    return [module for module, _ in _every_module()]


def _take_away(monkeypatch: pytest.MonkeyPatch, names: dict[str, frozenset[str]]) -> None:
    owners = {"os": os, "signal": signal, "select": importlib.import_module("select")}
    owners["time"] = importlib.import_module("time")
    for module, missing in names.items():
        for name in missing:
            if hasattr(owners[module], name):
                monkeypatch.delattr(owners[module], name)


def _like_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    _take_away(monkeypatch, POSIX_ONLY_NAMES)
    for module in POSIX_ONLY_MODULES:
        monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(os, "name", "nt")


def _like_macos(monkeypatch: pytest.MonkeyPatch) -> None:
    _take_away(monkeypatch, LINUX_ONLY)
    monkeypatch.setattr(sys, "platform", "darwin")


SYSTEMS = {"windows": _like_windows, "macos": _like_macos}


@pytest.mark.parametrize("system", list(SYSTEMS))
def test_every_module_imports_without_the_posix_only_names(
    system: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    modules = _credproc_modules()
    for module in modules:
        importlib.import_module(module)  # their third-party imports load here, as they are
    ours = {
        name: sys.modules[name] for name in list(sys.modules) if name.split(".")[0] == "credproc"
    }
    failures = []
    try:
        for name in ours:
            del sys.modules[name]
        with monkeypatch.context() as patched:
            SYSTEMS[system](patched)
            for module in modules:
                try:
                    importlib.import_module(module)
                except (AttributeError, ImportError) as error:
                    failures.append(f"{module}: {type(error).__name__}: {error}")
    finally:
        for name in [name for name in sys.modules if name.split(".")[0] == "credproc"]:
            del sys.modules[name]
        sys.modules.update(ours)  # the modules every other test holds
    assert failures == []


# Each runs in a directory of its own, given as a str: no pathlib while os.name is "nt" (it
# would make a WindowsPath, which Linux cannot).


def _log_file(directory: str) -> int:
    path = os.path.join(directory, "log")
    log.configure(verbose=False, debug=False, log_file=path)
    log.configure(verbose=False, debug=False, log_file=None)  # closes the file again
    return stat.S_IMODE(os.stat(path).st_mode)


def _primitive(name: str) -> Callable[..., Any]:
    """A file primitive by name, from the core module that holds it."""
    for module in ("credproc.core.private", "credproc.core.files", "credproc.core.hit"):
        try:
            found: object = getattr(importlib.import_module(module), name, None)
        except ImportError:
            continue
        if callable(found):
            return found
    raise LookupError(f"no credproc.core module has {name}")


def _atomic_write(directory: str) -> bytes:
    _primitive("atomic_write")(os.path.join(directory, "entry"), b"x")
    with open(os.path.join(directory, "entry"), "rb") as file:
        return file.read()


def _private_backup(directory: str) -> bytes:
    backup = _primitive("private_backup")(os.path.join(directory, "config"), b"old")
    with open(backup, "rb") as file:
        return file.read()


def _cached_answer(directory: str) -> bytes | None:
    # A usable cache dir with no record in it: the hit opens the record's path all the same.
    cache = os.path.join(directory, "cache")
    os.mkdir(cache, 0o700)
    return hit.cached_answer(["--profile", "dev"], {hit.CACHE_DIR_VARIABLE: cache})


def _unusable_dir(directory: str) -> str | None:
    why: str | None = _primitive("unusable_dir")(os.lstat(directory))
    return why


# Each file primitive a run touches, by the function that holds its os.open, run on its own in
# a fresh directory.
PRIMITIVES: dict[str, Callable[[str], object]] = {
    "configure": _log_file,
    "atomic_write": _atomic_write,
    "private_backup": _private_backup,
    "read_private": _cached_answer,
    "unusable_dir": _unusable_dir,
}


@pytest.mark.parametrize("primitive", list(PRIMITIVES))
def test_the_file_primitives_run_without_the_posix_only_names(
    primitive: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "posix").mkdir(mode=0o700)
    (tmp_path / "windows").mkdir(mode=0o700)
    expected = PRIMITIVES[primitive](str(tmp_path / "posix"))
    with monkeypatch.context() as patched:  # undone before pytest reports
        _like_windows(patched)
        got = PRIMITIVES[primitive](str(tmp_path / "windows"))
    assert got == expected


def test_the_login_name_on_windows_needs_no_passwd(monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patched:
        _like_windows(patched)
        names = default_session_name({}), default_session_name({"USERNAME": "alice"})
    assert names == ("credproc-user", "credproc-alice")
