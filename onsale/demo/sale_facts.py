"""What every fan of the demo knows of the event from its page (the driver reads it once for
all of them): its ticket types and when it opens on the driver's clock."""

import msgspec


class SaleFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What a fan knows of the event from its page: where it is and when it opens."""

    event_id: str
    general_id: str | None
    reserved_id: str | None
    opens_at_monotonic: float
    vip_id: str | None = None
