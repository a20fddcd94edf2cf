"""Rows for persistence tests: a tenant with one complete sale, written through the service role.

Every tenant-owned table gets at least one row, so a fence test that finds nothing proves the
fence and not an empty table. Add a row here when a migration adds a tenant-owned table.
"""

import contextlib
import datetime
import json
import uuid
from dataclasses import dataclass

import asyncpg
import msgspec

from engine.inventory.configuration import TicketKind
from engine.limits import MILLISECONDS_PER_SECOND
from engine.simulation_event import HOLD_TTL_MS, OPENS_AT_MS, simulation_configuration
from persistence.epochs import FencedTransaction, fenced_transaction
from persistence.event_repository import (
    CreatedEvent,
    NewEvent,
    NewPricePhase,
    NewRow,
    NewSection,
    NewTicketType,
    WaitingRoomSettings,
    WaitListSettings,
    create_event,
)
from persistence.tenancy import tenant_transaction


@dataclass(frozen=True, kw_only=True)
class Sale:
    tenant_id: uuid.UUID
    venue_id: uuid.UUID
    event_id: uuid.UUID
    general_ticket_type_id: uuid.UUID
    seated_ticket_type_id: uuid.UUID
    sold_seat_id: uuid.UUID
    free_seat_id: uuid.UUID
    hold_id: uuid.UUID
    order_id: uuid.UUID
    ticket_id: uuid.UUID
    payment_id: uuid.UUID


INSERT_TENANT = "INSERT INTO tenants (name) VALUES ($1) RETURNING id"

INSERT_VENUE = "INSERT INTO venues (tenant_id, name) VALUES ($1, 'Arena') RETURNING id"

INSERT_EVENT = """
INSERT INTO events (tenant_id, venue_id, name, starts_at, ends_at, currency, status, opens_at,
                    closes_at, hold_ttl_s, max_tickets_per_user, waiting_room_enabled,
                    admit_per_second, max_active_shoppers, access_ttl_s)
VALUES ($1, $2, 'Night One', now() + interval '30 days', now() + interval '30 days 3 hours',
        'USD', 'on_sale', now(), now() + interval '7 days', 600, 6, true, 50, 2000, 900)
RETURNING id
"""

INSERT_TICKET_TYPE = """
INSERT INTO ticket_types (tenant_id, event_id, key, name, kind, price_cents, capacity)
VALUES ($1, $2, $3, $3, $4, $5, $6)
RETURNING id
"""

INSERT_SEAT = """
INSERT INTO seats (tenant_id, event_id, ticket_type_id, seat_index, section, row, number)
VALUES ($1, $2, $3, $4, '101', 'A', $5)
RETURNING id
"""

# A hold of one item: $4 units of ticket type $5 at $6 cents each.
INSERT_HOLD = """
INSERT INTO holds (tenant_id, event_id, user_id, subtotal_cents, expires_at,
                   item_ticket_type_ids, item_quantities, item_unit_prices_cents)
VALUES ($1, $2, $3, $4::integer * $6::bigint, now() + interval '10 minutes',
        ARRAY[$5::uuid], ARRAY[$4::integer], ARRAY[$6::bigint])
RETURNING id
"""

INSERT_HOLD_SEAT = """
INSERT INTO hold_seats (hold_id, seat_id, tenant_id, event_id) VALUES ($1, $2, $3, $4)
"""

INSERT_ORDER = """
INSERT INTO orders (tenant_id, event_id, hold_id, user_id, status, currency, subtotal_cents,
                    fees_cents, total_cents, expires_at, paid_at)
VALUES ($1, $2, $3, 'fan-1', 'paid', 'USD', 18000, 900, 18900, now() + interval '15 minutes',
        now())
RETURNING id
"""

INSERT_TICKET = """
INSERT INTO tickets (tenant_id, event_id, order_id, ticket_type_id, seat_id, owner_user_id,
                     code_seed)
VALUES ($1, $2, $3, $4, $5, 'fan-1', sha256(random()::text::bytea))
RETURNING id
"""

# A general-admission ticket at position 1 of its order; given `predecessor`, the ticket that
# replaced it (a transfer's), carrying the predecessor's NFT.
INSERT_GENERAL_TICKET = """
INSERT INTO tickets (tenant_id, event_id, order_id, ticket_type_id, owner_user_id, status,
                     code_seed, position, predecessor_ticket_id, nft_ticket_id)
VALUES ($1, $2, $3, $4, CASE WHEN $5::uuid IS NULL THEN 'fan-1' ELSE 'fan-2' END, 'valid',
        sha256(random()::text::bytea), 1, $5, $5)
RETURNING id
"""

