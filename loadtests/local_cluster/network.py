"""A second host on this machine: a network namespace joined to ours by a veth pair, each end with
an address of a small private network, so a process inside reaches ours only by address."""

import os
import signal
import subprocess

import msgspec

IP = "/usr/sbin/ip"


def ip(*arguments: str) -> str:
    return subprocess.run([IP, *arguments], check=True, capture_output=True, text=True).stdout


class NodeNetwork(msgspec.Struct, frozen=True, kw_only=True):
    """The namespace `name`, at `node_address`; this machine's end at `host_address`."""

    name: str
    host_address: str
    node_address: str

    @classmethod
    def for_process(cls) -> "NodeNetwork":
        """Names and addresses of this process's own, so two runs never share them."""
        pid = os.getpid()
        return cls(
            name=f"onsale-node-{pid}",
            host_address=f"10.{200 + pid % 50}.{pid // 50 % 250}.1",
            node_address=f"10.{200 + pid % 50}.{pid // 50 % 250}.2",
        )

    @property
    def host_link(self) -> str:
        return f"osh{os.getpid() % 10_000_000}"

    @property
    def node_link(self) -> str:
        return f"osn{os.getpid() % 10_000_000}"

    def create(self) -> None:
        ip("netns", "add", self.name)
        ip("link", "add", self.host_link, "type", "veth", "peer", "name", self.node_link)
        ip("link", "set", self.node_link, "netns", self.name)
        ip("addr", "add", f"{self.host_address}/24", "dev", self.host_link)
        ip("link", "set", self.host_link, "up")
        inside = ("netns", "exec", self.name, IP)
        ip(*inside, "addr", "add", f"{self.node_address}/24", "dev", self.node_link)
        ip(*inside, "link", "set", self.node_link, "up")
        ip(*inside, "link", "set", "lo", "up")

    def command_inside(self, command: list[str]) -> list[str]:
        return [IP, "netns", "exec", self.name, *command]

    def kill_everything_inside(self) -> list[int]:
        """`kill -9` of every process in the namespace, as the death of its host would; their
        pids."""
        pids = [int(pid) for pid in ip("netns", "pids", self.name).split()]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
        return pids

    def delete(self) -> None:
        self.kill_everything_inside()
        subprocess.run([IP, "link", "del", self.host_link], capture_output=True, check=False)
        subprocess.run([IP, "netns", "del", self.name], capture_output=True, check=False)
