"""Actors log JSON naming their actor and event: the fields each line gets, and a real
InventoryActor's line read back from its worker's stderr file in the session's log directory,
where an operator finds it."""

import asyncio
import importlib
import logging
import pathlib
import sys
import time
import uuid

import msgspec
import pytest
import ray

from actors.inventory_client import InventoryClient
from actors.json_logs import JsonFormatter
from actors.names import (
    NAMESPACE,
    SUPERVISOR_NAME,
    inventory_actor_name,
    mint_worker_name,
    waiting_room_actor_name,
)
from actors.worker_logs import (
    LOG_LEVEL_VARIABLE,
    ActorContext,
    actor_fields,
    configure_worker_logging,
    worker_logging_runtime_env,
)
from engine.commands import ItemRequest, PlaceHold
from engine.outcomes import HoldView
from loadtests.seeding import event_on_sale_now, seed_event
from persistence.pool import service_url

EVENT_ID = "6f9b1f7e-3c1a-4f4e-9a57-1d2c3b4a5f60"
LOG_LINE_WAIT_S = 30.0


def formatted(formatter: JsonFormatter, message: str, **extra: object) -> dict[str, object]:
    record = logging.makeLogRecord(
        {"name": "actors.inventory_actor", "levelno": logging.WARNING, "levelname": "WARNING"}
        | {"msg": message}
        | extra
    )
    decoded: dict[str, object] = msgspec.json.decode(formatter.format(record))
    return decoded


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        (inventory_actor_name(EVENT_ID), {"event_id": EVENT_ID}),
        (waiting_room_actor_name(EVENT_ID), {"event_id": EVENT_ID}),
        (SUPERVISOR_NAME, {}),
        (mint_worker_name("postgresql://db/onsale", 2), {}),
    ],
    ids=["inventory", "waiting room", "supervisor", "mint worker"],
)
def test_every_line_names_the_actor_and_its_event_when_it_has_one(
    name: str, fields: dict[str, object]
) -> None:
    assert actor_fields(name) == {"actor": name} | fields


def test_actor_is_named_from_its_first_line_after_ray_gave_it_one() -> None:
    names = iter([None, inventory_actor_name(EVENT_ID)])
    asked = []

    def actor_name() -> str | None:
        asked.append(True)
        return next(names)

    formatter = JsonFormatter(ActorContext(actor_name))
    before = formatted(formatter, "importing")
    after = [formatted(formatter, "group commit failed", error="boom") for _ in range(3)]

    assert "actor" not in before and "event_id" not in before
    assert [
        {key: line[key] for key in ("level", "message", "actor", "event_id", "error")}
        for line in after
    ] == [
        {
            "level": "warning",
            "message": "group commit failed",
            "actor": inventory_actor_name(EVENT_ID),
            "event_id": EVENT_ID,
            "error": "boom",
        }
    ] * 3
    assert len(asked) == 2


def test_job_runs_the_setup_hook_by_its_import_path_at_the_gateways_level() -> None:
    runtime_env = worker_logging_runtime_env("DEBUG", PYTHONPATH="/srv/onsale")
    module, _, function = str(runtime_env["worker_process_setup_hook"]).rpartition(".")

    assert getattr(importlib.import_module(module), function) is configure_worker_logging
    assert runtime_env["env_vars"] == {"PYTHONPATH": "/srv/onsale", LOG_LEVEL_VARIABLE: "DEBUG"}


def session_log_directory() -> pathlib.Path:
    context = ray.get_runtime_context()
    return pathlib.Path(context.get_temp_dir()) / context.get_session_name() / "logs"


def logged_lines(directory: pathlib.Path) -> list[dict[str, object]]:
    """Every JSON line of the workers' stderr files; Ray writes its own markers among them."""
    lines = []
    for path in directory.glob("worker-*.err"):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                lines.append(msgspec.json.decode(line))
    return lines


async def line_of(actor: str, message: str) -> dict[str, object]:
    directory = session_log_directory()
    deadline = time.monotonic() + LOG_LINE_WAIT_S
    while time.monotonic() < deadline:
        found = [
            line
            for line in await asyncio.to_thread(logged_lines, directory)
            if line.get("actor") == actor and line.get("message") == message
        ]
        if found:
            return found[0]
        await asyncio.sleep(0.2)
    raise AssertionError(f"{actor} logged no {message!r} under {directory}")


@pytest.mark.usefixtures("ray_cluster")
@pytest.mark.skipif(sys.platform != "linux", reason="reads the session's log directory")
async def test_inventory_actor_logs_json_with_its_event_in_its_worker_file_when_it_starts(
    migrated_database_url: str,
) -> None:
    _, created = await seed_event(migrated_database_url, event_on_sale_now(general_capacity=10))
    event_id = str(created.event_id)
    ticket_type_id = str(created.ticket_types[0].ticket_type_id)
    client = InventoryClient(event_id, service_url(migrated_database_url))
    hold = PlaceHold(
        new_hold_id=str(uuid.uuid4()),
        fan_id="fan-1",
        items=(ItemRequest(ticket_type_id=ticket_type_id, quantity=1),),
    )
    try:
        assert isinstance(await client.execute(hold), HoldView)
        line = await line_of(inventory_actor_name(event_id), "inventory rebuilt")
    finally:
        ray.kill(ray.get_actor(inventory_actor_name(event_id), NAMESPACE), no_restart=True)

    assert line["event_id"] == event_id
    assert (line["level"], line["logger"]) == ("info", "actors.inventory_actor")
