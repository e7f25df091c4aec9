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

# Each dir's place on macOS, and on Linux the XDG variable that moves it, with its default.
_PLACES = {
    "cache": ("~/Library/Caches", "XDG_CACHE_HOME", "~/.cache"),
    "config": ("~/Library/Application Support", "XDG_CONFIG_HOME", "~/.config"),
    "data": ("~/Library/Application Support", "XDG_DATA_HOME", "~/.local/share"),
}


def user_cache_dir(environ: Mapping[str, str]) -> str:
    """platformdirs' user cache dir for credproc."""
    return _user_dir("cache", environ)


def user_config_dir(environ: Mapping[str, str]) -> str:
    """platformdirs' user config dir for credproc."""
    return _user_dir("config", environ)


def user_data_dir(environ: Mapping[str, str]) -> str:
    """platformdirs' user data dir for credproc."""
    return _user_dir("data", environ)


def _user_dir(kind: str, environ: Mapping[str, str]) -> str:
    mac, variable, default = _PLACES[kind]
    if sys.platform == "darwin":
        return os.path.join(os.path.expanduser(mac), "credproc")
    if sys.platform.startswith("linux"):
        return os.path.join(_xdg(environ, variable, default), "credproc")
    import platformdirs  # noqa: PLC0415

    return str(getattr(platformdirs, f"user_{kind}_dir")("credproc", appauthor=False))


def _xdg(environ: Mapping[str, str], variable: str, default: str) -> str:
    base = environ.get(variable, "").strip()
    if not os.path.isabs(base):  # the XDG spec: relative values are ignored
        base = os.path.expanduser(default)
    return base