INSERT_PAYMENT = """
INSERT INTO payments (tenant_id, order_id, payment_intent_id, idempotency_key, status,
                      amount_cents, currency)
VALUES ($1, $2, $3, $4, 'succeeded', 18900, 'USD')
RETURNING id
"""

INSERT_LEDGER_ENTRY = """
INSERT INTO ledger_entries (tenant_id, transaction_id, account, direction, amount_cents, currency,
                            order_id, payment_id)
VALUES ($1, $2, $3, $4, $5, 'USD', $6, $7)
"""


async def create_tenant(owner_connection: asyncpg.Connection, name: str) -> uuid.UUID:
    tenant_id: uuid.UUID = await owner_connection.fetchval(INSERT_TENANT, name)
    return tenant_id


async def place_seat_hold(
    connection: asyncpg.Connection, sale: Sale, seat_id: uuid.UUID, *, user_id: str = "fan-2"
) -> uuid.UUID:
    """A new active hold of one seat, in the caller's transaction."""
    hold_id: uuid.UUID = await connection.fetchval(
        INSERT_HOLD, sale.tenant_id, sale.event_id, user_id, 1, sale.seated_ticket_type_id, 8000
    )
    await connection.execute(INSERT_HOLD_SEAT, hold_id, seat_id, sale.tenant_id, sale.event_id)
    return hold_id


