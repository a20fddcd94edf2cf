"""What one simulated on-sale is: the venue's layout, the event's settings and every fan's plan,
all decided up front from one seed, so a run can be repeated.

Pure: no I/O and no clock (the moment of creation is passed in). A new knob is a field of
`Scenario` with its default here, and a flag of `onsale demo`.
"""

import datetime
import enum
import random
import string

import msgspec

SECTION_ROWS = 20
ROW_SEATS = 25
FIRST_SECTION_NUMBER = 101
GENERAL_KEY = "GA"
RESERVED_KEY = "RES"
GENERAL_PRICE_CENTS = 5_000
RESERVED_PRICE_CENTS = 8_000
CURRENCY = "USD"
TICKETS_PER_FAN_MAX = 4
MAX_TICKETS_PER_USER = 6
ACCESS_TTL_S = 600
HOLD_TTL_S_MIN = 30
# Of the fans who want reserved seats, the share who pick them on the seat map; the rest ask for
# the best available, some of them in a section of their choice.
NAMED_SEATS_SHARE = 0.3
SECTION_PREFERENCE_SHARE = 0.3
EVENT_STARTS_IN = datetime.timedelta(days=30)
EVENT_LASTS = datetime.timedelta(hours=3)
# The sale closes soon after the run may end, so the next `onsale up` on the same data directory
# does not keep this event's actors running for a sale nobody attends.
SALE_CLOSES_AFTER_TIMEOUT = datetime.timedelta(minutes=2)


class Scenario(msgspec.Struct, frozen=True, kw_only=True):
    """Sizes, shares and pace of one run; the defaults finish in a few minutes on two cores."""

    fans: int = 20_000
    seats: int = 5_000
    general: int = 1_000
    admit_per_second: int = 200
    max_active_shoppers: int = 1_500
    decline_share: float = 0.05
    abandon_share: float = 0.05
    hold_ttl_s: int = HOLD_TTL_S_MIN
    opens_in_s: float = 10.0
    pre_queue_share: float = 0.15
    arrival_s: float = 20.0
    seed: int = 7
    sale_timeout_s: float = 600.0
    drain_timeout_s: float = 120.0

    def __post_init__(self) -> None:
        problems = []
        if self.fans < 1:
            problems.append("at least one fan")
        if self.seats < 0 or self.general < 0 or self.seats + self.general < 1:
            problems.append("seats and general admission of at least one ticket in all")
        shares = (self.decline_share, self.abandon_share, self.pre_queue_share)
        if not all(0 <= share <= 1 for share in shares):
            problems.append("shares between 0 and 1")
        if self.decline_share + self.abandon_share > 1:
            problems.append("decline and abandon shares of at most 1 together")
        if self.admit_per_second < 1 or self.max_active_shoppers < 1:
            problems.append("a positive admission rate and shopper cap")
        if self.hold_ttl_s < HOLD_TTL_S_MIN:
            problems.append(f"holds of at least {HOLD_TTL_S_MIN} s")
        if min(self.opens_in_s, self.arrival_s) < 0:
            problems.append("no negative times")
        if min(self.sale_timeout_s, self.drain_timeout_s) <= 0:
            problems.append("positive timeouts")
        if problems:
            raise ValueError("a scenario needs " + ", ".join(problems))

    @property
    def capacity(self) -> int:
        return self.seats + self.general


