-- The tenant fence: every table with a tenant_id gets row-level security, FORCE'd so even the owner
-- is fenced, with one policy that admits only the tenant set for the transaction by
-- set_config('app.current_tenant_id', ..., true). An unset or empty setting admits nothing.
-- A later migration that adds a tenant-owned table adds its own policy and grants.
DO $$
DECLARE
    fenced_table text;
BEGIN
    FOR fenced_table IN
        SELECT columns.table_name
        FROM information_schema.columns
        JOIN information_schema.tables USING (table_schema, table_name)
        WHERE columns.table_schema = 'public'
          AND columns.column_name = 'tenant_id'
          AND tables.table_type = 'BASE TABLE'
        ORDER BY columns.table_name
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', fenced_table);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', fenced_table);
        EXECUTE format(
            $policy$
            CREATE POLICY tenant_fence ON %I
                USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
            $policy$,
            fenced_table
        );
        EXECUTE format(
            'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE %I TO onsale_service', fenced_table
        );
    END LOOP;
END
$$;

-- The ledger and the audit log are append-only for the service.
REVOKE UPDATE, DELETE ON TABLE ledger_entries, audit_log FROM onsale_service;

-- Tenants are created by the owner; the service reads them.
GRANT SELECT ON TABLE tenants TO onsale_service;

GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO onsale_service;
