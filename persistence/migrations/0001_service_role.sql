-- The role the service connects as. It owns no table and cannot bypass row-level security, so
-- the tenant fence holds even when the code forgets it. Roles are cluster-wide: when another
-- database on this server already created it, it is left as it is.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'onsale_service') THEN
        CREATE ROLE onsale_service LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
EXCEPTION
    -- Another database on this server created the role between the check and the CREATE.
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

GRANT USAGE ON SCHEMA public TO onsale_service;

-- The root of tenancy: readable by the service (the outbox dispatcher walks tenants), changed
-- only by the owner.
CREATE TABLE tenants (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);
