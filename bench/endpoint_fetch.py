"""The bench's command under `credproc exec --server`, and its client of `credproc serve`: N
credential fetches from the endpoint.

Each fetch is what an SDK's container provider sends: a GET of the endpoint's URL with the
token in Authorization (read from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE each time, if set, as
the SDKs do), on a new loopback connection. Prints the seconds each took, as one
JSON list; exits non-zero if an answer is not credentials.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import time
from urllib.parse import urlsplit


def main() -> int:
    count = int(sys.argv[1])
    url = urlsplit(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
    token_file = os.environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
    seconds = []
    for _ in range(count):
        start = time.perf_counter()
        headers = {"Authorization": _token(token_file)}
        connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
        connection.request("GET", url.path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        connection.close()
        seconds.append(time.perf_counter() - start)
        if response.status != 200 or "AccessKeyId" not in json.loads(body):
            print(f"endpoint_fetch: HTTP {response.status}", file=sys.stderr)
            return 1
    print(json.dumps(seconds))
    return 0


def _token(token_file: str | None) -> str:
    """The token as the SDKs take it: the file, read again for each fetch, wins."""
    if token_file:
        with open(token_file) as file:
            return file.read()
    return os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]


if __name__ == "__main__":
    sys.exit(main())
