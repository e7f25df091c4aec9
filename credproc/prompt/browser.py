"""Browsers: find one by name or path, and open a page in it, in a context of the caller's.

A context is where the browser keeps cookies: its own default one, a Chromium-family
user-data dir (``--user-data-dir``) or profile (``--profile-directory``), a Firefox profile
(``-P``), or a Firefox container, reached through the URL scheme of the "Open external links in
a container" extension (``ext+container:name=NAME&url=URL``). ``default`` is Python's
``webbrowser``, which follows ``BROWSER``, as before credproc knew browsers by name.

Nothing here knows what the page is for: ``credproc console`` opens the AWS console with it,
and an SSO sign-in (``weblogin``) opens its page the same way. Every browser credproc starts is
started here (``start``): in a session of its own, with none of credproc's streams, so it
outlives credproc and writes nothing to the stdout a client reads credentials from.

The default browser is ``BROWSER``'s first command that starts (a list separated by the path
separator, each given the page in place of ``%s`` or after its words), else the desktop's
through Python's ``webbrowser``. Whether one can be started is known before anything is
sent (``cannot_start``): a program ``BROWSER`` names is on PATH; without ``BROWSER``, macOS,
Windows or a display (``DISPLAY``, ``WAYLAND_DISPLAY``). Never a text browser in the terminal
of an SSH session, whose output would land in the client's captured streams.
"""

from __future__ import annotations

import configparser
import contextlib
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import urllib.parse
import webbrowser
from collections.abc import Mapping
from typing import NamedTuple

from ..config.options import BROWSERS
from ..core.files import private_dir
from ..errors import ConfigError, UsageError

CHROMIUM, FIREFOX = "chromium", "firefox"
DEFAULT = BROWSERS[0]
# Each name: its family, the programs that run it on PATH, and its macOS application.
KNOWN = {
    "chromium": (
        CHROMIUM,
        ("chromium", "chromium-browser"),
        "Chromium.app/Contents/MacOS/Chromium",
    ),
    "chrome": (
        CHROMIUM,
        ("google-chrome", "google-chrome-stable", "chrome"),
        "Google Chrome.app/Contents/MacOS/Google Chrome",
    ),
    "brave": (
        CHROMIUM,
        ("brave-browser", "brave"),
        "Brave Browser.app/Contents/MacOS/Brave Browser",
    ),
    "edge": (
        CHROMIUM,
        ("microsoft-edge", "microsoft-edge-stable", "msedge"),
        "Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
    ),
    "firefox": (FIREFOX, ("firefox", "firefox-esr"), "Firefox.app/Contents/MacOS/firefox"),
}
MAC_APPLICATIONS = ("/Applications", "~/Applications")
# Words in a program's file name that say its family, for a browser given as a path.
_FAMILY_WORDS = (
    ("chrom", CHROMIUM),
    ("brave", CHROMIUM),
    ("edge", CHROMIUM),
    ("firefox", FIREFOX),
)
# The published extension whose URL scheme opens a page in a named container: "Open external
# links in a container" (addons.mozilla.org/firefox/addon/open-url-in-container), parameters
# name (created if missing) and url (http or https only: extensions cannot open file: pages).
CONTAINER_SCHEME = "ext+container"
CONTAINER_EXTENSION = "Open external links in a container"
# Where Firefox keeps profiles.ini: Linux (classic and XDG), the Linux snap, macOS.
FIREFOX_HOMES = (
    "~/.mozilla/firefox",
    "~/.config/mozilla/firefox",
    "~/snap/firefox/common/.mozilla/firefox",
    "~/Library/Application Support/Firefox",
)


class Browser(NamedTuple):
    name: str  # as chosen: "default", a known name, or the path given
    path: str | None  # None: Python's webbrowser chooses (BROWSER honoured)
    family: str | None  # CHROMIUM, FIREFOX, or None when credproc does not know it

    def describe(self) -> str:
        if self.path is None:
            browser = os.environ.get("BROWSER")
            return f"the default browser (BROWSER={browser})" if browser else "the default browser"
        return f"{self.name} ({self.path})" if self.name != self.path else self.path


class Context(NamedTuple):
    """Where a page opens: the browser's flags for it, or a Firefox container's name."""

    arguments: tuple[str, ...]
    describe: str
    container: str | None = None


OWN_CONTEXT = Context((), "the browser's own context")


