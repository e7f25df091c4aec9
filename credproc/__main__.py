"""``credproc`` and ``python -m credproc``: a cache hit answered by ``core.hit``, anything else
by the CLI (``cli.main``), which is imported only then."""

from __future__ import annotations

import os
import sys

from .core import hit


def main() -> int:
    try:
        served = hit.serve(sys.argv[1:], os.environ)
    except Exception:  # noqa: BLE001 - any doubt is a miss: the CLI runs the whole algorithm
        served = False
    if served:
        return 0
    from .cli.main import main as cli  # noqa: PLC0415 - everything but a hit

    return cli()


if __name__ == "__main__":
    sys.exit(main())
