-- Which tenants the Supervisor's round must visit, found in one round trip, as the outbox
-- dispatcher and the payment reconciler find theirs (0036).
--
-- A round asks each visited tenant for its busy events, expires the unused tickets of events
-- that ended long enough ago, and reads its outbox backlog. A tenant with none of these to give
-- is one with no live hold, no open event with a waiting room, no pending outbox message and no
-- unused ticket of an event ended before `ended_before_ms` (milliseconds since the epoch, passed
-- in like the round's time): this function names the others. Like 0036's, it runs as its caller
-- and acts for one tenant at a time.
CREATE FUNCTION tenants_to_supervise(ended_before_ms bigint, expiring_statuses text[])
RETURNS SETOF uuid
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    callers_tenant text := current_setting('app.current_tenant_id', true);
    ended_before timestamptz := timestamptz 'epoch' + ended_before_ms * interval '1 millisecond';
    tenant uuid;
BEGIN
    FOR tenant IN SELECT id FROM public.tenants ORDER BY id LOOP
        PERFORM set_config('app.current_tenant_id', tenant::text, true);
        IF EXISTS (SELECT 1 FROM public.holds WHERE holds.status = 'active')
           OR EXISTS (
               SELECT 1 FROM public.events
               WHERE events.waiting_room_enabled AND events.closes_at > now())
           OR EXISTS (SELECT 1 FROM public.outbox WHERE outbox.status = 'pending')
           OR EXISTS (
               SELECT 1 FROM public.tickets JOIN public.events ON events.id = tickets.event_id
               WHERE events.ends_at <= ended_before
                 AND tickets.status = ANY(expiring_statuses))
        THEN
            RETURN NEXT tenant;
        END IF;
    END LOOP;
    PERFORM set_config('app.current_tenant_id', coalesce(callers_tenant, ''), true);
END
$$;
REVOKE ALL ON FUNCTION tenants_to_supervise(bigint, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenants_to_supervise(bigint, text[]) TO onsale_service;