def choose(
    choice: str,
    *,
    isolate: str | None,
    own_profile: str | None,
    name: str,
    contexts_dir: str,
    environ: Mapping[str, str],
) -> tuple[Browser, Context]:
    """The browser ``choice`` means and the context to open a page for ``name`` in:
    ``isolate`` "profile" (the default for a named browser) gives each name its own, "none"
    (the default for ``default``) the browser's own."""
    browser = find(choice, environ)
    if (isolate or ("none" if browser.path is None else "profile")) == "none":
        if own_profile:
            raise UsageError("--browser-profile names a context: it needs --isolate profile")
        return browser, OWN_CONTEXT
    where = context(browser, name, own_profile, contexts_dir)
    if where.container:
        check_container_handler()
    return browser, where


def find(choice: str, environ: Mapping[str, str]) -> Browser:
    """The browser a name or a path means; ConfigError naming what was looked for."""
    if choice == DEFAULT:
        return Browser(DEFAULT, None, None)
    if os.sep in choice or choice.startswith("~"):
        path = os.path.abspath(os.path.expanduser(choice))
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise ConfigError(f"browser {choice!r}: there is no executable file there")
        return Browser(choice, path, family_of(path))
    if choice not in KNOWN:
        raise ConfigError(
            f"unknown browser {choice[:40]!r}: use {', '.join(BROWSERS)} or a path to a browser"
        )
    family, programs, application = KNOWN[choice]
    for program in programs:
        found = shutil.which(program, path=environ.get("PATH", os.defpath))
        if found:
            return Browser(choice, found, family)
    looked = [f"{', '.join(programs)} on PATH"]
    if sys.platform == "darwin":
        for folder in MAC_APPLICATIONS:
            candidate = os.path.join(os.path.expanduser(folder), application)
            if os.access(candidate, os.X_OK):
                return Browser(choice, candidate, family)
        looked.append(f"{application} in {' and '.join(MAC_APPLICATIONS)}")
    raise ConfigError(f"browser {choice} not found: looked for {' and '.join(looked)}")


def family_of(path: str) -> str | None:
    """A program's family from its file name, or the name of the file it links to."""
    for candidate in (path, os.path.realpath(path)):
        name = os.path.basename(candidate).lower()
        for word, family in _FAMILY_WORDS:
            if word in name:
                return family
    return None


def context(browser: Browser, name: str, own_profile: str | None, contexts_dir: str) -> Context:
    """The context named ``name`` for this browser: ``own_profile`` (a profile of the user's
    own browser) if given, else one credproc keeps under ``contexts_dir`` (Chromium family),
    or a container (Firefox)."""
    if browser.family == CHROMIUM:
        if own_profile:
            return Context((f"--profile-directory={own_profile}",), f"profile {own_profile!r}")
        directory = os.path.join(contexts_dir, CHROMIUM, _file_name(name))
        private_dir(directory)
        # A context of credproc's own: no welcome pages or default-browser question in each.
        flags = (f"--user-data-dir={directory}", "--no-first-run", "--no-default-browser-check")
        return Context(flags, f"user-data dir {directory}")
    if browser.family == FIREFOX:
        if own_profile:
            return Context(("-P", own_profile), f"Firefox profile {own_profile!r}")
        return Context((), f"container {name!r} ({CONTAINER_SCHEME}:)", container=name)
    raise ConfigError(
        f"credproc cannot keep profiles apart in {browser.describe()}: name a browser "
        f"({', '.join(BROWSERS[1:])}) or use --isolate none"
    )


def container_url(name: str, url: str) -> str:
    """The extension's URL that opens ``url`` in the container ``name``."""
    return f"{CONTAINER_SCHEME}:" + urllib.parse.urlencode({"name": name, "url": url})


def check_container_handler() -> str:
    """The default Firefox profile's handlers.json, if it hands ext+container: links to an
    extension (Firefox records there the schemes extensions register); ConfigError saying
    what to install otherwise."""
    where = "no Firefox profile"
    for home in FIREFOX_HOMES:
        profile = _default_profile(os.path.expanduser(home))
        if profile is None:
            continue
        handlers = os.path.join(profile, "handlers.json")
        where = handlers
        try:
            with open(handlers, encoding="utf-8") as file:
                schemes = json.load(file).get("schemes", {})
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(schemes, dict) and schemes.get(CONTAINER_SCHEME):
            return handlers
    raise ConfigError(
        f"Firefox has no handler for {CONTAINER_SCHEME}: links (looked in {where}): install "
        f'the "{CONTAINER_EXTENSION}" extension, or use --browser-profile NAME (a Firefox '
        "profile) or --isolate none"
    )


