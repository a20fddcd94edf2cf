"""What the WaitingRoomActor makes of each request in a batch: the commands a tick runs, a join
without the fan ids the engine would refuse (so one bad id fails alone), the batch decided and
applied on the room in memory, and the answer a request gets once its batch is committed.
"""

import secrets

from actors.waiting_room_inbox import Request, Tick
from engine import limits
from engine.pre_queue_draw import SEED_MAX
from engine.rejections import Reason, Rejected
from engine.waiting_room.apply import apply
from engine.waiting_room.changes import WaitingRoomChange
from engine.waiting_room.commands import (
    AdmitFans,
    ExpireAccess,
    JoinFans,
    OpenWaitingRoom,
    RecordPolls,
    WaitingRoomCommand,
)
from engine.waiting_room.decide import decide
from engine.waiting_room.state import WaitingRoom
from engine.waiting_room.views import PlaceView, describe_place

NUL = "\x00"
JoinResult = PlaceView | Rejected


def is_fan_id(fan_id: str) -> bool:
    """A fan id the engine and Postgres both take: a NUL would sink the batch's commit."""
    return 0 < len(fan_id) <= limits.FAN_ID_CHARACTERS_MAX and NUL not in fan_id


def tick_commands(room: WaitingRoom, polled: list[int], now_ms: int) -> list[WaitingRoomCommand]:
    """Record the polls of the join sequences `polled`, open the room when its time has come,
    expire access and admit fans."""
    commands: list[WaitingRoomCommand] = []
    fan_ids = [room.fan_index.fan_id(sequence) for sequence in polled if sequence < room.fan_count]
    if fan_ids:
        commands.append(RecordPolls(fan_ids=fan_ids))
    if not room.is_open and now_ms >= room.settings.opens_at_ms:
        commands.append(OpenWaitingRoom(draw_seed=secrets.randbelow(SEED_MAX + 1)))
    commands.extend((ExpireAccess(), AdmitFans()))
    return commands


def checked(command: WaitingRoomCommand) -> WaitingRoomCommand:
    """A join without the fan ids the engine would refuse, so one bad id fails alone."""
    if isinstance(command, JoinFans):
        return JoinFans(
            fan_ids=[fan_id for fan_id in command.fan_ids if is_fan_id(fan_id)],
            presale_fan_ids=[fan_id for fan_id in command.presale_fan_ids if is_fan_id(fan_id)],
        )
    return command


def decide_batch(
    room: WaitingRoom, batch: list[Request], polled: list[int], now_ms: int
) -> tuple[list[WaitingRoomChange], list[Rejected | None]]:
    """Decide and apply each request's commands on `room`, in order (a tick's record the polls
    of `polled`): the batch's changes, and for each request the last rejection of its commands,
    or None."""
    changes: list[WaitingRoomChange] = []
    rejections: list[Rejected | None] = []
    for request in batch:
        command = request.command
        if isinstance(command, Tick):
            commands: list[WaitingRoomCommand] = tick_commands(room, polled, now_ms)
        else:
            commands = [checked(command)]
        rejection: Rejected | None = None
        for each in commands:
            decision = decide(room, each, now_ms)
            if isinstance(decision, Rejected):
                rejection = decision
                continue
            for change in decision:
                apply(room, change)
            changes.extend(decision)
        rejections.append(rejection)
    return changes, rejections


def answer_of(
    room: WaitingRoom,
    request: Request,
    rejection: Rejected | None,
    now_ms: int,
    access_secret: bytes,
) -> object:
    """A join's place for each of its fans (or why not); any other command's rejection, or None."""
    command = request.command
    if not isinstance(command, JoinFans):
        return rejection
    results: list[JoinResult] = []
    for fan_id in command.fan_ids:
        if not is_fan_id(fan_id):
            results.append(
                Rejected(
                    reason=Reason.VALIDATION_ERROR,
                    message=(
                        f"a fan id has 1 to {limits.FAN_ID_CHARACTERS_MAX} characters, "
                        "none of them a NUL"
                    ),
                )
            )
        elif rejection is not None:
            results.append(rejection)
        else:
            results.append(describe_place(room, fan_id, now_ms, access_secret=access_secret))
    return results
