"""credproc serve's pieces in-process: listen addresses and Host headers, the grants file and
the server's view of it, and the bounded request reader of the shared protocol."""

from __future__ import annotations

import http.client
import json
import os
import socket
import stat
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from credproc.core.credentials import Credentials
from credproc.endpoint import addresses, grants
from credproc.endpoint.protocol import MAX_REQUEST_BYTES, ProtocolHandler, ProtocolServer
from credproc.errors import ConfigError, UsageError


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    return {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("127.0.0.1:9911", "127.0.0.1", 9911),
        ("169.254.170.2:80", "169.254.170.2", 80),
        ("[fd00:ec2::23]:9911", "fd00:ec2::23", 9911),
        ("[::1]:1", "::1", 1),
    ],
)
def test_addresses_are_ip_literals_with_a_port(text: str, host: str, port: int) -> None:
    address = addresses.parse(text)
    assert (address.host, address.port) == (host, port)
    assert str(address) == text


@pytest.mark.parametrize(
    "text",
    ["localhost:9911", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "::1:80", "[1.2.3.4]:80",
     "999.1.1.1:80", "", "127.0.0.1:80\n"],
)  # fmt: skip
def test_anything_else_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="--listen"):
        addresses.parse(text)


@pytest.mark.parametrize(
    ("text", "public"),
    [
        ("127.0.0.1:1", False),
        ("169.254.170.2:1", False),
        ("172.17.0.1:1", False),
        ("192.168.1.2:1", False),
        ("[fd00:ec2::23]:1", False),
        ("[::1]:1", False),
        ("8.8.8.8:1", True),
        ("0.0.0.0:1", True),
        ("[::]:1", True),
        ("[2001:db8::1]:1", False),  # documentation range: Python counts it private
        ("[2a00:1450::1]:1", True),
    ],
)
def test_public_addresses_need_the_flag(text: str, public: bool) -> None:
    address = addresses.parse(text)
    assert addresses.is_public(address) is public
    if public:
        with pytest.raises(UsageError, match="--allow-public"):
            addresses.check_listen([address], allow_public=False)
    addresses.check_listen([address], allow_public=True)


def test_the_same_address_twice_is_refused() -> None:
    twice = [addresses.parse("127.0.0.1:1"), addresses.parse("127.0.0.1:1")]
    with pytest.raises(UsageError, match="twice"):
        addresses.check_listen(twice, allow_public=False)


@pytest.mark.parametrize(
    ("header", "allowed"),
    [
        ("169.254.170.2:9911", True),
        ("127.0.0.1", True),
        ("[::1]:9911", True),
        ("localhost:9911", True),
        ("LOCALHOST", True),
        ("evil.example:9911", False),
        ("evil.example", False),
        ("", False),
        (None, False),
        ("127.0.0.1:9911 evil", False),
        ("1.2.3.4.nip.io", False),
    ],
)
def test_host_headers_must_not_be_names(header: str | None, allowed: bool) -> None:
    assert addresses.host_allowed(header) is allowed


def test_a_grant_keeps_only_the_tokens_hash_and_the_token_file_is_private(
    environ: dict[str, str],
) -> None:
    grant, path = grants.add(environ, ["dev", "prod"], "ci", None)
    token = Path(path).read_text()
    assert len(token) >= 43
    assert "\n" not in token
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    where = grants.grants_path(environ)
    assert stat.S_IMODE(os.stat(where).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(where)).st_mode) == 0o700
    text = Path(where).read_text()
    assert token not in text
    assert grants.digest(token) in text
    assert grants.load(where) == (grant,)

    book = grants.GrantBook(where)
    assert book.check([token], "dev") == (0, "ci")
    assert book.check([token], "prod") == (0, "ci")
    assert book.check([token], "other")[0] == 403
    assert book.check([], "dev")[0] == 401
    assert book.check([" "], "dev")[0] == 401
    assert book.check([token, token], "dev")[0] == 403
    assert book.check([token[:-1]], "dev")[0] == 403

    # Revoked: the next check, without a reload, refuses it.
    found, removed = grants.revoke(environ, "ci")
    assert found == grant
    assert removed
    assert not os.path.exists(path)
    assert book.check([token], "dev") == (403, "unknown or revoked token")


def test_names_must_be_unique_and_token_files_new(environ: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "t"
    grants.add(environ, ["dev"], "dev", str(out))
    with pytest.raises(UsageError, match="exists"):
        grants.add(environ, ["dev"], "dev", None)
    with pytest.raises(UsageError, match="never over one"):
        grants.add(environ, ["dev"], "other", str(out))
    with pytest.raises(UsageError, match="grant name"):
        grants.add(environ, ["dev"], "a b", None)
    with pytest.raises(UsageError, match="no grant named"):
        grants.revoke(environ, "nope")


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b"[]", b'{"format": 2, "grants": []}', b'{"format": 1}',
     b'{"format": 1, "grants": [{"name": "x"}]}',
     b'{"format": 1, "grants": [{"name": "x", "profiles": [], "token_sha256": "00", '
     b'"token_file": "/t", "created": "now"}]}'],
)  # fmt: skip
def test_a_malformed_grants_file_is_a_config_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "grants.json"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match="not a credproc grants file"):
        grants.load(str(path))


def test_a_grants_file_broken_while_serving_refuses_every_token(environ: dict[str, str]) -> None:
    _, path = grants.add(environ, ["dev"], "dev", None)
    token = Path(path).read_text()
    where = grants.grants_path(environ)
    book = grants.GrantBook(where)
    assert book.check([token], "dev")[0] == 0
    good = Path(where).read_bytes()
    Path(where).write_bytes(b"garbage")
    assert book.check([token], "dev") == (403, "the grants file is broken")
    with pytest.raises(ConfigError):
        book.reload()
    Path(where).write_bytes(good)
    assert book.reload() == 1
    assert book.check([token], "dev")[0] == 0


class _Echo(ProtocolHandler):
    def answer(self) -> None:
        expiration = datetime.now(timezone.utc) + timedelta(hours=1)
        credentials = Credentials("ASIAKEY", "secret", "token", expiration.replace(microsecond=0))
        self.send_credentials(lambda: credentials, lambda message: None)


@pytest.fixture
def echo() -> Iterator[ProtocolServer]:
    import threading  # noqa: PLC0415

    server = ProtocolServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_protocol_answers_a_request_and_refuses_an_oversized_one(
    echo: ProtocolServer,
) -> None:
    port = echo.server_address[1]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/anything")
    response = connection.getresponse()
    assert response.status == 200
    assert json.loads(response.read())["Token"] == "token"
    connection.close()

    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(b"GET / HTTP/1.1\r\nX: " + b"x" * MAX_REQUEST_BYTES + b"\r\n\r\n")
        started = time.monotonic()
        answer = raw.recv(200)
    assert answer.startswith(b"HTTP/1.0 431 ")
    assert time.monotonic() - started < 5
