"""The identities every sandbox knows, and where the programs under test live."""

from __future__ import annotations

import sys
from pathlib import Path

# The venv's bin: credproc, aws and python as a user would run them.
BIN = Path(sys.executable).parent
ROLE = "arn:aws:iam::123456789012:role/dev"
OTHER_ROLE = "arn:aws:iam::123456789012:role/other"
# The base profile's keys. Fake, but shaped like real keys; moto accepts any.
BASE_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
BASE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
MFA_SERIAL = "arn:aws:iam::123456789012:mfa/alice"