async def seed_sale(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection, tenant_name: str
) -> Sale:
    """A tenant with an event, a converted hold, a paid order, a ticket and all its side rows."""
    tenant_id = await create_tenant(owner_connection, tenant_name)
    async with tenant_transaction(service_pool, tenant_id) as connection:
        venue_id = await connection.fetchval(INSERT_VENUE, tenant_id)
        event_id = await connection.fetchval(INSERT_EVENT, tenant_id, venue_id)
        general_ticket_type_id = await connection.fetchval(
            INSERT_TICKET_TYPE, tenant_id, event_id, "GA", "general", 5000, 100
        )
        seated_ticket_type_id = await connection.fetchval(
            INSERT_TICKET_TYPE, tenant_id, event_id, "RES", "seated", 8000, 2
        )
        sold_seat_id = await connection.fetchval(
            INSERT_SEAT, tenant_id, event_id, seated_ticket_type_id, 0, 1
        )
        free_seat_id = await connection.fetchval(
            INSERT_SEAT, tenant_id, event_id, seated_ticket_type_id, 1, 2
        )
        await connection.execute(
            "INSERT INTO event_epochs (event_id, tenant_id, epoch, holder) VALUES ($1, $2, 1, 'a')",
            event_id,
            tenant_id,
        )
        await connection.execute(
            "INSERT INTO event_directory (event_id, owner_tenant_id) VALUES ($1, $2)",
            event_id,
            tenant_id,
        )
        await connection.execute(
            """
            INSERT INTO withheld_units (tenant_id, event_id, ticket_type_id, withholding, quantity)
            VALUES ($1, $2, $3, 'press', 4)
            """,
            tenant_id,
            event_id,
            general_ticket_type_id,
        )
        await connection.execute(
            """
            INSERT INTO inventory_idempotency_records (tenant_id, event_id, key, fingerprint,
                                                       outcome, recorded_at_ms)
            VALUES ($1, $2, 'hold-1', '\\x01'::bytea, '\\x02'::bytea, 1000)
            """,
            tenant_id,
            event_id,
        )
        await connection.execute(
            """
            INSERT INTO waiting_rooms (event_id, tenant_id, epoch, holder, opens_at_ms,
                                       admit_per_second, max_active_shoppers, access_ttl_s,
                                       pre_queue_closed, draw_seed, opened_at_ms, head_slot)
            VALUES ($1, $2, 1, 'a', 0, 50, 2000, 900, true, 7, 0, 1)
            """,
            event_id,
            tenant_id,
        )
        await connection.execute(
            """
            INSERT INTO waiting_room_places (tenant_id, event_id, sequence, fan_id, slot, state,
                                             last_seen_ms, admitted_at_ms, access_expires_at_ms)
            VALUES ($1, $2, 0, 'fan-1', 0, 'admitted', 0, 0, 900000)
            """,
            tenant_id,
            event_id,
        )
        code_id = uuid.uuid4()
        await connection.execute(
            """
            INSERT INTO codes (id, tenant_id, event_id, code, code_key, kind, max_uses,
                               discount_percent, uses, created_at)
            VALUES ($1, $2, $3, 'Spring', 'SPRING', 'discount', 10, 15, 1, now())
            """,
            code_id,
            tenant_id,
            event_id,
        )
        await connection.execute(
            """
            INSERT INTO code_fan_uses (code_id, tenant_id, event_id, user_id, taken)
            VALUES ($1, $2, $3, 'fan-1', 1)
            """,
            code_id,
            tenant_id,
            event_id,
        )
        await connection.execute(
            """
            INSERT INTO scanner_devices (id, tenant_id, name, event_ids, token_hash, created_by,
                                         created_at)
            VALUES ($1, $2, 'Gate 1', ARRAY[$3::uuid], sha256(gen_random_uuid()::text::bytea),
                    'manager-1', now())
            """,
            uuid.uuid4(),
            tenant_id,
            event_id,
        )
        hold_id = await connection.fetchval(
            INSERT_HOLD, tenant_id, event_id, "fan-1", 2, general_ticket_type_id, 5000
        )
        await connection.execute("UPDATE holds SET code_id = $1 WHERE id = $2", code_id, hold_id)
        await connection.execute(INSERT_HOLD_SEAT, hold_id, sold_seat_id, tenant_id, event_id)
        await connection.execute(
            "UPDATE holds SET status = 'converted', ended_at = now() WHERE id = $1", hold_id
        )
        order_id = await connection.fetchval(INSERT_ORDER, tenant_id, event_id, hold_id)
        await connection.execute(
            """
            INSERT INTO wait_list_entries (id, tenant_id, event_id, user_id, email, quantity,
                                           sequence, status, hold_id, offer_expires_at_ms,
                                           joined_at, updated_at)
            VALUES ($1, $2, $3, 'fan-1', 'fan@example.com', 2, 0, 'converted', $4, 1000, now(),
                    now())
            """,
            uuid.uuid4(),
            tenant_id,
            event_id,
            hold_id,
        )
        await connection.execute(
            """
            INSERT INTO order_items (order_id, ticket_type_id, tenant_id, event_id, quantity,
                                     unit_price_cents)
            VALUES ($1, $2, $3, $4, 1, 8000)
            """,
            order_id,
            seated_ticket_type_id,
            tenant_id,
            event_id,
        )
        comp_order_id = uuid.uuid4()
        await connection.execute(
            """
            INSERT INTO sales (order_id, tenant_id, event_id, user_id, complimentary, allocation,
                               seat_labels, subtotal_cents, fees_cents, total_cents, status,
                               sold_at)
            VALUES ($1, $2, $3, 'fan-3', true, 'press', '{}', 0, 0, 0, 'live', now())
            """,
            comp_order_id,
            tenant_id,
            event_id,
        )
        await connection.execute(
            """
            INSERT INTO sale_items (order_id, ticket_type_id, tenant_id, event_id, position,
                                    quantity, unit_price_cents)
            VALUES ($1, $2, $3, $4, 0, 1, 0)
            """,
            comp_order_id,
            general_ticket_type_id,
            tenant_id,
            event_id,
        )
        ticket_id = await connection.fetchval(
            INSERT_TICKET, tenant_id, event_id, order_id, seated_ticket_type_id, sold_seat_id
        )
        payment_id = await connection.fetchval(
            INSERT_PAYMENT, tenant_id, order_id, f"pi_{order_id.hex}", f"order-{order_id}"
        )
        refund_id = await connection.fetchval(
            """
            INSERT INTO refunds (tenant_id, order_id, payment_id, idempotency_key, amount_cents,
                                 reason)
            VALUES ($1, $2, $3, $4, 900, 'goodwill')
            RETURNING id
            """,
            tenant_id,
            order_id,
            payment_id,
            f"refund-{order_id}",
        )
        await connection.execute(
            """
            INSERT INTO refund_tickets (refund_id, ticket_id, tenant_id, order_id, face_cents)
            VALUES ($1, $2, $3, $4, 900)
            """,
            refund_id,
            ticket_id,
            tenant_id,
            order_id,
        )
        await connection.execute(
            """
            INSERT INTO disputes (tenant_id, provider_dispute_id, order_id, payment_id, status,
                                  stripe_status, amount_cents, currency)
            VALUES ($1, $2, $3, $4, 'open', 'needs_response', 18900, 'USD')
            """,
            tenant_id,
            f"dp_{order_id.hex}",
            order_id,
            payment_id,
        )
        transaction_id = uuid.uuid4()
        for account, direction in (("stripe_balance", "debit"), ("tenant_payable", "credit")):
            await connection.execute(
                INSERT_LEDGER_ENTRY,
                tenant_id,
                transaction_id,
                account,
                direction,
                18900,
                order_id,
                payment_id,
            )
        await connection.execute(
            "INSERT INTO nft_mints (tenant_id, ticket_id) VALUES ($1, $2)", tenant_id, ticket_id
        )
        given_ticket_id = await connection.fetchval(
            INSERT_GENERAL_TICKET, tenant_id, event_id, order_id, general_ticket_type_id, None
        )
        received_ticket_id = await connection.fetchval(
            INSERT_GENERAL_TICKET,
            tenant_id,
            event_id,
            order_id,
            general_ticket_type_id,
            given_ticket_id,
        )
        await connection.execute(
            """
            INSERT INTO ticket_transfers (tenant_id, event_id, from_ticket_id, to_ticket_id,
                                          nft_ticket_id, from_user_id, to_user_id)
            VALUES ($1, $2, $3, $4, $3, 'fan-1', 'fan-2')
            """,
            tenant_id,
            event_id,
            given_ticket_id,
            received_ticket_id,
        )
        await connection.execute(
            """
            INSERT INTO ticket_scans (tenant_id, event_id, ticket_id, device_id, scanned_by,
                                      result, reason, scanned_at)
            VALUES ($1, $2, $3, 'gate-1', 'staff-1', 'rejected', 'forged', now())
            """,
            tenant_id,
            event_id,
            ticket_id,
        )
        await connection.execute(
            """
            INSERT INTO ticket_claims (id, tenant_id, event_id, ticket_id, kind, giver_user_id,
                                       to_email, secret_hash, expires_at, created_at)
            VALUES ($1, $2, $3, $4, 'transfer', 'fan-1', 'friend@example.com',
                    sha256('secret'::bytea), now() + interval '48 hours', now())
            """,
            uuid.uuid4(),
            tenant_id,
            event_id,
            ticket_id,
        )
        await connection.execute(
            "INSERT INTO fan_wallets (tenant_id, user_id, address) VALUES ($1, 'fan-1', $2)",
            tenant_id,
            "11111111111111111111111111111111",
        )
        await connection.execute(
            """
            INSERT INTO notifications (tenant_id, dedupe_key, channel, kind, user_id, recipient)
            VALUES ($1, $2, 'email', 'order.confirmed', 'fan-1', 'fan@example.com')
            """,
            tenant_id,
            f"order-confirmed-{order_id}",
        )
        payload = json.dumps({"order_id": str(order_id)})
        await connection.execute(
            "INSERT INTO outbox (tenant_id, topic, payload) VALUES ($1, 'ticket.mint', $2)",
            tenant_id,
            payload,
        )
        await connection.execute(
            """
            INSERT INTO webhook_inbox (tenant_id, stripe_event_id, event_type, payload)
            VALUES ($1, $2, 'payment_intent.succeeded', $3)
            """,
            tenant_id,
            f"evt_{order_id.hex}",
            payload,
        )
        await connection.execute(
            """
            INSERT INTO idempotency_keys (tenant_id, caller, key, request_hash, status,
                                          response_status, response_body, expires_at)
            VALUES ($1, $2, 'checkout-1', 'sha256:abc', 'completed', 201, '{}'::bytea,
                    now() + interval '24 hours')
            """,
            tenant_id,
            f"{tenant_id}:fan-1",
        )
        await connection.execute(
            """
            INSERT INTO audit_log (tenant_id, actor, action, subject_type, subject_id)
            VALUES ($1, 'fan-1', 'refund.requested', 'refund', $2)
            """,
            tenant_id,
            refund_id,
        )
    return Sale(
        tenant_id=tenant_id,
        venue_id=venue_id,
        event_id=event_id,
        general_ticket_type_id=general_ticket_type_id,
        seated_ticket_type_id=seated_ticket_type_id,
        sold_seat_id=sold_seat_id,
        free_seat_id=free_seat_id,
        hold_id=hold_id,
        order_id=order_id,
        ticket_id=ticket_id,
        payment_id=payment_id,
    )


