"""A long-running boto3 program on an assumed role whose credentials never go stale.

    python examples/boto3_script.py --role-arn arn:aws:iam::123456789012:role/dev \
        --source-profile base --every 60 --times 0

Every --every seconds it asks STS who it is and counts the S3 buckets it can see.
credproc.session() renews the token through credproc's cache whenever botocore finds it near
expiry, so the loop can run for days, and `aws --profile ...` on the same machine shares the
token instead of calling STS again.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import credproc


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role-arn", required=True)
    parser.add_argument("--source-profile", help="default: the environment's credentials")
    parser.add_argument("--region", help="the session's region")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between rounds")
    parser.add_argument("--times", type=int, default=1, help="rounds to run; 0: forever")
    args = parser.parse_args(argv)

    try:
        session = credproc.session(
            role_arn=args.role_arn, source_profile=args.source_profile, region_name=args.region
        )
    except credproc.CredprocError as error:  # bad options, no source credentials, denied...
        print(f"boto3_script: {error}", file=sys.stderr)
        return error.exit_code
    sts, s3 = session.client("sts"), session.client("s3")
    rounds = 0
    while True:
        who = sts.get_caller_identity()["Arn"]
        buckets = s3.list_buckets().get("Buckets", [])
        print(f"{who}: {len(buckets)} buckets", flush=True)
        rounds += 1
        if rounds == args.times:
            return 0
        time.sleep(args.every)


if __name__ == "__main__":
    sys.exit(main())
