"""Where credproc keeps its files: the user cache dir (tokens), the user config dir (the
index of source keys) and the user data dir (the console's browser contexts), as platformdirs
names them.

On Linux and macOS the rule is short and fixed, and importing platformdirs (which pulls in
tempfile, shutil and random) would cost a cache hit half a bare interpreter's start-up; a test
checks that both agree. Elsewhere platformdirs decides.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping


def user_cache_dir(environ: Mapping[str, str]) -> str:
    """platformdirs' user cache dir for credproc."""
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Caches/credproc")
    if sys.platform.startswith("linux"):
        return os.path.join(_xdg(environ, "XDG_CACHE_HOME", "~/.cache"), "credproc")
    import platformdirs  # noqa: PLC0415

    return platformdirs.user_cache_dir("credproc", appauthor=False)


def user_config_dir(environ: Mapping[str, str]) -> str:
    """platformdirs' user config dir for credproc."""
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Application Support/credproc")
    if sys.platform.startswith("linux"):
        return os.path.join(_xdg(environ, "XDG_CONFIG_HOME", "~/.config"), "credproc")
    import platformdirs  # noqa: PLC0415

    return platformdirs.user_config_dir("credproc", appauthor=False)


def user_data_dir(environ: Mapping[str, str]) -> str:
    """platformdirs' user data dir for credproc."""
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Application Support/credproc")
    if sys.platform.startswith("linux"):
        return os.path.join(_xdg(environ, "XDG_DATA_HOME", "~/.local/share"), "credproc")
    import platformdirs  # noqa: PLC0415

    return platformdirs.user_data_dir("credproc", appauthor=False)


def _xdg(environ: Mapping[str, str], variable: str, default: str) -> str:
    base = environ.get(variable, "").strip()
    if not os.path.isabs(base):  # the XDG spec: relative values are ignored
        base = os.path.expanduser(default)
    return base
