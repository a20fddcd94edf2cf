"""Minting tests run on the real Token-2022 program in LiteSVM and on real Postgres: each test gets
its own chain directory, its own database and the persistence fixtures' service pool."""

import pathlib
from collections.abc import Iterator

import pytest
from solders.keypair import Keypair

from minting.custody import Custody
from minting.local_chain import LocalChain
from tests.conftest import private_directory
from tests.persistence.conftest import migrated_database_url, owner_connection, service_pool

__all__ = ["migrated_database_url", "owner_connection", "service_pool"]

CUSTODY_SEED = "custody seed of the minting tests, long enough"


@pytest.fixture
def chain_directory() -> Iterator[pathlib.Path]:
    with private_directory("onsale-test-chain-") as directory:
        yield directory


@pytest.fixture
def local_chain(chain_directory: pathlib.Path) -> LocalChain:
    return LocalChain(str(chain_directory))


@pytest.fixture
def custody() -> Custody:
    return Custody(CUSTODY_SEED)


@pytest.fixture
def authority() -> Keypair:
    return Keypair()
