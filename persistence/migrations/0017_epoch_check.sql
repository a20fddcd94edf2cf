-- The epoch fence as a function, so a group commit checks it in the round trip that opens its
-- transaction (after `BEGIN` and the tenant's `set_config`) instead of one of its own.
-- It takes the same share lock on the epoch row as before, held to the end of the transaction, so
-- a concurrent take still waits for the commit; a stale writer gets SQLSTATE OS001 and writes
-- nothing, because the transaction is aborted before its first write.
CREATE FUNCTION check_inventory_epoch(checked_event_id uuid, writer_epoch bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    current_epoch bigint;
BEGIN
    SELECT epoch INTO current_epoch FROM event_epochs WHERE event_id = checked_event_id FOR SHARE;
    IF current_epoch IS DISTINCT FROM writer_epoch THEN
        RAISE EXCEPTION 'event % is at epoch %; this writer holds %',
            checked_event_id, coalesce(current_epoch::text, 'none'), writer_epoch
            USING ERRCODE = 'OS001';
    END IF;
END
$$;
