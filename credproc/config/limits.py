"""AWS's own limits on what credproc sends it, in one place: STS, IAM and the console's
sign-in service. ``validate`` checks values against them, the option table shows them in help,
and the fetch step and the commands that talk to AWS use them; each number is the service's
documented bound, so a value that breaks one fails locally instead of costing a call.
"""

from __future__ import annotations

# AssumeRole's DurationSeconds (at most the role's own maximum, which STS checks).
ROLE_DURATION = (900, 43200)
# AWS caps a session assumed from another role's session at one hour.
CHAINED_MAX_DURATION = 3600
# GetSessionToken's DurationSeconds for an IAM user.
MFA_DURATION = (900, 129600)
# RoleSessionName and SourceIdentity; ExternalId (characters).
SESSION_NAME_LENGTH = (2, 64)
EXTERNAL_ID_LENGTH = (2, 1224)
# An inline session policy, packed (characters); managed policy ARNs and session tags per call.
MAX_POLICY_CHARS = 2048
MAX_POLICY_ARNS = 10
MAX_TAGS = 50
TAG_KEY_LENGTH = (1, 128)
TAG_VALUE_LENGTH = (0, 256)
# IAM: a role's path (characters), and access keys per IAM user.
MAX_ROLE_PATH = 512
IAM_KEY_LIMIT = 2
# AssumeRoleWithWebIdentity's WebIdentityToken (characters).
WEB_IDENTITY_TOKEN_LENGTH = (4, 20000)
# The console sign-in service's SessionDuration, in seconds.
CONSOLE_SECONDS = (900, 43200)
# credproc wrap's --max-age: an answer without Expiration is kept at most as long as STS's
# longest token (GetSessionToken's), the longest the cache serves; and its --timeout.
MAX_AGE = (60, MFA_DURATION[1])
WRAP_TIMEOUT = (1, 3600)


def span(bounds: tuple[int, int]) -> str:
    """Bounds as messages write them: '2-64'."""
    return f"{bounds[0]}-{bounds[1]}"
