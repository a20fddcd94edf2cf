-- Tickets offered by email. The giver's ticket stays theirs until someone signs in and claims it
-- with the token the email carries; only the sha256 of the token's secret is kept. A ticket has at
-- most one pending claim (the partial unique index), so it is offered to one address at a time;
-- a claim ends accepted (naming the ticket its taker received), cancelled by its giver, or expired
-- (marked when the ticket is next offered). `kind` says whether a fan gave it (`transfer`) or the
-- venue did (`comp`, the rules between fans do not apply).
CREATE TABLE ticket_claims (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    event_id uuid NOT NULL,
    ticket_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('transfer', 'comp')),
    giver_user_id text NOT NULL CHECK (length(giver_user_id) BETWEEN 1 AND 255),
    to_email text NOT NULL CHECK (length(to_email) BETWEEN 3 AND 320),
    secret_hash bytea NOT NULL CHECK (length(secret_hash) = 32),
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'accepted', 'cancelled', 'expired')),
    expires_at timestamptz NOT NULL,
    accepted_by text,
    accepted_ticket_id uuid,
    created_at timestamptz NOT NULL,
    ended_at timestamptz,
    CHECK ((status = 'accepted') = (accepted_ticket_id IS NOT NULL)),
    CHECK ((status = 'pending') = (ended_at IS NULL)),
    FOREIGN KEY (event_id, tenant_id) REFERENCES events (id, tenant_id),
    FOREIGN KEY (ticket_id, tenant_id) REFERENCES tickets (id, tenant_id),
    FOREIGN KEY (accepted_ticket_id, tenant_id) REFERENCES tickets (id, tenant_id)
);
CREATE UNIQUE INDEX ticket_claims_one_pending_per_ticket ON ticket_claims (ticket_id)
    WHERE status = 'pending';
CREATE INDEX ticket_claims_by_giver_index ON ticket_claims (tenant_id, giver_user_id, created_at);

ALTER TABLE ticket_claims ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticket_claims FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_fence ON ticket_claims
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE ticket_claims TO onsale_service;
