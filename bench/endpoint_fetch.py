"""The bench's command under `credproc exec --server`: N credential fetches from the endpoint.

Each fetch is what an SDK's container provider sends: a GET of the endpoint's URL with the
token in Authorization, on a new loopback connection. Prints the seconds each took, as one
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
    headers = {"Authorization": os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]}
    seconds = []
    for _ in range(count):
        start = time.perf_counter()
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


if __name__ == "__main__":
    sys.exit(main())
