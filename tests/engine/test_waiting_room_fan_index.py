"""The compact fan index: every fan keeps one sequence, even when their 64-bit keys collide."""

import pytest

from engine import fan_index
from engine.fan_index import FanIndex


def test_sequences_follow_join_order_when_fans_are_added() -> None:
    index = FanIndex()
    assert [index.add(fan_id) for fan_id in ("ana", "ben", "cy")] == [0, 1, 2]
    assert [index.find(fan_id) for fan_id in ("cy", "ana", "ben")] == [2, 0, 1]
    assert len(index) == 3


def test_minus_one_is_found_when_the_fan_never_joined() -> None:
    index = FanIndex()
    index.add("ana")
    assert index.find("anna") == -1


def test_fan_ids_read_back_exactly_when_they_hold_non_ascii_text() -> None:
    index = FanIndex()
    fan_ids = ["zoë", "東京-42", "", "a" * 255]
    for fan_id in fan_ids:
        index.add(fan_id)
    assert [index.fan_id(sequence) for sequence in range(4)] == fan_ids
    assert [index.find(fan_id) for fan_id in fan_ids] == [0, 1, 2, 3]


def test_every_fan_is_found_when_the_table_has_grown_many_times() -> None:
    index = FanIndex()
    fan_ids = [f"fan-{number}" for number in range(20_000)]
    for fan_id in fan_ids:
        index.add(fan_id)
    assert all(index.find(fan_id) == sequence for sequence, fan_id in enumerate(fan_ids))
    assert index.find("fan-20000") == -1


def test_fans_stay_apart_when_every_key_collides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fan_index, "fan_key", lambda encoded_fan_id: 12345)
    index = FanIndex()
    fan_ids = [f"fan-{number}" for number in range(600)]
    for fan_id in fan_ids:
        assert index.find(fan_id) == -1
        index.add(fan_id)
    assert [index.find(fan_id) for fan_id in fan_ids] == list(range(600))
    assert index.find("fan-600") == -1


def test_key_is_the_pinned_blake2b_digest_when_computed_in_any_process() -> None:
    assert fan_index.fan_key(b"ana") == int.from_bytes(bytes.fromhex("25190115385a1a3c"), "little")
