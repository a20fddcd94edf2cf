"""The arguments of `onsale node`, apart from the command itself, so the command line can offer
them without importing Ray: `onsale up` must set Ray's loopback setting before Ray is imported."""

import argparse

from engine import limits

DEFAULT_HEAD_PORT = 6379


def add_node_arguments(parser: argparse.ArgumentParser) -> None:
    role = parser.add_mutually_exclusive_group(required=True)
    role.add_argument("--head", action="store_true", help="start the cluster's head here")
    role.add_argument("--join", metavar="HEAD_IP:PORT", help="join the cluster at this head")
    parser.add_argument(
        "--address",
        metavar="IP",
        help="this node's address, reachable by all (default: the one Ray finds)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_HEAD_PORT,
        help=f"the head's port (with --head; default {DEFAULT_HEAD_PORT})",
    )
    parser.add_argument(
        "--event-actors",
        type=int,
        default=limits.EVENT_ACTORS_PER_NODE_MAX,
        help="per-event actors this node may host "
        f"(default {limits.EVENT_ACTORS_PER_NODE_MAX}; 0 for a node that hosts none)",
    )
    parser.add_argument("--num-cpus", type=int, help="CPUs to offer (default: all of them)")
    parser.add_argument(
        "--background",
        action="store_true",
        help="start the node and return (on a gateway's machine, before `onsale up`)",
    )
    parser.add_argument(
        "--temp-dir", help="where the head keeps its sessions and logs (default: Ray's, /tmp/ray)"
    )
