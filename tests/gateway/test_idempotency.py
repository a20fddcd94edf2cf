"""The Idempotency-Key flow on the real Postgres and Redis: replays are byte-identical, a different
request conflicts, and the guarantee holds when Redis is flushed or down."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import msgspec
import pytest
import redis.asyncio as redis
from fastapi.responses import Response

from engine import limits
from gateway.errors import ApiError, ErrorCode
from gateway.idempotency import REPLAYED_HEADER, IdempotencyStore
from gateway.redis_circuit import RedisCircuit
from persistence.pool import create_pool, service_url
from tests.gateway.redis_clients import dead_redis_client, delete_keys, redis_client
from tests.persistence.pausable_proxy import pausable

__all__ = ["dead_redis_client", "redis_client"]

ROUTE = "POST /v1/events/e-1/holds"
BODY = b'{"items": [{"ticket_type_id": "t-1", "quantity": 2}]}'
REDIS_DOWN_CALL_BUDGET_S = 0.5
TENANT_ID = uuid.UUID("5b0e3c1a-7d2f-4e6b-9a8c-1f2e3d4c5b6a")
CALLER = f"{TENANT_ID}/fan-1"
STATEMENT_TIMEOUT_S = limits.REQUEST_STATEMENT_TIMEOUT_MS / 1_000
CONNECTION_WAIT_S = limits.REQUEST_CONNECTION_WAIT_MS / 1_000
# What a loaded machine may add to a bound; a bound, never a benchmark.
MARGIN_S = 2.0
KEY_FREED_TIMEOUT_S = 30.0
POLL_S = 0.1


class Producer:
    """A route's work: each call answers a new hold, so a second effect shows in the bytes."""

    def __init__(self, *, status: int = 201, error: BaseException | None = None) -> None:
        self.calls = 0
        self.status = status
        self.error = error

    async def __call__(self) -> Response:
        self.calls += 1
        if self.error is not None:
            raise self.error
        body = msgspec.json.encode({"hold_id": f"hold-{self.calls}", "status": "active"})
        return Response(content=body, status_code=self.status, media_type="application/json")


@pytest.fixture
def key_prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


@pytest.fixture
async def store(
    service_pool: asyncpg.Pool, redis_client: redis.Redis, key_prefix: str
) -> AsyncIterator[IdempotencyStore]:
    yield IdempotencyStore(service_pool, redis_client, key_prefix=key_prefix)
    await delete_keys(redis_client, key_prefix)


async def run(
    store: IdempotencyStore,
    produce: Producer,
    *,
    key: str | None = "key-1",
    body: bytes = BODY,
    route: str = ROUTE,
    tenant_id: uuid.UUID = TENANT_ID,
    caller: str = CALLER,
) -> Response:
    return await store.run(
        principal_tenant_id=tenant_id,
        caller=caller,
        key=key,
        method_and_path=route,
        body=body,
        produce=produce,
    )


async def test_first_response_is_replayed_byte_for_byte_when_the_same_request_comes_again(
    store: IdempotencyStore,
) -> None:
    produce = Producer(status=201)

    first = await run(store, produce)
    second = await run(store, produce)
    third = await run(store, produce)

    assert produce.calls == 1
    assert (second.status_code, second.body) == (first.status_code, first.body)
    assert (third.status_code, third.body) == (201, first.body)
    assert second.media_type == "application/json"
    assert REPLAYED_HEADER.lower() not in first.headers
    assert second.headers[REPLAYED_HEADER] == "true"


async def test_tenant_is_registered_when_its_first_key_is_claimed(
    store: IdempotencyStore, owner_connection: asyncpg.Connection
) -> None:
    tenant_id = uuid.uuid4()

    await run(store, Producer(), tenant_id=tenant_id, caller=f"{tenant_id}/fan-1")
    await run(store, Producer(), tenant_id=tenant_id, caller=f"{tenant_id}/fan-1", key="key-2")

    assert (
        await owner_connection.fetchval("SELECT count(*) FROM tenants WHERE id = $1", tenant_id)
        == 1
    )
    assert (
        await owner_connection.fetchval(
            "SELECT count(*) FROM idempotency_keys WHERE tenant_id = $1", tenant_id
        )
        == 2
    )


@pytest.mark.parametrize(
    "changed", [{"body": BODY + b" "}, {"route": "POST /v1/events/e-2/holds"}], ids=["body", "path"]
)
async def test_conflict_is_raised_when_the_same_key_comes_with_another_request(
    store: IdempotencyStore, changed: dict[str, object]
) -> None:
    produce = Producer()
    await run(store, produce)

    with pytest.raises(ApiError) as raised:
        await run(store, produce, **changed)  # type: ignore[arg-type]

    assert raised.value.code == ErrorCode.IDEMPOTENCY_CONFLICT
    assert raised.value.details == {"reason": "different_request"}
    assert produce.calls == 1


