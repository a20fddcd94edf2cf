"""Stop or start the embedded chain of the `onsale up` running on a data directory, as an outage
drill: `python -m loadtests.embedded_chain stop|start [data dir]` (default `$ONSALE_DATA_DIR` or
`./var`).

`stop` kills the chain's actor for good and waits until it is gone; mints and NFT moves then fail
and are retried (as failed work once their quick attempts are spent). `start` brings it back from
its journal, with every NFT it held. It attaches to the running cluster as a Ray driver, with
Ray's token (~/.ray/auth_token) unless RAY_AUTH_MODE says otherwise, and as a node on the loopback
address, where the embedded cluster listens (onsale/cli.py); both must be set before Ray is
imported: hence a command of its own, run in a process of its own.
"""

import os
import pathlib
import sys
import time

STOP_TIMEOUT_S = 30.0
POLL_INTERVAL_S = 0.1
USAGE = "usage: python -m loadtests.embedded_chain stop|start [data dir]"


def main(arguments: list[str]) -> int:
    if not arguments or arguments[0] not in ("stop", "start") or len(arguments) > 2:
        print(USAGE, file=sys.stderr)
        return 2
    os.environ.setdefault("RAY_AUTH_MODE", "token")
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    from actors.names import NAMESPACE, local_chain_name
    from actors.remote import local_chain
    from embedded.runtime_file import read_runtime_file

    default = os.environ.get("ONSALE_DATA_DIR", "var")
    data_dir = pathlib.Path(arguments[1] if len(arguments) == 2 else default)
    parts = read_runtime_file(data_dir)
    name = local_chain_name(parts.solana_directory)
    ray.init(address=parts.ray_address, namespace=NAMESPACE, log_to_driver=False)
    try:
        if arguments[0] == "start":
            local_chain(parts.solana_directory)
            print(f"the chain {name} is running")
            return 0
        try:
            ray.kill(ray.get_actor(name, namespace=NAMESPACE), no_restart=True)
        except ValueError:
            print(f"the chain {name} was not running")
            return 0
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                ray.get_actor(name, namespace=NAMESPACE)
            except ValueError:
                print(f"the chain {name} is stopped")
                return 0
            time.sleep(POLL_INTERVAL_S)
        print(f"the chain {name} did not stop in {STOP_TIMEOUT_S:.0f} s", file=sys.stderr)
        return 1
    finally:
        ray.shutdown()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
