"""The Prometheus metrics of the gateway, registered once per process.

Whatever the default registry holds is served on the public port's /metrics as well, so it names
no tenant and no event (API.md, Operations). The private metrics port serves it too and, when
ONSALE_METRICS_EVENT_LABELS is on, each live event's group-commit figures, as the Supervisor last
collected them from the InventoryActors.
"""

import functools
import itertools
from collections.abc import Callable, Iterator, Mapping
from wsgiref.simple_server import WSGIServer

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, start_wsgi_server
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from actors.inventory_figures import PipelineStats
from engine.limits import METRIC_SERIES_CACHED_MAX

REQUESTS = Counter(
    "onsale_http_requests_total",
    "HTTP requests served, by route template, method and status.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "onsale_http_request_seconds",
    "HTTP request latency, by route template and method.",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
HOLD_OUTCOMES = Counter(
    "onsale_hold_outcomes_total",
    "Hold requests decided by the inventory, by outcome: placed or the API error code.",
    ["outcome"],
)


# Finding a series by its labels costs more than counting in it, so the hot ones are kept.
@functools.lru_cache(maxsize=METRIC_SERIES_CACHED_MAX)
def request_series(route: str, method: str, status: int) -> tuple[Counter, Histogram]:
    """The count and the latency series of one route, method and status."""
    return REQUESTS.labels(route, method, str(status)), REQUEST_SECONDS.labels(route, method)


@functools.lru_cache(maxsize=METRIC_SERIES_CACHED_MAX)
def hold_outcome_series(outcome: str) -> Counter:
    return HOLD_OUTCOMES.labels(outcome)


READINESS_FAILURES = Counter(
    "onsale_readiness_failures_total",
    "Readiness checks that found a dependency down, by dependency.",
    ["dependency"],
)


class PipelineCollector:
    """Renders each live event's pipeline figures, read at scrape time from `read_latest`."""

    def __init__(self, read_latest: Callable[[], Mapping[str, PipelineStats]]) -> None:
        self._read_latest = read_latest

    def collect(self) -> Iterator[Metric]:
        labels = ["event_id"]
        batches = CounterMetricFamily(
            "onsale_inventory_batches_committed", "Group commits of each event.", labels=labels
        )
        commands = CounterMetricFamily(
            "onsale_inventory_commands_decided", "Commands decided by each event.", labels=labels
        )
        failures = CounterMetricFamily(
            "onsale_inventory_commit_failures", "Group commits that failed.", labels=labels
        )
        batch_size = GaugeMetricFamily(
            "onsale_inventory_batch_size_max", "Largest batch of commands so far.", labels=labels
        )
        inbox = GaugeMetricFamily(
            "onsale_inventory_inbox_commands", "Commands waiting in the inbox.", labels=labels
        )
        commit_seconds = HistogramMetricFamily(
            "onsale_inventory_commit_seconds", "Latency of each group commit.", labels=labels
        )
        for event_id, stats in sorted(self._read_latest().items()):
            batches.add_metric([event_id], stats.batches_committed)
            commands.add_metric([event_id], stats.commands_decided)
            failures.add_metric([event_id], stats.commit_failures)
            batch_size.add_metric([event_id], stats.batch_size_max)
            inbox.add_metric([event_id], stats.inbox_commands)
            cumulative = list(itertools.accumulate(stats.commit_seconds_buckets))
            bounds = [str(bound) for bound in stats.commit_seconds_bounds] + ["+Inf"]
            commit_seconds.add_metric(
                [event_id],
                list(zip(bounds, cumulative, strict=True)),
                sum_value=stats.commit_seconds_total,
            )
        yield from (batches, commands, failures, batch_size, inbox, commit_seconds)


class PublicMetrics:
    """What the public port's /metrics shows, collected again for the private port."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def serve_private_metrics(
    host: str, port: int, *, read_pipeline: Callable[[], Mapping[str, PipelineStats]] | None
) -> WSGIServer:
    """Serve every metric of this process on `host:port` from a thread of its own, with each
    live event's figures when `read_pipeline` is given; the caller shuts the server down."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PublicMetrics())
    if read_pipeline is not None:
        registry.register(PipelineCollector(read_pipeline))
    server, _ = start_wsgi_server(port, addr=host, registry=registry)
    return server
