"""An actor's answer is awaited in the caller's task, within the caller's timeout."""

import asyncio

import pytest

from actors.actor_calls import ACTOR_CALL_ERRORS, actor_answer


async def test_answer_is_returned_when_it_arrives_in_time() -> None:
    answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    answer.set_result("decided")

    assert await actor_answer(answer, timeout_s=5) == "decided"


async def test_call_error_is_raised_when_no_answer_comes_in_time() -> None:
    never: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    with pytest.raises(ACTOR_CALL_ERRORS):
        await actor_answer(never, timeout_s=0)
    assert never.cancelled()