async def test_conflict_is_in_flight_when_the_same_request_arrives_while_the_first_runs(
    store: IdempotencyStore,
) -> None:
    started = asyncio.Event()
    finish = asyncio.Event()

    async def slow_produce() -> Response:
        started.set()
        await finish.wait()
        return Response(content=b'{"hold_id": "slow"}', status_code=201)

    first = asyncio.create_task(run(store, slow_produce))  # type: ignore[arg-type]
    await started.wait()
    with pytest.raises(ApiError) as raised:
        await run(store, Producer())
    finish.set()

    assert raised.value.code == ErrorCode.IDEMPOTENCY_CONFLICT
    assert raised.value.details == {"reason": "in_flight"}
    assert (await first).body == b'{"hold_id": "slow"}'


async def test_first_response_is_replayed_from_postgres_when_redis_was_flushed_between_calls(
    store: IdempotencyStore, redis_client: redis.Redis, key_prefix: str
) -> None:
    produce = Producer()
    first = await run(store, produce)
    await delete_keys(redis_client, key_prefix)

    second = await run(store, produce)
    await delete_keys(redis_client, key_prefix)
    with pytest.raises(ApiError) as raised:
        await run(store, produce, body=b"{}")

    assert produce.calls == 1
    assert (second.status_code, second.body) == (first.status_code, first.body)
    assert raised.value.code == ErrorCode.IDEMPOTENCY_CONFLICT


async def test_first_response_is_replayed_from_redis_when_postgres_is_not_asked(
    store: IdempotencyStore, redis_client: redis.Redis, key_prefix: str
) -> None:
    produce = Producer()
    first = await run(store, produce)
    # A pool that never connects: a replay that reached Postgres would raise UNAVAILABLE.
    unreachable_pool = await asyncpg.create_pool("postgresql://nobody@127.0.0.1:9/none", min_size=0)
    try:
        cached_store = IdempotencyStore(unreachable_pool, redis_client, key_prefix=key_prefix)
        second = await run(cached_store, produce)
    finally:
        await unreachable_pool.close()

    assert produce.calls == 1
    assert (second.status_code, second.body) == (first.status_code, first.body)


async def test_key_holds_and_calls_stay_fast_when_redis_is_unreachable(
    service_pool: asyncpg.Pool, dead_redis_client: redis.Redis
) -> None:
    store = IdempotencyStore(service_pool, dead_redis_client, circuit=RedisCircuit("test"))
    produce = Producer()

    timings: list[float] = []
    responses: list[Response] = []
    for _ in range(5):
        started_s = time.perf_counter()
        responses.append(await run(store, produce))
        timings.append(time.perf_counter() - started_s)
    with pytest.raises(ApiError) as raised:
        await run(store, produce, body=b"{}")

    assert produce.calls == 1
    assert {(response.status_code, bytes(response.body)) for response in responses} == {
        (201, bytes(responses[0].body))
    }
    assert raised.value.code == ErrorCode.IDEMPOTENCY_CONFLICT
    assert max(timings) < REDIS_DOWN_CALL_BUDGET_S, timings


@pytest.mark.parametrize(
    "error",
    [ApiError(ErrorCode.UNAVAILABLE), ApiError(ErrorCode.RATE_LIMITED), RuntimeError("bug")],
    ids=["unavailable", "rate_limited", "unexpected"],
)
async def test_key_is_released_so_a_retry_produces_when_the_first_attempt_changed_nothing(
    store: IdempotencyStore, owner_connection: asyncpg.Connection, error: BaseException
) -> None:
    failing = Producer(error=error)
    with pytest.raises(type(error)):
        await run(store, failing)
    left_after_failure = await owner_connection.fetchval("SELECT count(*) FROM idempotency_keys")

    retry = Producer()
    response = await run(store, retry)

    assert left_after_failure == 0
    assert retry.calls == 1
    assert response.status_code == 201


async def keys_left(owner_connection: asyncpg.Connection) -> int:
    count: int = await owner_connection.fetchval("SELECT count(*) FROM idempotency_keys")
    return count


