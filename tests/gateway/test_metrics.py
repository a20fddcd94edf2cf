"""/metrics shows each live event's group-commit figures in Prometheus' text format."""

from prometheus_client import CollectorRegistry, generate_latest

from actors.clients import PipelineStats
from gateway.metrics import PipelineCollector

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
    collector = PipelineCollector()
    collector.latest = latest
    registry.register(collector)
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
