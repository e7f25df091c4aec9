"""A stand-in credential process for ``credproc wrap``, counting its runs.

    python tests/support/fakeprocess.py DIR
    python tests/support/fakeprocess.py DIR -- COMMAND [ARG ...]

Each run appends its pid to ``DIR/runs`` (one line each, O_APPEND: runs at once never lose a
count) and then does what ``DIR/mode.json`` says, read at every run so a test can change it
between calls without changing the command line (which is the cache key):

    sleep: N        wait N seconds first (parallel callers arrive while it runs)
    prompt: true    ask "fake: password: " on the terminal (/dev/tty) and put the answer in
                    the secret key
    stderr: TEXT    write these lines to stderr first
    fail: N         exit N (after stderr)
    hang: true      never answer (a --timeout test)
    stubborn: true  ignore SIGTERM (it and its child: only SIGKILL ends them)
    child: true     leave a child (sleep) behind in the process group, its pid in DIR/child
    garbage: TEXT   print TEXT instead of credentials
    expiration: false   print no Expiration (long-lived keys)
    lifetime: N     Expiration N seconds from now (default 3600)
    token: false    print no SessionToken

With ``-- COMMAND``, the run is counted and then becomes COMMAND (a real credential process,
counted at the source).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path


def main() -> int:
    state = Path(sys.argv[1])
    with (state / "runs").open("a") as runs:
        runs.write(f"{os.getpid()}\n")
    if sys.argv[2:3] == ["--"]:
        os.execv(sys.argv[3], sys.argv[3:])  # noqa: S606 - the test's real command
    mode_file = state / "mode.json"
    mode = json.loads(mode_file.read_text()) if mode_file.exists() else {}
    if mode.get("stubborn"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # inherited by the child, across exec
    if mode.get("child"):
        child = subprocess.Popen(["sleep", "1000"])
        (state / "child").write_text(str(child.pid))
    if mode.get("stderr"):
        sys.stderr.write(mode["stderr"] + "\n")
        sys.stderr.flush()
    time.sleep(float(mode.get("sleep", 0)))
    if mode.get("hang"):
        while True:
            time.sleep(60)
    if mode.get("fail"):
        return int(mode["fail"])
    if "garbage" in mode:
        sys.stdout.write(mode["garbage"])
        return 0
    secret = "fake-secret-" + str(os.getpid())
    if mode.get("prompt"):
        with open("/dev/tty", "w") as writer, open("/dev/tty") as reader:
            writer.write("fake: password: ")
            writer.flush()
            secret = "fake-" + reader.readline().strip()
    count = len((state / "runs").read_text().splitlines())
    answer: dict[str, object] = {
        "Version": 1,
        "AccessKeyId": f"ASIAFAKE{count:012d}",
        "SecretAccessKey": secret,
        "SessionToken": f"fake-token-{count}",
    }
    if not mode.get("token", True):
        answer["AccessKeyId"] = f"AKIAFAKE{count:012d}"
        del answer["SessionToken"]
    if mode.get("expiration", True):
        lifetime = float(mode.get("lifetime", 3600))
        moment = datetime.now(timezone.utc) + timedelta(seconds=lifetime)
        answer["Expiration"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    sys.stdout.write(json.dumps(answer, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