UNIX_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
# Long enough that a simulation's clock never runs past the close.
CLOSES_AT_MS = OPENS_AT_MS + 30 * 86_400_000


def moment_of(milliseconds: int) -> datetime.datetime:
    return UNIX_EPOCH + datetime.timedelta(milliseconds=milliseconds)


def optional_moment_of(milliseconds: int | None) -> datetime.datetime | None:
    return None if milliseconds is None else moment_of(milliseconds)


def new_event(
    ticket_types: tuple[NewTicketType, ...], sections: tuple[NewSection, ...] = ()
) -> NewEvent:
    return NewEvent(
        name="Night One",
        starts_at=moment_of(CLOSES_AT_MS),
        ends_at=moment_of(CLOSES_AT_MS + 3_600_000),
        currency="USD",
        opens_at=moment_of(OPENS_AT_MS),
        closes_at=moment_of(CLOSES_AT_MS),
        hold_ttl_s=HOLD_TTL_MS // 1000,
        max_tickets_per_user=6,
        waiting_room=WaitingRoomSettings(
            enabled=True, admit_per_second=50, max_active_shoppers=2000, access_ttl_s=900
        ),
        ticket_types=ticket_types,
        sections=sections,
    )


def simulation_event() -> NewEvent:
    """The event of `engine.simulation_event`, with ticket type keys in place of its ticket type
    ids."""
    configuration = simulation_configuration()
    event = new_event(
        tuple(
            NewTicketType(
                key=ticket_type.ticket_type_id,
                name=ticket_type.ticket_type_id,
                kind=ticket_type.kind,
                price_cents=ticket_type.price_cents,
                capacity=ticket_type.capacity if ticket_type.kind is TicketKind.GENERAL else 0,
                on_sale_from=optional_moment_of(ticket_type.on_sale_from_ms),
                on_sale_until=optional_moment_of(ticket_type.on_sale_until_ms),
                price_phases=tuple(
                    NewPricePhase(
                        price_cents=phase.price_cents,
                        first=phase.first,
                        until=optional_moment_of(phase.until_ms),
                    )
                    for phase in ticket_type.price_phases
                ),
            )
            for ticket_type in configuration.ticket_types
        ),
        tuple(
            NewSection(
                section_id=section.section_id,
                ticket_type_key=section.ticket_type_id,
                rows=tuple(NewRow(row_id=row.row_id, seats=row.seats) for row in section.rows),
            )
            for section in configuration.sections
        ),
    )
    wait_list = WaitListSettings(
        enabled=configuration.wait_list_enabled,
        offer_ttl_s=configuration.offer_ttl_ms // MILLISECONDS_PER_SECOND,
    )
    return msgspec.structs.replace(event, wait_list=wait_list)


