"""The secrets a test has seen, and every place they must not reach (tests/robustness)."""

from __future__ import annotations

from pathlib import Path

from support.constants import BASE_SECRET


class Secrets:
    """The secrets seen so far, and everything captured that must not contain them."""

    def __init__(self) -> None:
        self.known = {BASE_SECRET}
        self.captured: list[tuple[str, str]] = []  # (what, text)

    def learn(self, document: dict[str, object]) -> None:
        """The secrets of a credential_process or a container credentials document."""
        token = document.get("SessionToken", document.get("Token"))
        self.known |= {str(document["SecretAccessKey"]), str(token)}

    def learn_secret(self, secret: str) -> None:
        self.known.add(secret)

    def capture(self, what: str, text: str) -> None:
        self.captured.append((what, text))

    def leaks(self, text: str) -> list[str]:
        """Each secret, or a 16-character start or end of one, found in ``text``."""
        found = []
        for secret in self.known:
            for piece in (secret, secret[:16], secret[-16:]):
                if piece in text:
                    found.append(piece)
        return found

    def assert_none_leaked(self) -> None:
        assert len(self.known) > 1, "no assumed secret was learned: the test saw nothing"
        for what, text in self.captured:
            assert self.leaks(text) == [], f"a secret leaked into {what}"


def all_argv() -> str:
    """The command lines of every process on the machine, as `ps` would show them."""
    lines = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                lines.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
            except OSError:  # gone since the listing
                continue
    return "\n".join(lines)