class Row(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    seats: int


class Section(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    rows: list[Row]


class Want(enum.StrEnum):
    BEST_AVAILABLE = "best_available"
    NAMED_SEATS = "named_seats"
    GENERAL = "general"


class Ending(enum.StrEnum):
    """How a fan's journey ends once they hold tickets."""

    PAY = "pay"
    DECLINE = "decline"
    ABANDON = "abandon"


def arrival_s(scenario: Scenario, number: int) -> float:
    """When fan `number` arrives, fans numbered in arrival order. The first `pre_queue_share`
    arrive evenly over the first half of the wait for the opening, so they queue before it
    however slowly the room takes joins; the rest arrive evenly over `arrival_s` from the
    opening, and queue first come, first served."""
    early = round(scenario.fans * scenario.pre_queue_share)
    if number < early:
        return scenario.opens_in_s / 2 * number / early
    return scenario.opens_in_s + scenario.arrival_s * (number - early) / (scenario.fans - early)


class FanPlan(msgspec.Struct, frozen=True, kw_only=True):
    """One fan: who, when they arrive (fans are numbered in arrival order), what they want."""

    number: int
    user_id: str
    email: str
    arrives_after_s: float
    want: Want
    quantity: int
    ending: Ending
    section: str | None


def row_label(index: int) -> str:
    """A, B, ..., Z, AA, AB, ...: row names as venues print them."""
    letters = string.ascii_uppercase
    label = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, len(letters))
        label = letters[remainder] + label
    return label


def venue_sections(seats: int) -> list[Section]:
    """`seats` reserved seats in sections of SECTION_ROWS rows of ROW_SEATS, the last one short."""
    sections: list[Section] = []
    left = seats
    while left > 0:
        rows = []
        for row_index in range(SECTION_ROWS):
            if left == 0:
                break
            in_row = min(ROW_SEATS, left)
            rows.append(Row(id=row_label(row_index), seats=in_row))
            left -= in_row
        sections.append(Section(id=str(FIRST_SECTION_NUMBER + len(sections)), rows=rows))
    return sections


def moment(at: datetime.datetime) -> str:
    return at.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_body(scenario: Scenario, *, now: datetime.datetime, name: str) -> dict[str, object]:
    """The body of POST /v1/venue/events for this scenario, its sale opening `opens_in_s` after
    `now` so that the first fans queue before it opens."""
    ticket_types: list[dict[str, object]] = []
    if scenario.general:
        ticket_types.append(
            {
                "key": GENERAL_KEY,
                "name": "General Admission",
                "kind": "general",
                "price_cents": GENERAL_PRICE_CENTS,
                "capacity": scenario.general,
            }
        )
    body: dict[str, object] = {
        "name": name,
        "venue_name": "Demo Stadium",
        "starts_at": moment(now + EVENT_STARTS_IN),
        "ends_at": moment(now + EVENT_STARTS_IN + EVENT_LASTS),
        "currency": CURRENCY,
        "onsale": {
            "opens_at": moment(now + datetime.timedelta(seconds=scenario.opens_in_s)),
            "closes_at": moment(
                now
                + datetime.timedelta(seconds=scenario.opens_in_s + scenario.sale_timeout_s)
                + SALE_CLOSES_AFTER_TIMEOUT
            ),
            "hold_ttl_s": scenario.hold_ttl_s,
            "max_tickets_per_user": MAX_TICKETS_PER_USER,
            "waiting_room": {
                "enabled": True,
                "admit_per_second": scenario.admit_per_second,
                "max_active_shoppers": scenario.max_active_shoppers,
                "access_ttl_s": ACCESS_TTL_S,
            },
        },
        "ticket_types": ticket_types,
    }
    if scenario.seats:
        ticket_types.append(
            {
                "key": RESERVED_KEY,
                "name": "Reserved",
                "kind": "seated",
                "price_cents": RESERVED_PRICE_CENTS,
            }
        )
        body["seatmap"] = {
            "sections": [
                {
                    "id": section.id,
                    "ticket_type": RESERVED_KEY,
                    "rows": [msgspec.to_builtins(row) for row in section.rows],
                }
                for section in venue_sections(scenario.seats)
            ]
        }
    return body


def plan_fans(scenario: Scenario) -> list[FanPlan]:
    """Every fan's plan, the same for the same scenario. Fans want general admission in
    proportion to its share of the capacity, so both kinds of ticket run out together."""
    generator = random.Random(scenario.seed)
    general_share = scenario.general / scenario.capacity
    section_ids = [section.id for section in venue_sections(scenario.seats)]
    plans = []
    for number in range(scenario.fans):
        section = None
        if generator.random() < general_share:
            want = Want.GENERAL
        elif generator.random() < NAMED_SEATS_SHARE:
            want = Want.NAMED_SEATS
        else:
            want = Want.BEST_AVAILABLE
            if generator.random() < SECTION_PREFERENCE_SHARE:
                section = generator.choice(section_ids)
        draw = generator.random()
        if draw < scenario.decline_share:
            ending = Ending.DECLINE
        elif draw < scenario.decline_share + scenario.abandon_share:
            ending = Ending.ABANDON
        else:
            ending = Ending.PAY
        plans.append(
            FanPlan(
                number=number,
                user_id=f"fan-{number}",
                email=f"fan-{number}@example.com",
                arrives_after_s=arrival_s(scenario, number),
                want=want,
                quantity=generator.randint(1, TICKETS_PER_FAN_MAX),
                ending=ending,
                section=section,
            )
        )
    return plans
