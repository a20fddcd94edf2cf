"""How a send to the outside world failed: why, and whether trying again could help.

A retryable failure (the server was down, busy or timed out) is tried again later; one that is not
(the address or the URL was refused) would fail the same way every time, so it is recorded and
left.
"""

import msgspec


class SendFailure(msgspec.Struct, frozen=True, kw_only=True):
    error: str
    retryable: bool
