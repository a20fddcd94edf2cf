"""One local cluster for the module's tests: two Ray nodes, two gateways and HAProxy, on this
machine's Postgres and Redis services whatever the suite's mode (see loadtests.local_cluster)."""

from collections.abc import Iterator

import pytest

from loadtests.local_cluster.cluster import LocalCluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    running = LocalCluster()
    try:
        running.start()
        yield running
    finally:
        running.end()
