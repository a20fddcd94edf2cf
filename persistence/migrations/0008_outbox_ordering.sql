-- Outbox messages of one aggregate (a hold, an order, a ticket) are delivered in position order:
-- a message waits while an earlier one of its aggregate is still pending, even in backoff.
ALTER TABLE outbox ADD COLUMN aggregate_id text NOT NULL DEFAULT ''
    CHECK (length(aggregate_id) <= 255);
CREATE INDEX outbox_pending_aggregate_index ON outbox (tenant_id, aggregate_id, position)
    WHERE status = 'pending';