def _default_profile(home: str) -> str | None:
    """The directory of the profile Firefox starts by default, from profiles.ini."""
    ini = configparser.ConfigParser(interpolation=None)
    try:
        if not ini.read(os.path.join(home, "profiles.ini"), encoding="utf-8"):
            return None
    except configparser.Error:
        return None
    installs = [ini[s] for s in ini.sections() if s.startswith("Install")]
    chosen = next((install["Default"] for install in installs if "Default" in install), None)
    relative = True
    if chosen is None:
        for section in ini.sections():
            if section.startswith("Profile") and ini[section].get("Default") == "1":
                chosen = ini[section].get("Path")
                relative = ini[section].get("IsRelative", "1") == "1"
                break
    if not chosen:
        return None
    return os.path.join(home, chosen) if relative and not os.path.isabs(chosen) else chosen


def has_display(environ: Mapping[str, str]) -> bool:
    """Whether a window can be shown here: macOS, Windows, or an X or Wayland display."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def _browser_commands(environ: Mapping[str, str]) -> list[list[str]]:
    """``BROWSER``'s commands, each as its words (a command that cannot be split is skipped)."""
    commands = []
    for command in environ.get("BROWSER", "").split(os.pathsep):
        with contextlib.suppress(ValueError):
            words = shlex.split(command)
            if words:
                commands.append(words)
    return commands


def default_missing(environ: Mapping[str, str]) -> str | None:
    """Why the default browser cannot be started here, or None if it can (found locally,
    before anything is sent)."""
    commands = _browser_commands(environ)
    if environ.get("BROWSER", "").strip():
        path = environ.get("PATH", os.defpath)
        if any(shutil.which(words[0], path=path) for words in commands):
            return None
        return "no program BROWSER names is found here"
    if has_display(environ):
        return None
    return "no BROWSER and no display (DISPLAY, WAYLAND_DISPLAY)"


def cannot_start(browser: Browser, environ: Mapping[str, str]) -> str | None:
    """Why ``browser`` cannot be started here, or None: the default browser by
    ``default_missing``; a browser credproc found by name needs a display. A path is the
    user's program (a wrapper may run a headless browser): it is only started."""
    if browser.path is None:
        return default_missing(environ)
    if browser.name in KNOWN and not has_display(environ):
        return f"{browser.describe()} needs a display, and there is none (DISPLAY, WAYLAND_DISPLAY)"
    return None


def start(argv: list[str]) -> subprocess.Popen[bytes]:
    """The one way credproc starts a browser: its own session (it outlives credproc and its
    terminal) and none of credproc's streams. OSError if it cannot be started."""
    return subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


class Opened(NamedTuple):
    """A browser started on a page: its process, or None where the desktop's opener
    (``webbrowser``) started it and there is no process to watch."""

    process: subprocess.Popen[bytes] | None


def open_default(url: str, environ: Mapping[str, str]) -> Opened | None:
    """Start the default browser on ``url`` without waiting for it; None if none could be."""
    if environ.get("BROWSER", "").strip():
        for words in _browser_commands(environ):
            has_url = any("%s" in word for word in words)
            argv = [w.replace("%s", url) for w in words] if has_url else [*words, url]
            try:
                return Opened(start(argv))
            except OSError:
                continue
        return None  # BROWSER says which browser: never another one behind the user's back
    if not has_display(environ):
        return None
    with contextlib.redirect_stdout(sys.stderr):  # a desktop opener's chatter is not ours
        return Opened(None) if webbrowser.open(url) else None


NO_BROWSER_ADVICE = "use --print and open the link yourself"


def open_page(
    browser: Browser, where: Context, page: str, environ: Mapping[str, str]
) -> subprocess.Popen[bytes] | None:
    """Start the browser on ``page`` in ``where``; the process to watch, or None (the
    desktop's opener started it). ConfigError if it cannot be started."""
    if browser.path is None:
        opened = open_default(page, environ)
        if opened is None:
            raise ConfigError(f"no browser could be opened here; {NO_BROWSER_ADVICE}")
        return opened.process
    target = container_url(where.container, page) if where.container else page
    try:
        return start([browser.path, *where.arguments, target])
    except OSError as error:
        raise ConfigError(
            f"the browser {browser.describe()} could not be started: {error.strerror}; "
            f"{NO_BROWSER_ADVICE}"
        ) from None


def _file_name(name: str) -> str:
    """A directory name for a context: readable, and distinct for distinct names."""
    readable = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:60]
    return f"{readable}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
