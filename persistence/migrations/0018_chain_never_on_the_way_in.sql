-- The chain is never on the way in (DESIGN.md rule 9): a ticket is born `valid`, admits and
-- transfers at once, and its NFT follows. Work that runs out of its quick retries (a mint, a move,
-- a notice) is never given up: it stays in the outbox as failed work, retried with a long backoff
-- until it lands, where the venue can see it and retry it at once.

-- Tickets no longer wait for their mint in an `issued` status. The fence is lifted for the one
-- statement that moves the tickets issued before this migration.
ALTER TABLE tickets ALTER COLUMN status SET DEFAULT 'valid';
ALTER TABLE tickets DROP CONSTRAINT tickets_status_check;
ALTER TABLE tickets NO FORCE ROW LEVEL SECURITY;
UPDATE tickets SET status = 'valid', updated_at = now() WHERE status = 'issued';
ALTER TABLE tickets FORCE ROW LEVEL SECURITY;
ALTER TABLE tickets ADD CONSTRAINT tickets_status_check
    CHECK (status IN ('valid', 'checked_in', 'transferred', 'refunded', 'revoked', 'locked',
                      'expired', 'cancelled'));

DROP INDEX tickets_one_live_ticket_per_seat;
CREATE UNIQUE INDEX tickets_one_live_ticket_per_seat ON tickets (event_id, seat_id)
    WHERE seat_id IS NOT NULL AND status IN ('valid', 'checked_in', 'locked');

DROP TRIGGER tickets_end_seat_claim ON tickets;
CREATE TRIGGER tickets_end_seat_claim
    AFTER UPDATE OF status ON tickets
    FOR EACH ROW
    WHEN (NEW.seat_id IS NOT NULL
          AND OLD.status IN ('valid', 'checked_in', 'locked')
          AND NEW.status IN ('refunded', 'cancelled'))
    EXECUTE FUNCTION end_seat_claim_of_ended_ticket();

-- An NFT goes to whoever holds its line of tickets when it lands, so a mint reads the whole line:
-- the first ticket and every successor naming it.
CREATE INDEX tickets_by_nft_ticket_index ON tickets (nft_ticket_id) WHERE nft_ticket_id IS NOT NULL;

-- Failed work: a pending message that ran out of its quick attempts, since failed_at.
ALTER TABLE outbox ADD COLUMN failed_at timestamptz;
ALTER TABLE outbox ADD CONSTRAINT outbox_failed_work_is_pending
    CHECK (failed_at IS NULL OR status = 'pending');
CREATE INDEX outbox_failed_work_index ON outbox (tenant_id, failed_at)
    WHERE status = 'pending' AND failed_at IS NOT NULL;

-- Messages given up before this migration become failed work again, under the aggregate their
-- payload names (the NFT's first ticket, the ticket, or the order), so they keep their order
-- against the messages of the same thing.
ALTER TABLE outbox NO FORCE ROW LEVEL SECURITY;
ALTER TABLE outbox_dead_letters NO FORCE ROW LEVEL SECURITY;
INSERT INTO outbox (id, tenant_id, topic, payload, attempts, aggregate_id, failed_at, last_error,
                    created_at)
SELECT id, tenant_id, topic, payload, attempts,
       coalesce(payload ->> 'nft_ticket_id', payload ->> 'ticket_id', payload ->> 'order_id',
                id::text),
       failed_at, last_error, created_at
FROM outbox_dead_letters;
ALTER TABLE outbox FORCE ROW LEVEL SECURITY;
DROP TABLE outbox_dead_letters;
