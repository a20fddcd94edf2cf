-- Chargebacks Stripe tells us of, one row per Stripe dispute. `status` is the phase recorded
-- (engine/disputes.py): a dispute's effects on its order's tickets and ledger are decided from it
-- under the row's lock, so a webhook delivered twice or out of order never applies them twice.
-- `stripe_status` is Stripe's own last word. A closed dispute's row never changes again.
CREATE TABLE disputes (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    provider_dispute_id text NOT NULL UNIQUE CHECK (length(provider_dispute_id) BETWEEN 1 AND 255),
    order_id uuid NOT NULL,
    payment_id uuid NOT NULL,
    status text NOT NULL CHECK (status IN ('open', 'won', 'lost')),
    stripe_status text NOT NULL CHECK (length(stripe_status) BETWEEN 1 AND 64),
    amount_cents bigint NOT NULL CHECK (amount_cents > 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    reason text CHECK (length(reason) <= 255),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    closed_at timestamptz,
    CHECK ((status = 'open') = (closed_at IS NULL)),
    FOREIGN KEY (order_id, tenant_id) REFERENCES orders (id, tenant_id),
    FOREIGN KEY (payment_id, tenant_id) REFERENCES payments (id, tenant_id),
    UNIQUE (id, tenant_id)
);
CREATE INDEX disputes_by_order_index ON disputes (order_id);

ALTER TABLE disputes ENABLE ROW LEVEL SECURITY;
ALTER TABLE disputes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_fence ON disputes
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE disputes TO onsale_service;
