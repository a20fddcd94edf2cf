"""The presale before the general sale (API.md, "Presale, codes and phased prices"): the venue
gives its fan club the code FANCLUB, valid from the event's creation; members queue with it in the
same waiting room and are admitted before the opening, and the code unlocks the hidden VIP type:
one VIP ticket a member, for half of them. General admission starts at an early-bird price that
steps up once its first units are taken. The general sale then opens as before.
"""

import datetime
from typing import Any

import msgspec

from loadtests.scenario import (
    GENERAL_KEY,
    GENERAL_PRICE_CENTS,
    Ending,
    FanPlan,
    Scenario,
    moment,
    plan_fans,
)

PRESALE_CODE = "FANCLUB"
VIP_KEY = "VIP"
VIP_NAME = "VIP Lounge"
VIP_PRICE_CENTS = 12_000
VIP_QUANTITY = 1
# Of the fans who queue before the opening and mean to buy, every FAN_CLUB_EVERY-th is a member;
# VIP has a ticket for one member in VIP_MEMBERS_PER_TICKET.
FAN_CLUB_EVERY = 8
VIP_MEMBERS_PER_TICKET = 2
# General admission's first EARLY_BIRD_UNITS units (sold or held) cost EARLY_BIRD_PRICE_CENTS.
EARLY_BIRD_PRICE_CENTS = 4_000
EARLY_BIRD_UNITS = 300
USES_PER_MEMBER = 1


def early_fans(scenario: Scenario) -> int:
    return round(scenario.fans * scenario.pre_queue_share)


def is_member(scenario: Scenario, plan: FanPlan) -> bool:
    """Whether the fan is in the fan club: one in FAN_CLUB_EVERY of those who queue early, of
    those who pay for what they hold (so VIP, which only members can buy, sells out)."""
    return (
        plan.number < early_fans(scenario)
        and plan.number % FAN_CLUB_EVERY == 0
        and plan.ending is Ending.PAY
    )


def members(scenario: Scenario) -> int:
    return sum(1 for plan in plan_fans(scenario) if is_member(scenario, plan))


def vip_capacity(scenario: Scenario) -> int:
    return max(1, -(-members(scenario) // VIP_MEMBERS_PER_TICKET))


def with_presale(body: dict[str, Any], scenario: Scenario) -> dict[str, Any]:
    """The event's body with the hidden VIP type and general admission's early-bird phase."""
    ticket_types = body["ticket_types"]
    for ticket_type in ticket_types:
        if ticket_type["key"] == GENERAL_KEY:
            ticket_type["price_phases"] = [
                {"price_cents": EARLY_BIRD_PRICE_CENTS, "first": EARLY_BIRD_UNITS},
                {"price_cents": GENERAL_PRICE_CENTS},
            ]
            ticket_type.pop("price_cents", None)
    ticket_types.append(
        {
            "key": VIP_KEY,
            "name": VIP_NAME,
            "kind": "general",
            "price_cents": VIP_PRICE_CENTS,
            "capacity": vip_capacity(scenario),
            "hidden": True,
        }
    )
    return body


def code_body(scenario: Scenario, *, now: datetime.datetime) -> dict[str, Any]:
    """The fan club's code: valid from now, one hold per member, enough uses for every one."""
    return {
        "code": PRESALE_CODE,
        "kind": "presale",
        "unlocks": [VIP_KEY],
        "valid_from": moment(now),
        "max_uses": members(scenario) * USES_PER_MEMBER,
        "max_uses_per_fan": USES_PER_MEMBER,
    }


class PresaleFigures(msgspec.Struct, frozen=True, kw_only=True):
    """What the presale came to: members as the driver saw them, VIP as Postgres has it, and
    the code's uses as the venue's listing shows them."""

    members: int
    vip_capacity: int
    members_queued: int
    members_admitted_early: int
    vip_sold: int
    code_uses: int | None
    code_held: int | None


def code_uses(listing: dict[str, Any]) -> tuple[int, int] | None:
    """FANCLUB's paid uses and live-hold uses in the venue's code listing."""
    for code in listing.get("codes", []):
        if code.get("code", "").upper() == PRESALE_CODE:
            return code["uses"], code["held"]
    return None


def presale_rows(figures: PresaleFigures) -> list[tuple[str, str]]:
    uses = (
        "not read"
        if figures.code_uses is None
        else f"{figures.code_uses:,} paid, {figures.code_held:,} in live holds"
    )
    return [
        (
            "fan club",
            f"{figures.members:,} members, {figures.members_queued:,} queued with {PRESALE_CODE}, "
            f"{figures.members_admitted_early:,} admitted before the opening",
        ),
        (
            "VIP (hidden, unlocked by the code)",
            f"{figures.vip_sold:,} of {figures.vip_capacity:,} sold",
        ),
        (f"{PRESALE_CODE} uses (one hold each)", uses),
        (
            "early bird",
            f"general admission's first {EARLY_BIRD_UNITS:,} units at "
            f"{EARLY_BIRD_PRICE_CENTS / 100:,.2f}, then {GENERAL_PRICE_CENTS / 100:,.2f}",
        ),
    ]
