"""Finds the processes a CI run left behind: every process whose environment carries the run's mark
(ONSALE_CI_RUN, set by .ci/run and inherited by everything the run started: pytest, `onsale up`,
redis-server, Postgres, the Stripe server, the SMTP sink, Ray's raylet and gcs_server and workers),
other processes of the machine aside. It waits a grace period for those still on their way out,
prints what is left, ends it, and exits 1 when anything was left.

Run as `python .ci/leftover_processes.py <mark>`.
"""

import os
import pathlib
import signal
import sys
import time

MARK_VARIABLE = "ONSALE_CI_RUN"
GRACE_S = 30.0
POLL_S = 0.5
KILL_WAIT_S = 5.0
COMMAND_CHARACTERS_MAX = 200


def marked_processes(mark: str) -> dict[int, str]:
    """The pid and command line of every process but this one that carries the mark."""
    wanted = f"{MARK_VARIABLE}={mark}".encode()
    found = {}
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environment = (entry / "environ").read_bytes().split(b"\0")
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").strip()
        except OSError:
            continue
        if wanted in environment and command:
            found[int(entry.name)] = command.decode(errors="replace")[:COMMAND_CHARACTERS_MAX]
    return found


def main() -> int:
    mark = sys.argv[1]
    deadline = time.monotonic() + GRACE_S
    while (left := marked_processes(mark)) and time.monotonic() < deadline:
        time.sleep(POLL_S)
    if not left:
        print("== no process of this run is left")
        return 0
    print(f"== {len(left)} processes of this run are left after {GRACE_S:.0f} s:")
    for pid, command in sorted(left.items()):
        print(f"   {pid} {command}")
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
    time.sleep(KILL_WAIT_S)
    print("== they were killed")
    return 1


if __name__ == "__main__":
    sys.exit(main())
