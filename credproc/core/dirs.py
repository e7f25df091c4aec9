"""Where credproc keeps its files: the user cache dir (tokens), the user config dir (the
index of source keys) and the user data dir (the console's browser contexts), as platformdirs
names them.

On Linux and macOS the rule is short and fixed and ``core.hit`` applies it (a hit finds the
index there without importing platformdirs); a test checks that it agrees with platformdirs.
Elsewhere platformdirs decides.
"""

from __future__ import annotations

from collections.abc import Mapping

import platformdirs

from .hit import known_dir


def user_cache_dir(environ: Mapping[str, str]) -> str:
    """platformdirs' user cache dir for credproc."""
    return known_dir(environ, "cache") or platformdirs.user_cache_dir("credproc", appauthor=False)


def user_config_dir(environ: Mapping[str, str]) -> str:
    """platformdirs' user config dir for credproc."""
    known = known_dir(environ, "config")
    return known or platformdirs.user_config_dir("credproc", appauthor=False)


def user_data_dir(environ: Mapping[str, str]) -> str:
    """platformdirs' user data dir for credproc."""
    return known_dir(environ, "data") or platformdirs.user_data_dir("credproc", appauthor=False)
