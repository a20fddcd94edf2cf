-- What the gateway needs: tenants registered from their signed token claims, and the Idempotency-Key
-- store keyed by the gateway's caller, keeping the first response's media type, purged per tenant.

-- The service cannot write tenants (0001); this function, run as its owner, can add one and do
-- nothing else. Its search_path is fixed and the table named in full, so no schema the caller can
-- write changes what it runs.
CREATE FUNCTION register_tenant(tenant_id uuid) RETURNS void
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO public.tenants (id, name)
    VALUES (register_tenant.tenant_id, 'tenant ' || register_tenant.tenant_id::text)
    ON CONFLICT (id) DO NOTHING
$$;
REVOKE ALL ON FUNCTION register_tenant(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION register_tenant(uuid) TO onsale_service;

-- The caller is the tenant id, a slash and the token's user id (up to 255 characters), so one
-- user id in two tenants is two callers.
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_caller_check;
ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_caller_check
    CHECK (length(caller) BETWEEN 1 AND 320);

-- A replay carries the first response's media type with its status and bytes.
ALTER TABLE idempotency_keys ADD COLUMN response_media_type text NOT NULL
    DEFAULT 'application/json' CHECK (length(response_media_type) BETWEEN 1 AND 255);

-- The housekeeping purge runs inside one tenant's transaction at a time.
DROP INDEX idempotency_keys_expiry_index;
CREATE INDEX idempotency_keys_expiry_index ON idempotency_keys (tenant_id, expires_at);
