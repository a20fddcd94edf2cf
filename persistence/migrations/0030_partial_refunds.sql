-- An order may have many refunds, each of some of its tickets (or of money alone), run by the
-- payment workers. A refund names its tickets in refund_tickets; a ticket is in at most one
-- refund that is pending or succeeded (`live`), so no ticket is refunded twice. A refund says
-- whether the ticket's share of the fees goes back, and how much of its amount is face value,
-- so its ledger reversal is known when it completes. The Stripe idempotency key is still stored
-- before Stripe is called. An order with some of its money back is `partially_refunded`.
DROP INDEX refunds_one_per_order;
CREATE INDEX refunds_by_order_index ON refunds (order_id, created_at);

ALTER TABLE refunds ADD COLUMN refund_fees boolean NOT NULL DEFAULT true;
ALTER TABLE refunds ADD COLUMN face_cents bigint CHECK (face_cents >= 0);
ALTER TABLE refunds ADD COLUMN platform_fee_cents bigint NOT NULL DEFAULT 0
    CHECK (platform_fee_cents >= 0);
ALTER TABLE refunds ADD COLUMN processing_fee_cents bigint NOT NULL DEFAULT 0
    CHECK (processing_fee_cents >= 0);
ALTER TABLE refunds ADD COLUMN whole_order boolean NOT NULL DEFAULT true;
ALTER TABLE refunds ADD COLUMN stock_returned boolean NOT NULL DEFAULT false;
ALTER TABLE refunds ADD COLUMN last_error text CHECK (length(last_error) <= 2000);
ALTER TABLE refunds ADD CONSTRAINT refunds_parts_add_up
    CHECK (face_cents IS NULL
           OR face_cents + platform_fee_cents + processing_fee_cents = amount_cents);

-- Refunds made before this migration refunded their whole order: the stock of a succeeded one
-- is back on sale exactly when its sale ended, which the reconciler still checks.
UPDATE refunds SET stock_returned = NOT EXISTS (
    SELECT 1 FROM sales WHERE sales.order_id = refunds.order_id AND sales.status = 'live');

ALTER TABLE refunds DROP CONSTRAINT refunds_kind_check;
ALTER TABLE refunds ADD CONSTRAINT refunds_kind_check
    CHECK (kind IN ('venue', 'late_payment', 'failed_fulfilment', 'cancellation', 'fan_request',
                    'stripe_dashboard', 'dispute'));

CREATE TABLE refund_tickets (
    refund_id uuid NOT NULL,
    ticket_id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    order_id uuid NOT NULL,
    face_cents bigint NOT NULL CHECK (face_cents >= 0),
    live boolean NOT NULL DEFAULT true,
    PRIMARY KEY (refund_id, ticket_id),
    FOREIGN KEY (refund_id, tenant_id) REFERENCES refunds (id, tenant_id),
    FOREIGN KEY (ticket_id, tenant_id) REFERENCES tickets (id, tenant_id),
    FOREIGN KEY (order_id, tenant_id) REFERENCES orders (id, tenant_id)
);
CREATE UNIQUE INDEX refund_tickets_one_live_refund_per_ticket ON refund_tickets (ticket_id)
    WHERE live;
CREATE INDEX refund_tickets_by_order_index ON refund_tickets (order_id);

ALTER TABLE refund_tickets ENABLE ROW LEVEL SECURITY;
ALTER TABLE refund_tickets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_fence ON refund_tickets
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE refund_tickets TO onsale_service;

ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('pending_payment', 'paid', 'fulfilled', 'payment_failed', 'expired',
                      'partially_refunded', 'refunded', 'cancelled'));
ALTER TABLE orders DROP CONSTRAINT orders_check1;
ALTER TABLE orders ADD CONSTRAINT orders_paid_at_when_paid
    CHECK (status NOT IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
           OR paid_at IS NOT NULL);
