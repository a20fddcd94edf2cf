"""Request ids: a client's printable id is echoed, anything else gets a new id, and new ids are
unique within a process and across forked processes."""

import os
import re

import pytest

from gateway.middleware import REQUEST_ID_LENGTH_MAX, accepted_request_id, request_ids

NEW_ID = re.compile(r"[0-9a-f]{32}")
TOO_LONG = b"x" * (REQUEST_ID_LENGTH_MAX + 1)


def test_client_id_is_echoed_when_it_is_short_printable_ascii() -> None:
    assert accepted_request_id(b"checkout-42/retry:1") == "checkout-42/retry:1"


@pytest.mark.parametrize(
    "raw",
    [None, b"", b"has space", b"tab\there", "caf\u00e9".encode(), TOO_LONG],
)
def test_new_id_is_given_when_the_client_sent_none_or_an_unusable_one(raw: bytes | None) -> None:
    assert NEW_ID.fullmatch(accepted_request_id(raw))


def test_new_ids_never_repeat_within_a_process() -> None:
    ids = [accepted_request_id(None) for _ in range(10_000)]

    assert len(set(ids)) == len(ids)


def test_forked_process_draws_its_own_prefix() -> None:
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        os.write(write_end, request_ids.next().encode())
        os._exit(0)
    os.close(write_end)
    child_id = os.read(read_end, 64).decode()
    os.close(read_end)
    os.waitpid(child, 0)
    own_id = request_ids.next()

    assert NEW_ID.fullmatch(child_id)
    assert child_id[:16] != own_id[:16]
