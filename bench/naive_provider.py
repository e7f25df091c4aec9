"""The baseline: a credential_process script as people write it by hand.

It calls AssumeRole on every run and caches nothing, so every `aws` command and every process of
a parallel job costs one STS call. Usage: naive_provider.py ROLE_ARN SOURCE_PROFILE
"""

from __future__ import annotations

import argparse
import json

import boto3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("role_arn")
    parser.add_argument("source_profile")
    args = parser.parse_args()

    sts = boto3.Session(profile_name=args.source_profile).client("sts")
    creds = sts.assume_role(RoleArn=args.role_arn, RoleSessionName="naive")["Credentials"]
    print(
        json.dumps(
            {
                "Version": 1,
                "AccessKeyId": creds["AccessKeyId"],
                "SecretAccessKey": creds["SecretAccessKey"],
                "SessionToken": creds["SessionToken"],
                "Expiration": creds["Expiration"].strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
    )


if __name__ == "__main__":
    main()
