"""Where credproc keeps its files: the user cache dir (tokens), the user config dir (the
index of source keys) and the user data dir (the console's browser contexts), as platformdirs
names them.

On Linux and macOS the rule is short and fixed and ``core.hit`` applies it (a hit finds the
index there without importing platformdirs); a test checks that it agrees with platformdirs.
Elsewhere platformdirs decides, loaded by name only there: every run resolves a cache dir, and
importing platformdirs costs one that only resolves more than a bare interpreter's start.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from .hit import known_dir


def user_cache_dir(environ: Mapping[str, str]) -> str:
    """platformdirs' user cache dir for credproc."""
    return known_dir(environ, "cache") or _platformdirs("user_cache_dir")


def user_config_dir(environ: Mapping[str, str]) -> str:
    """platformdirs' user config dir for credproc."""
    return known_dir(environ, "config") or _platformdirs("user_config_dir")


def user_data_dir(environ: Mapping[str, str]) -> str:
    """platformdirs' user data dir for credproc."""
    return known_dir(environ, "data") or _platformdirs("user_data_dir")


def _platformdirs(function: str) -> str:
    """platformdirs' ``function`` for credproc (Windows, and other systems)."""
    platformdirs = importlib.import_module("platformdirs")
    return str(getattr(platformdirs, function)("credproc", appauthor=False))
