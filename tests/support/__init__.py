"""What the tests share, one copy each; nothing here is collected as a test.

constants    the sandbox's identities: ROLE, the base profile's keys, MFA_SERIAL, BIN
server       StsServer, the client of the moto wrapper, and the session fixture's start/stop
stsserver    the moto wrapper itself, a program (python tests/support/stsserver.py)
sandbox      Sandbox, an isolated user, and Result, what one run of a program gave
assertions   the contracts every run keeps: assert_fails, assert_warns
processes    wait_all, wait_for_calls, hold_lock, stopped_at: processes side by side, no sleeping
mfa          TokenCommand, an MFA token command that counts its runs
environment  the variables `env` and `exec` set, and how to read them back in a shell
hostile      reaching into the cache as an attacker, a crash or time would
killpoint    credproc frozen at a chosen point of a refresh, a program
tools        outside programs a test needs: found, skipped with a reason, or failed in CI
display      Xvfb for dialogs, and xdotool to find windows and type into them
endpoint     Served: `credproc exec --server` running endpoint_child, and its endpoint reached
             as an SDK reaches it
endpoint_child  the command it runs, a program: boto3 calls and signal reports, on request
leaks        Secrets, what a test has seen and where it must not show up; every process's argv
secretservice  a real Secret Service (gnome-keyring on a private D-Bus) for the OS keyring tests
sourcekeys   IAM users and their keys on the server, what credproc stored, secrets on disk
standin      StandIn: what every stand-in service on loopback shares (the server, counting,
             faults, the tests' controls, the browser sign-in); running() starts one
ssoserver    SsoStandIn: IAM Identity Center (OIDC + portal) on loopback in botocore's shapes,
             counted and disturbed per operation; running_sso() starts one
sso          an SSO setup in a sandbox: [sso-session corp] and SSO profiles, the token file, and
             the browsers a login opens (one that counts and follows, a headless Chromium)
health       what a long-lived process holds: open files, threads, memory, from /proc
"""
