"""The loopback interface every embedded part listens on, and a free port on it; a part bound to
loopback is reachable from this machine only, which is all the embedded default needs."""

import socket

LOOPBACK_ADDRESS = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK_ADDRESS, 0))
        return int(probe.getsockname()[1])
