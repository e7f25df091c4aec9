"""``credproc`` and ``python -m credproc``: a cache hit answered by ``core.hit`` (a warm ``env``
or ``exec`` by ``core.warm``), anything else by the CLI (``cli.main``), imported only then."""

from __future__ import annotations

import os
import sys

from .core import hit


def main() -> int:
    argv = sys.argv[1:]
    try:
        if argv[:1] and argv[0] in hit.WARM_COMMANDS:
            from .core import warm  # noqa: PLC0415 - env and exec only

            served = warm.serve(argv, os.environ)
        else:
            served = hit.serve(argv, os.environ)
    except Exception:  # noqa: BLE001 - any doubt is a miss: the CLI runs the whole algorithm
        served = False
    if served:
        return 0
    from .cli.main import main as cli  # noqa: PLC0415 - everything but a hit

    return cli()


if __name__ == "__main__":
    sys.exit(main())
