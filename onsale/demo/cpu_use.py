"""The CPU each part of the run spent over a stretch of the sale, read from the kernel's
per-process counters (psutil): the driver itself, and every process under the demo's
`onsale up` child, grouped into the parts they are (the gateway, each Ray actor class, Postgres,
Redis, the embedded Stripe, ...).

Two cores are shared by every part, so the split says which part's CPU bounds the pace; what
the machine's other processes used meanwhile (another run, a test suite) is shown beside it, as
it was not there for the demo. A process that ends between two readings is missing from the
second, and so from the split.
"""

import os

import msgspec
import psutil

DRIVER_PART = "driver"
GATEWAY_PART = "gateway"
RAY_SYSTEM_PART = "ray (raylet, gcs, dashboard)"
OTHER_PART = "other"
OUTSIDE_PART = "outside the demo (other processes on the machine)"
# Process names or command lines that say which part a process is, first match wins.
PART_OF_MARK: dict[str, str] = {
    "postgres": "postgres",
    "redis-server": "redis",
    "embedded.stripe_server": "localstripe",
    "embedded.smtp_sink": "smtp sink",
    "onsale.cli up": GATEWAY_PART,
    "raylet": RAY_SYSTEM_PART,
    "gcs_server": RAY_SYSTEM_PART,
    "ray/dashboard": RAY_SYSTEM_PART,
    "ray/_private": RAY_SYSTEM_PART,
    "ray/autoscaler": RAY_SYSTEM_PART,
}
RAY_WORKER_PREFIX = "ray::"
RAY_SYSTEM_WORKERS = frozenset({"DashboardAgent", "RuntimeEnvAgent", "IDLE"})


class CpuReading(msgspec.Struct, frozen=True, kw_only=True):
    """CPU seconds (user and system) each process had used, by pid, and each pid's part."""

    seconds_by_pid: dict[int, float]
    part_by_pid: dict[int, str]
    machine_busy_s: float


class PartCpu(msgspec.Struct, frozen=True, kw_only=True):
    part: str
    cpu_s: float
    share_of_machine: float


def part_of(name: str, command: str) -> str:
    """The part a process is, from its name (Ray names its workers `ray::Class.method`) or its
    command line."""
    title = command if command.startswith(RAY_WORKER_PREFIX) else name
    if title.startswith(RAY_WORKER_PREFIX):
        actor = title.removeprefix(RAY_WORKER_PREFIX).split(".")[0].strip()
        return RAY_SYSTEM_PART if actor in RAY_SYSTEM_WORKERS else f"ray {actor}"
    for mark, part in PART_OF_MARK.items():
        if mark in name or mark in command:
            return part
    return OTHER_PART


def read_cpu(system_pid: int | None) -> CpuReading:
    """What this process and every process under `system_pid` have used so far."""
    driver = psutil.Process(os.getpid())
    processes = [driver]
    if system_pid is not None:
        try:
            system = psutil.Process(system_pid)
            processes += [system, *system.children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
    seconds_by_pid: dict[int, float] = {}
    part_by_pid: dict[int, str] = {}
    for process in processes:
        try:
            with process.oneshot():
                times = process.cpu_times()
                name = process.name()
                command = " ".join(process.cmdline())
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        seconds_by_pid[process.pid] = times.user + times.system
        part_by_pid[process.pid] = DRIVER_PART if process is driver else part_of(name, command)
    machine = psutil.cpu_times()
    return CpuReading(
        seconds_by_pid=seconds_by_pid,
        part_by_pid=part_by_pid,
        machine_busy_s=sum(machine) - machine.idle - getattr(machine, "iowait", 0.0),
    )


def cpu_by_part(
    before: CpuReading, after: CpuReading, *, elapsed_s: float, cores: int
) -> list[PartCpu]:
    """Each part's CPU between two readings, and what the rest of the machine used, busiest
    first, with its share of every core."""
    used: dict[str, float] = {}
    for pid, seconds in after.seconds_by_pid.items():
        part = after.part_by_pid[pid]
        used[part] = used.get(part, 0.0) + seconds - before.seconds_by_pid.get(pid, 0.0)
    machine_s = after.machine_busy_s - before.machine_busy_s
    used[OUTSIDE_PART] = max(0.0, machine_s - sum(used.values()))
    capacity_s = max(elapsed_s * cores, 1e-9)
    return [
        PartCpu(part=part, cpu_s=seconds, share_of_machine=seconds / capacity_s)
        for part, seconds in sorted(used.items(), key=lambda item: -item[1])
    ]


class SaleCpu(msgspec.Struct, frozen=True, kw_only=True):
    """The CPU of every part over a stretch of the sale, and the driver's cost per request."""

    window_s: float
    requests: int
    parts: list[PartCpu]

    @property
    def driver_ms_per_request(self) -> float:
        driver_s = sum(part.cpu_s for part in self.parts if part.part == DRIVER_PART)
        return driver_s * 1_000 / self.requests if self.requests else 0.0


class CpuMeter:
    """Readings at the start of a stretch and at its end, with the requests sent between."""

    def __init__(self, system_pid: int | None, *, cores: int | None = None) -> None:
        self._system_pid = system_pid
        self._cores = cores or os.cpu_count() or 1
        self._start: tuple[float, int, CpuReading] | None = None

    def start(self, *, now: float, requests: int) -> None:
        self._start = (now, requests, read_cpu(self._system_pid))

    def stop(self, *, now: float, requests: int) -> SaleCpu:
        assert self._start is not None, "start the meter first"
        started, requests_before, before = self._start
        elapsed_s = now - started
        return SaleCpu(
            window_s=elapsed_s,
            requests=requests - requests_before,
            parts=cpu_by_part(
                before, read_cpu(self._system_pid), elapsed_s=elapsed_s, cores=self._cores
            ),
        )
