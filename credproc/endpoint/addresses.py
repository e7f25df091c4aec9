"""Where ``credproc serve`` listens, and which Host headers it answers.

An address is an IP literal and a port (``127.0.0.1:9911``, ``169.254.170.2:80``,
``[fd00:ec2::23]:9911``), never a name: a name is looked up, and may mean another machine
tomorrow. Loopback, link-local (``169.254.170.2``, ``fe80::``) and private addresses (a docker
bridge's gateway, ``fd00:ec2::23``) are reachable from this machine and its containers only; a
public address, or every address at once (``0.0.0.0``, ``::``), lets anyone on the network
knock, so it takes ``--allow-public``.

The SDKs take plain http only on loopback, ``169.254.170.2``, ``169.254.170.23`` and
``fd00:ec2::23`` (botocore's ``ContainerProvider``; the JS, Java and Rust SDKs check the same),
so those are what ``serve env`` points containers at.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import NamedTuple

from ..config.syntax import DEFAULT_SERVE_ADDRESS
from ..errors import UsageError

DEFAULT_PORT = int(DEFAULT_SERVE_ADDRESS.rsplit(":", 1)[1])
_FORM = re.compile(r"(?:\[(?P<v6>[^\]]+)\]|(?P<v4>[0-9.]+)):(?P<port>[0-9]{1,5})", re.ASCII)
_HOST = re.compile(r"(?:\[(?P<v6>[^\]]+)\]|(?P<plain>[^:\[\]]+))(?::[0-9]{1,5})?", re.ASCII)
# Host names a browser page cannot make resolve to this machine at will.
_LOCAL_NAMES = frozenset({"localhost"})


class Address(NamedTuple):
    host: str
    port: int
    family: socket.AddressFamily

    def __str__(self) -> str:
        return (
            f"[{self.host}]:{self.port}"
            if self.family == socket.AF_INET6
            else (f"{self.host}:{self.port}")
        )

    @property
    def ip(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        return ipaddress.ip_address(self.host)


def parse(text: str, *, option: str = "--listen") -> Address:
    """``ADDRESS:PORT`` as an Address; UsageError, in one line, for anything else."""
    match = _FORM.fullmatch(text)
    if not match:
        raise UsageError(
            f"{option} {text[:70]!r} is not ADDRESS:PORT with an IP address (127.0.0.1:"
            f"{DEFAULT_PORT}, 169.254.170.2:80, [fd00:ec2::23]:{DEFAULT_PORT})"
        )
    host = match["v6"] or match["v4"]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise UsageError(f"{option} {text[:70]!r}: {host!r} is not an IP address") from None
    if (ip.version == 6) != bool(match["v6"]):
        raise UsageError(f"{option} {text[:70]!r}: an IPv6 address in brackets, IPv4 without")
    port = int(match["port"])
    if not 1 <= port <= 65535:
        raise UsageError(f"{option} {text[:70]!r}: the port must be 1..65535")
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return Address(str(ip), port, family)


def is_public(address: Address) -> bool:
    """Whether others on the network could reach it: not loopback, link-local or private,
    or every address at once."""
    ip = address.ip
    if ip.is_unspecified:
        return True
    return not (ip.is_loopback or ip.is_link_local or ip.is_private)


def check_listen(addresses: list[Address], allow_public: bool) -> None:
    """UsageError for a public address without ``--allow-public``, or one given twice."""
    for address in addresses:
        if is_public(address) and not allow_public:
            what = "every address" if address.ip.is_unspecified else "a public address"
            raise UsageError(
                f"--listen {address} is {what}: anyone who can reach it can try tokens; "
                "listen on loopback, a bridge's or 169.254.170.2, or pass --allow-public"
            )
    if len(set(addresses)) != len(addresses):
        raise UsageError("--listen names the same address twice")


def host_allowed(header: str | None) -> bool:
    """Whether a Host header may be answered: an IP literal or localhost, with or without a
    port. A name would be a page's own (DNS rebinding: a site whose name now resolves to
    this machine, read by a browser here), so it gets nothing, not even /health."""
    if not header:
        return False
    match = _HOST.fullmatch(header.strip())
    if not match:
        return False
    host = match["v6"] or match["plain"] or ""
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True
