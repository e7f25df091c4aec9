"""credproc: assumed-role credentials for every AWS client, cached on disk under a lock.

The command line is the main interface (``credproc --help``). From Python::

    import credproc
    s3 = credproc.session(role_arn="arn:aws:iam::123456789012:role/dev",
                          source_profile="base").client("s3")
"""

from __future__ import annotations

__version__ = "0.1.0"
