"""A program inside the test's "container" namespace (support/netns.py), a client of credproc
serve as the SDKs are: the URL from AWS_CONTAINER_CREDENTIALS_FULL_URI, the token re-read
from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE for each fetch. One JSON document per line.

    identity            boto3's default chain, then STS GetCallerIdentity: {"arn", "key"}
    fetch [HOST]        one GET (with that Host header): {"status", "body", "seconds"}
    soak SECONDS PAUSE  GET after GET for SECONDS: {"fetches", "failures", "keys", "errors"}
    watch PAUSE         botocore's ContainerProvider every PAUSE s, a line each, until killed
    flood N             N connections held open, then a fetch: {"held", "status"}
    big                 a 64 KiB header, then a fetch: {"big", "status"}
    slow                a request that never ends, fetches meanwhile: {"closed_after", "ok"}
"""

from __future__ import annotations

import http.client
import json
import os
import resource
import socket
import sys
import time
from typing import Any
from urllib.parse import urlsplit

URL = urlsplit(os.environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/"))


def say(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(document) + "\n")
    sys.stdout.flush()


def token() -> str | None:
    path = os.environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
    if not path:
        return None
    with open(path) as file:
        return file.read()


def fetch(host: str | None = None) -> tuple[int, str]:
    connection = http.client.HTTPConnection(URL.hostname or "", URL.port, timeout=10)
    try:
        connection.putrequest("GET", URL.path, skip_host=host is not None)
        if host is not None:
            connection.putheader("Host", host)
        given = token()
        if given is not None:
            connection.putheader("Authorization", given)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def identity() -> None:
    import boto3  # noqa: PLC0415 - only this mode needs it

    session = boto3.Session()
    try:
        arn = session.client("sts").get_caller_identity()["Arn"]
    except Exception as error:  # noqa: BLE001 - reported to the test
        say({"error": f"{type(error).__name__}: {error}"})
        return
    credentials = session.get_credentials()
    say({"arn": arn, "key": credentials.access_key if credentials else None})


def soak(seconds: float, pause: float) -> None:
    end = time.monotonic() + seconds
    fetches, failures, keys, errors = 0, 0, set(), []
    while time.monotonic() < end:
        fetches += 1
        try:
            status, body = fetch()
        except OSError as error:
            status, body = 0, str(error)
        document = json.loads(body) if status else {}
        if status == 200 and document.get("Token"):
            keys.add(document["AccessKeyId"])
        else:
            failures += 1
            errors.append(f"{status} {body[:200]}")
        time.sleep(pause)
    say({"fetches": fetches, "failures": failures, "keys": sorted(keys), "errors": errors[:5]})


def watch(pause: float) -> None:
    from botocore.credentials import ContainerProvider  # noqa: PLC0415 - this mode's

    while True:
        try:
            loaded = ContainerProvider().load()
            key = loaded.get_frozen_credentials().access_key if loaded else None
            say({"ok": key is not None, "key": key})
        except Exception as error:  # noqa: BLE001 - the test waits for failures too
            say({"ok": False, "error": type(error).__name__})
        time.sleep(pause)


def _connect() -> socket.socket:
    return socket.create_connection((URL.hostname or "", URL.port or 80), timeout=30)


def flood(count: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, count + 256)), hard))
    held = []
    for _ in range(count):
        connection = _connect()
        connection.sendall(b"GET " + URL.path.encode())  # and never the rest
        held.append(connection)
    status, _ = fetch()
    still_open = sum(1 for connection in held if _open(connection))
    for connection in held:
        connection.close()
    say({"held": still_open, "status": status})


def _open(connection: socket.socket) -> bool:
    connection.setblocking(False)
    try:
        return connection.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def big() -> None:
    connection = _connect()
    request = f"GET {URL.path} HTTP/1.1\r\nHost: {URL.netloc}\r\nX-Big: {'x' * 65536}\r\n\r\n"
    answer = b""
    try:
        connection.sendall(request.encode())
        while chunk := connection.recv(4096):
            answer += chunk
    except OSError:
        pass  # the server may close while we still send
    connection.close()
    status, _ = fetch()
    say({"big": answer.split(b"\r\n", 1)[0].decode(), "status": status})


def slow() -> None:
    connection = _connect()
    started = time.monotonic()
    connection.sendall(b"GET ")
    ok = 0
    connection.settimeout(0.5)
    while time.monotonic() - started < 60:
        try:
            if connection.recv(1) == b"":
                break
        except TimeoutError:
            pass
        except OSError:
            break
        try:
            connection.sendall(b"x")  # a byte at a time, each well inside any read timeout
        except OSError:
            break
        ok += fetch()[0] == 200
    say({"closed_after": time.monotonic() - started, "ok": ok})


def main() -> None:
    mode, *args = sys.argv[1:]
    if mode == "identity":
        identity()
    elif mode == "fetch":
        started = time.monotonic()
        status, body = fetch(args[0] if args else None)
        say({"status": status, "body": json.loads(body), "seconds": time.monotonic() - started})
    elif mode == "soak":
        soak(float(args[0]), float(args[1]))
    elif mode == "watch":
        watch(float(args[0]))
    elif mode == "flood":
        flood(int(args[0]))
    elif mode == "big":
        big()
    elif mode == "slow":
        slow()
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