async def test_key_is_freed_once_postgres_answers_again_when_it_stopped_as_the_attempt_failed(
    migrated_database_url: str,
    owner_connection: asyncpg.Connection,
    redis_client: redis.Redis,
    key_prefix: str,
) -> None:
    async with pausable(service_url(migrated_database_url)) as (postgres, url):
        pool = await create_pool(
            url,
            min_size=1,
            max_size=2,
            statement_timeout_s=STATEMENT_TIMEOUT_S,
            connection_wait_s=CONNECTION_WAIT_S,
        )
        store = IdempotencyStore(pool, redis_client, key_prefix=key_prefix)
        try:

            async def fails_as_postgres_stops() -> Response:
                postgres.pause()
                raise ApiError(ErrorCode.UNAVAILABLE)

            started_s = time.monotonic()
            with pytest.raises(ApiError):
                await run(store, fails_as_postgres_stops)  # type: ignore[arg-type]
            answered_after_s = time.monotonic() - started_s
            # Postgres stays away longer than the release's statement may wait for it.
            await asyncio.sleep(STATEMENT_TIMEOUT_S + CONNECTION_WAIT_S)
            held_while_away = await keys_left(owner_connection)
            postgres.resume()
            deadline_s = time.monotonic() + KEY_FREED_TIMEOUT_S
            # Postgres gives no signal to wait on: poll it
            while await keys_left(owner_connection) and time.monotonic() < deadline_s:  # noqa: ASYNC110
                await asyncio.sleep(POLL_S)
            retry = Producer()
            response = await run(store, retry)
        finally:
            await store.close()
            pool.terminate()

    assert answered_after_s <= limits.IDEMPOTENCY_RELEASE_WAIT_MS / 1_000 + MARGIN_S
    assert held_while_away == 1
    assert (response.status_code, retry.calls) == (201, 1)


async def test_key_is_released_when_produce_returns_a_server_error(
    store: IdempotencyStore,
) -> None:
    first = await run(store, Producer(status=503))
    retry = Producer(status=201)
    second = await run(store, retry)

    assert first.status_code == 503
    assert (second.status_code, retry.calls) == (201, 1)


async def test_client_error_is_kept_as_the_first_response_when_produce_raises_one(
    store: IdempotencyStore, redis_client: redis.Redis, key_prefix: str
) -> None:
    sold_out = Producer(error=ApiError(ErrorCode.SOLD_OUT, details={"available": 0}))

    first = await run(store, sold_out)
    await delete_keys(redis_client, key_prefix)
    second = await run(store, Producer())

    assert first.status_code == 409
    assert msgspec.json.decode(first.body)["error"]["code"] == "SOLD_OUT"
    assert (second.status_code, second.body) == (first.status_code, first.body)
    assert sold_out.calls == 1


async def test_produce_runs_every_time_when_no_key_is_sent(store: IdempotencyStore) -> None:
    produce = Producer()

    first = await run(store, produce, key=None)
    second = await run(store, produce, key=None)

    assert produce.calls == 2
    assert first.body != second.body


@pytest.mark.parametrize(
    "key",
    ["", "has space", "tab\tin", "k" * 256, "ключ", "line\n"],
    ids=["empty", "space", "tab", "too_long", "not_ascii", "newline"],
)
async def test_validation_error_names_the_header_when_the_key_is_malformed(
    store: IdempotencyStore, key: str
) -> None:
    produce = Producer()

    with pytest.raises(ApiError) as raised:
        await run(store, produce, key=key)

    assert raised.value.code == ErrorCode.VALIDATION_ERROR
    assert raised.value.details == {"header": "Idempotency-Key"}
    assert produce.calls == 0


async def test_longest_key_is_accepted_when_it_has_255_printable_characters(
    store: IdempotencyStore,
) -> None:
    key = "".join(chr(0x21 + index % 94) for index in range(255))

    response = await run(store, Producer(), key=key)

    assert response.status_code == 201


async def test_unavailable_and_nothing_runs_when_postgres_is_unreachable(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    unreachable_pool = await asyncpg.create_pool("postgresql://nobody@127.0.0.1:9/none", min_size=0)
    produce = Producer()
    try:
        store = IdempotencyStore(unreachable_pool, redis_client, key_prefix=key_prefix)
        with pytest.raises(ApiError) as raised:
            await run(store, produce)
    finally:
        await unreachable_pool.close()

    assert raised.value.code == ErrorCode.UNAVAILABLE
    assert produce.calls == 0


async def test_another_tenants_caller_never_sees_the_response_when_it_reuses_the_key(
    store: IdempotencyStore,
) -> None:
    tenant_a, tenant_b = uuid.uuid4(), uuid.uuid4()
    await run(store, Producer(), tenant_id=tenant_a, caller=f"{tenant_a}/fan-1")

    produce_b = Producer()
    response_b = await run(store, produce_b, tenant_id=tenant_b, caller=f"{tenant_b}/fan-1")

    assert produce_b.calls == 1
    assert response_b.status_code == 201


async def test_conflict_and_no_replay_when_another_tenant_sends_the_same_caller_and_key(
    store: IdempotencyStore, redis_client: redis.Redis, key_prefix: str
) -> None:
    tenant_a, tenant_b = uuid.uuid4(), uuid.uuid4()
    await run(store, Producer(), tenant_id=tenant_a, caller="shared-caller")
    produce_b = Producer()

    with pytest.raises(ApiError) as raised:
        await run(store, produce_b, tenant_id=tenant_b, caller="shared-caller")

    assert raised.value.code == ErrorCode.IDEMPOTENCY_CONFLICT
    assert produce_b.calls == 0
