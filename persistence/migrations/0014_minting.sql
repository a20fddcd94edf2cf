-- The wallets fans registered for their ticket NFTs. A fan without one gets a custodial wallet
-- derived from the custody seed (minting/custody.py), which is never stored; a registered wallet
-- wins over it for every NFT minted after it is registered.
CREATE TABLE fan_wallets (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    user_id text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 255),
    address text NOT NULL CHECK (address ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$'),
    registered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);

-- The tenant fence of 0005_tenant_fence.sql, for this table.
ALTER TABLE fan_wallets ENABLE ROW LEVEL SECURITY;
ALTER TABLE fan_wallets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_fence ON fan_wallets
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE fan_wallets TO onsale_service;
