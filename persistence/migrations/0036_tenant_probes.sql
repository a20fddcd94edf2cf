-- Which tenants a standing loop must visit, found in one round trip.
--
-- The outbox dispatcher looks for due messages five times a second and the payment reconciler
-- for unsettled payments every two seconds. Each visited every tenant in a transaction of its
-- own, so their cost grew with the number of tenants, busy or not, until the rounds alone kept a
-- node busy. These functions ask each tenant a cheap question inside Postgres, one index probe a
-- tenant, and the loops visit only the tenants they name; the visit's own queries decide what
-- to do there.
--
-- They run as their caller (the service role), so the tenant fence binds every probe: each acts
-- for one tenant at a time exactly as a tenant transaction does, and gives back the caller's own
-- setting when it is done.

CREATE FUNCTION tenants_with_due_outbox() RETURNS SETOF uuid
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    callers_tenant text := current_setting('app.current_tenant_id', true);
    tenant uuid;
BEGIN
    FOR tenant IN SELECT id FROM public.tenants ORDER BY id LOOP
        PERFORM set_config('app.current_tenant_id', tenant::text, true);
        IF EXISTS (
            SELECT 1 FROM public.outbox
            WHERE outbox.status = 'pending' AND outbox.available_at <= now()
        ) THEN
            RETURN NEXT tenant;
        END IF;
    END LOOP;
    PERFORM set_config('app.current_tenant_id', coalesce(callers_tenant, ''), true);
END
$$;
REVOKE ALL ON FUNCTION tenants_with_due_outbox() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenants_with_due_outbox() TO onsale_service;

-- An unsettled payment: an order still waiting for its payment or for its tickets, or a refund
-- not yet sent or whose stock is not yet back on sale.
CREATE INDEX orders_unsettled_index ON orders (tenant_id)
    WHERE status IN ('pending_payment', 'paid');
CREATE INDEX refunds_unfinished_index ON refunds (tenant_id)
    WHERE status = 'pending' OR (status = 'succeeded' AND NOT stock_returned);

CREATE FUNCTION tenants_with_unsettled_payments() RETURNS SETOF uuid
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    callers_tenant text := current_setting('app.current_tenant_id', true);
    tenant uuid;
BEGIN
    FOR tenant IN SELECT id FROM public.tenants ORDER BY id LOOP
        PERFORM set_config('app.current_tenant_id', tenant::text, true);
        IF EXISTS (
            SELECT 1 FROM public.orders WHERE orders.status IN ('pending_payment', 'paid')
        ) OR EXISTS (
            SELECT 1 FROM public.refunds
            WHERE refunds.status = 'pending'
               OR (refunds.status = 'succeeded' AND NOT refunds.stock_returned)
        ) THEN
            RETURN NEXT tenant;
        END IF;
    END LOOP;
    PERFORM set_config('app.current_tenant_id', coalesce(callers_tenant, ''), true);
END
$$;
REVOKE ALL ON FUNCTION tenants_with_unsettled_payments() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenants_with_unsettled_payments() TO onsale_service;
