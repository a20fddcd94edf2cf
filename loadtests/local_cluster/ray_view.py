"""What the cluster's control plane says, read by a short-lived driver in a process of its own
(so the caller stays out of Ray): each node's address and whether it is alive, and the address of
the node each live named actor runs on. Prints it as JSON: `python -m
loadtests.local_cluster.ray_view HEAD_IP:PORT`."""

import logging
import sys

import msgspec
import ray
from ray._private import state


class ClusterView(msgspec.Struct, frozen=True, kw_only=True):
    nodes: dict[str, bool]
    actors: dict[str, str]


def read_view(address: str) -> ClusterView:
    ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
    try:
        # Ray leaves nodes() untyped: a list of dicts describing each node.
        listed: list[dict[str, object]] = ray.nodes()  # type: ignore[no-untyped-call]
        nodes = {str(node["NodeManagerAddress"]): bool(node["Alive"]) for node in listed}
        actors = {
            str(info["Name"]): str(info["Address"]["IPAddress"])
            for info in state.actors().values()
            if info.get("Name") and info.get("State") == "ALIVE"
        }
    finally:
        ray.shutdown()
    return ClusterView(nodes=nodes, actors=actors)


if __name__ == "__main__":
    sys.stdout.buffer.write(msgspec.json.encode(read_view(sys.argv[1])))