@dataclass(frozen=True, kw_only=True)
class CreatedEventOfTenant:
    tenant_id: uuid.UUID
    venue_id: uuid.UUID
    created: CreatedEvent

    @property
    def event_id(self) -> uuid.UUID:
        return self.created.event_id

    def ticket_type_ids(self) -> dict[str, str]:
        """Engine ticket type ids by key."""
        return {
            ticket_type.key: str(ticket_type.ticket_type_id)
            for ticket_type in self.created.ticket_types
        }


async def create_event_of_new_tenant(
    service_pool: asyncpg.Pool,
    owner_connection: asyncpg.Connection,
    event: NewEvent,
    tenant_name: str = "Tenant A",
) -> CreatedEventOfTenant:
    tenant_id = await create_tenant(owner_connection, tenant_name)
    async with tenant_transaction(service_pool, tenant_id) as connection:
        venue_id = await connection.fetchval(INSERT_VENUE, tenant_id)
        created = await create_event(
            connection, tenant_id=tenant_id, venue_id=venue_id, event=event
        )
    return CreatedEventOfTenant(tenant_id=tenant_id, venue_id=venue_id, created=created)


def fenced_writer(
    pool_or_connection: asyncpg.Pool | asyncpg.Connection,
    event: CreatedEventOfTenant,
    epoch: int,
) -> contextlib.AbstractAsyncContextManager[FencedTransaction]:
    """A group commit's transaction for the event, past its fence only if `epoch` is the newest."""
    return fenced_transaction(
        pool_or_connection, tenant_id=event.tenant_id, event_id=event.event_id, epoch=epoch
    )
