-- Scanner devices a venue registers for its gates. A device scans with a token shown once at
-- registration; only the sha256 of its secret is kept, so a leaked table lets nobody scan. A
-- device may be limited to some of its tenant's events (`event_ids`, empty for all) and carries
-- the zones it guards for the entry policies. Revoking sets `revoked_at`; the row stays for the
-- record, and every gateway reads it on each use, so revocation takes effect at once.
CREATE TABLE scanner_devices (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    event_ids uuid[] NOT NULL DEFAULT '{}',
    zones text[] NOT NULL DEFAULT '{}',
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_by text NOT NULL CHECK (length(created_by) BETWEEN 1 AND 320),
    created_at timestamptz NOT NULL,
    last_seen_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX scanner_devices_by_tenant_index ON scanner_devices (tenant_id, created_at);

ALTER TABLE scanner_devices ENABLE ROW LEVEL SECURITY;
ALTER TABLE scanner_devices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_fence ON scanner_devices
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE scanner_devices TO onsale_service;
