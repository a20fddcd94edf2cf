"""The Prometheus metrics of the gateway, registered once per process and served at /metrics."""

from prometheus_client import Counter, Histogram

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
READINESS_FAILURES = Counter(
    "onsale_readiness_failures_total",
    "Readiness checks that found a dependency down, by dependency.",
    ["dependency"],
)
