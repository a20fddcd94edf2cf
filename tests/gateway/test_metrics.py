"""Metrics in Prometheus' text format: the public port's /metrics names no tenant and no event;
the private metrics port serves every metric, and each live event's group-commit figures only
when event labels are enabled."""

import contextlib
import urllib.parse
from collections.abc import Callable, Iterator, Mapping

import httpx
from prometheus_client import CollectorRegistry, generate_latest

from actors.inventory_figures import PipelineStats
from gateway.metrics import PipelineCollector, serve_private_metrics
from tests.gateway.http_journeys import Fan, create_event
from tests.gateway.stack import Stack

STATS = PipelineStats(
    epoch=3,
    batches_committed=4,
    commands_decided=300,
    batch_size_max=128,
    commit_failures=1,
    rebuilds=1,
    rebuild_seconds_last=0.2,
    commit_seconds_total=0.05,
    commit_seconds_bounds=(0.001, 0.01),
    commit_seconds_buckets=(1, 2, 1),
    inbox_commands=7,
)


def scrape(latest: dict[str, PipelineStats]) -> list[str]:
    registry = CollectorRegistry()
    registry.register(PipelineCollector(lambda: latest))
    return generate_latest(registry).decode().splitlines()


def test_batch_size_and_commit_latency_are_shown_per_event_when_stats_are_known() -> None:
    lines = scrape({"event-1": STATS})

    assert 'onsale_inventory_batches_committed_total{event_id="event-1"} 4.0' in lines
    assert 'onsale_inventory_commands_decided_total{event_id="event-1"} 300.0' in lines
    assert 'onsale_inventory_batch_size_max{event_id="event-1"} 128.0' in lines
    assert 'onsale_inventory_commit_failures_total{event_id="event-1"} 1.0' in lines
    assert 'onsale_inventory_inbox_commands{event_id="event-1"} 7.0' in lines
    assert 'onsale_inventory_commit_seconds_bucket{event_id="event-1",le="0.001"} 1.0' in lines
    assert 'onsale_inventory_commit_seconds_bucket{event_id="event-1",le="0.01"} 3.0' in lines
    assert 'onsale_inventory_commit_seconds_bucket{event_id="event-1",le="+Inf"} 4.0' in lines
    assert 'onsale_inventory_commit_seconds_count{event_id="event-1"} 4.0' in lines
    assert 'onsale_inventory_commit_seconds_sum{event_id="event-1"} 0.05' in lines


def test_no_event_series_are_shown_when_no_event_is_live() -> None:
    assert not [line for line in scrape({}) if line.startswith("onsale_") and "{" in line]


@contextlib.contextmanager
def private_metrics(
    stack: Stack, read_pipeline: Callable[[], Mapping[str, PipelineStats]] | None
) -> Iterator[str]:
    """The private metrics port of the stack's process, served as `onsale up` serves it."""
    address = urllib.parse.urlsplit(stack.parts.metrics_url)
    assert address.hostname is not None and address.port is not None
    server = serve_private_metrics(address.hostname, address.port, read_pipeline=read_pipeline)
    try:
        yield f"{stack.parts.metrics_url}/metrics"
    finally:
        server.shutdown()
        server.server_close()


async def test_public_metrics_name_no_tenant_and_no_event_when_a_sale_is_live(
    stack: Stack,
) -> None:
    event = await create_event(stack, general_capacity=5)
    fan = Fan(stack, event)
    await fan.hold(1)
    async with stack.client() as client:
        metrics = (await client.get("/metrics")).text

    assert 'onsale_http_requests_total{method="POST",route="/v1/events/{event_id}/holds"' in metrics
    assert event.event_id not in metrics and str(fan.tenant_id) not in metrics
    assert "event_id=" not in metrics and "tenant" not in metrics


async def test_private_port_serves_every_metric_but_no_event_when_event_labels_are_off(
    stack: Stack,
) -> None:
    async with stack.client() as client:
        await client.get("/health")
        with private_metrics(stack, read_pipeline=None) as url:
            async with httpx.AsyncClient() as scraper:
                metrics = (await scraper.get(url)).text

    assert 'onsale_http_requests_total{method="GET",route="/health",status="200"}' in metrics
    assert "event_id=" not in metrics


async def test_private_port_shows_each_events_figures_when_event_labels_are_on(
    stack: Stack,
) -> None:
    with private_metrics(stack, read_pipeline=lambda: {"event-1": STATS}) as url:
        async with httpx.AsyncClient() as scraper:
            metrics = (await scraper.get(url)).text.splitlines()

    assert 'onsale_inventory_batch_size_max{event_id="event-1"} 128.0' in metrics
    assert 'onsale_inventory_commit_seconds_count{event_id="event-1"} 4.0' in metrics
    assert any(line.startswith("onsale_http_requests_total{") for line in metrics)
