"""The variables `credproc env` and `credproc exec` set, and a shell script that prints them."""

from __future__ import annotations

ENV_NAMES = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
]
# sh: each variable's value on a line of its own, in ENV_NAMES' order.
PRINT_ENV = "".join(f'printf "%s\\n" "${name}"; ' for name in ENV_NAMES)


def expected_env(document: dict[str, object]) -> list[str]:
    """The variables' values for a credential_process document; eu-west-1 is base's region."""
    keys = ["AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"]
    return [str(document[key]) for key in keys] + ["eu-west-1", "eu-west-1"]
