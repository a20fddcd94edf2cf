-- Codes a venue gives out: a presale code opens the sale early to its fans and unlocks hidden
-- ticket types; a discount code lowers unit prices. Codes are case-insensitive: `code_key` is the
-- upper-cased code, unique per event. The InventoryActor decides every use and writes these rows
-- in its group commit; `held` counts uses taken by live holds and `uses` those kept by paid
-- orders, and Postgres re-checks the caps on every write, as it re-checks seats.
CREATE TABLE codes (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    event_id uuid NOT NULL,
    code text NOT NULL CHECK (length(code) BETWEEN 1 AND 64),
    code_key text NOT NULL CHECK (code_key = upper(code)),
    kind text NOT NULL CHECK (kind IN ('presale', 'discount')),
    unlocks uuid[] NOT NULL DEFAULT '{}',
    applies_to uuid[] NOT NULL DEFAULT '{}',
    valid_from timestamptz,
    valid_until timestamptz,
    max_uses integer CHECK (max_uses IS NULL OR max_uses >= 1),
    max_uses_per_fan integer CHECK (max_uses_per_fan IS NULL OR max_uses_per_fan >= 1),
    discount_percent integer CHECK (discount_percent IS NULL OR discount_percent BETWEEN 1 AND 100),
    discount_amount_cents bigint CHECK (discount_amount_cents IS NULL OR discount_amount_cents >= 1),
    active boolean NOT NULL DEFAULT true,
    uses integer NOT NULL DEFAULT 0 CHECK (uses >= 0),
    held integer NOT NULL DEFAULT 0 CHECK (held >= 0),
    created_at timestamptz NOT NULL,
    CHECK (max_uses IS NULL OR uses + held <= max_uses),
    CHECK (discount_percent IS NULL OR discount_amount_cents IS NULL),
    CHECK (valid_from IS NULL OR valid_until IS NULL OR valid_from < valid_until),
    UNIQUE (event_id, code_key),
    UNIQUE (id, event_id, tenant_id),
    FOREIGN KEY (event_id, tenant_id) REFERENCES events (id, tenant_id)
);

-- A fan's uses of a code (live holds and paid orders), capped by the code's per-fan limit,
-- copied here so the row itself can be checked.
CREATE TABLE code_fan_uses (
    code_id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    event_id uuid NOT NULL,
    user_id text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 255),
    taken integer NOT NULL CHECK (taken >= 0),
    cap integer CHECK (cap IS NULL OR cap >= 1),
    CHECK (cap IS NULL OR taken <= cap),
    PRIMARY KEY (code_id, user_id),
    FOREIGN KEY (code_id, event_id, tenant_id) REFERENCES codes (id, event_id, tenant_id)
);

-- The code a hold was placed with (one code per hold).
ALTER TABLE holds ADD COLUMN code_id uuid;
ALTER TABLE holds ADD FOREIGN KEY (code_id, event_id, tenant_id)
    REFERENCES codes (id, event_id, tenant_id);

ALTER TABLE codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE codes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_fence ON codes
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE codes TO onsale_service;

ALTER TABLE code_fan_uses ENABLE ROW LEVEL SECURITY;
ALTER TABLE code_fan_uses FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_fence ON code_fan_uses
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE code_fan_uses TO onsale_service;
