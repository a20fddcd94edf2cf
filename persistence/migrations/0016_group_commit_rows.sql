-- The group commit writes a few hundred holds and their idempotency records in one statement, and
-- the per-row costs of that statement bound the whole pipeline. Three of them go:
--
-- * A hold's items move into its row, as three parallel arrays (as `sales.seat_labels` keeps a
--   sale's seats): one row per hold instead of one per hold and one per item, with no second
--   primary key and event index to maintain and no key check of the item against its hold.
-- * The idempotency records lose their index in recorded order: only a rebuild reads them in that
--   order, all of an event's at once, and sorting them then is cheaper than keeping the index on
--   every insert.
-- * The references of the rows the group commit inserts (holds to their event and ticket types,
--   idempotency records to their event) are checked once per statement, over all its new rows,
--   instead of one key lookup per row. What a foreign key also guarantees, that the row referred
--   to stays, is kept by making those rows permanent: events and ticket types are never deleted
--   and never change their keys, and holds and records never move to another event.

-- Events and ticket types are never deleted; nothing in the product deletes them, and holds,
-- orders and tickets name them.
CREATE FUNCTION refuse_deleting() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% % cannot be deleted: what was sold names it', TG_TABLE_NAME, OLD.id
        USING ERRCODE = 'foreign_key_violation';
END
$$;

-- The columns in the trigger's arguments never change once the row is written.
CREATE FUNCTION refuse_changing_columns() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    column_name text;
BEGIN
    FOREACH column_name IN ARRAY TG_ARGV LOOP
        IF to_jsonb(NEW) -> column_name IS DISTINCT FROM to_jsonb(OLD) -> column_name THEN
            RAISE EXCEPTION '%.% never changes once written', TG_TABLE_NAME, column_name
                USING ERRCODE = 'check_violation';
        END IF;
    END LOOP;
    RETURN NEW;
END
$$;

CREATE TRIGGER events_stay BEFORE DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION refuse_deleting();
CREATE TRIGGER events_keep_their_keys BEFORE UPDATE OF id, tenant_id ON events
    FOR EACH ROW EXECUTE FUNCTION refuse_changing_columns('id', 'tenant_id');
CREATE TRIGGER ticket_types_stay BEFORE DELETE ON ticket_types
    FOR EACH ROW EXECUTE FUNCTION refuse_deleting();
CREATE TRIGGER ticket_types_keep_their_keys BEFORE UPDATE OF id, event_id, tenant_id ON ticket_types
    FOR EACH ROW EXECUTE FUNCTION refuse_changing_columns('id', 'event_id', 'tenant_id');

-- True when no element of the array appears twice.
CREATE FUNCTION has_no_repeats(anyarray) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT count(*) = count(DISTINCT element) FROM unnest($1) AS element
$$;

ALTER TABLE holds
    ADD COLUMN item_ticket_type_ids uuid[],
    ADD COLUMN item_quantities integer[],
    ADD COLUMN item_unit_prices_cents bigint[];

-- The owner moves every tenant's items, so the fence steps aside for this transaction.
ALTER TABLE holds NO FORCE ROW LEVEL SECURITY;
ALTER TABLE hold_items NO FORCE ROW LEVEL SECURITY;
UPDATE holds
SET item_ticket_type_ids = items.ticket_type_ids,
    item_quantities = items.quantities,
    item_unit_prices_cents = items.unit_prices_cents
FROM (
    SELECT hold_id,
           array_agg(ticket_type_id ORDER BY position, ticket_type_id) AS ticket_type_ids,
           array_agg(quantity ORDER BY position, ticket_type_id) AS quantities,
           array_agg(unit_price_cents ORDER BY position, ticket_type_id) AS unit_prices_cents
    FROM hold_items
    GROUP BY hold_id
) AS items
WHERE holds.id = items.hold_id;
ALTER TABLE holds FORCE ROW LEVEL SECURITY;
DROP TABLE hold_items;

-- Every hold holds something: one item per ticket type, each of a positive quantity at a price.
ALTER TABLE holds
    ALTER COLUMN item_ticket_type_ids SET NOT NULL,
    ALTER COLUMN item_quantities SET NOT NULL,
    ALTER COLUMN item_unit_prices_cents SET NOT NULL,
    ADD CONSTRAINT holds_items_are_whole CHECK (
        cardinality(item_ticket_type_ids) >= 1
        AND array_ndims(item_ticket_type_ids) = 1
        AND array_lower(item_ticket_type_ids, 1) = 1
        AND array_ndims(item_quantities) = 1
        AND array_ndims(item_unit_prices_cents) = 1
        AND cardinality(item_quantities) = cardinality(item_ticket_type_ids)
        AND cardinality(item_unit_prices_cents) = cardinality(item_ticket_type_ids)
        AND array_position(item_ticket_type_ids, NULL) IS NULL
    ),
    ADD CONSTRAINT holds_item_quantities_check CHECK (0 < ALL (item_quantities)),
    ADD CONSTRAINT holds_item_unit_prices_cents_check CHECK (0 <= ALL (item_unit_prices_cents)),
    -- A hold of one item, the common one, needs no look for repeats.
    ADD CONSTRAINT holds_items_name_each_ticket_type_once CHECK (
        CASE WHEN cardinality(item_ticket_type_ids) = 1 THEN true
             ELSE has_no_repeats(item_ticket_type_ids) END
    );

CREATE TRIGGER holds_stay_with_their_event_and_items
    BEFORE UPDATE OF tenant_id, event_id, item_ticket_type_ids, item_quantities,
                     item_unit_prices_cents ON holds
    FOR EACH ROW EXECUTE FUNCTION refuse_changing_columns(
        'tenant_id', 'event_id', 'item_ticket_type_ids', 'item_quantities',
        'item_unit_prices_cents');

-- A statement's new rows (its transition table `new_rows`) name events of their own tenant,
-- checked once per distinct event rather than once per row.
CREATE FUNCTION check_new_rows_name_their_tenants_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT FROM (SELECT DISTINCT tenant_id, event_id FROM new_rows) AS named
        WHERE NOT EXISTS (
            SELECT FROM events
            WHERE events.id = named.event_id AND events.tenant_id = named.tenant_id
        )
    ) THEN
        RAISE EXCEPTION 'a new row of % names an event that is not its tenant''s', TG_TABLE_NAME
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_TABLE_NAME || '_event_fkey';
    END IF;
    RETURN NULL;
END
$$;

-- A statement's new holds name ticket types of their own event, checked once per distinct type.
CREATE FUNCTION check_new_holds_name_their_events_ticket_types() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT FROM (
            SELECT DISTINCT hold.tenant_id, hold.event_id, item.ticket_type_id
            FROM new_holds AS hold, unnest(hold.item_ticket_type_ids) AS item (ticket_type_id)
        ) AS named
        WHERE NOT EXISTS (
            SELECT FROM ticket_types AS ticket_type
            WHERE ticket_type.id = named.ticket_type_id
              AND ticket_type.event_id = named.event_id
              AND ticket_type.tenant_id = named.tenant_id
        )
    ) THEN
        RAISE EXCEPTION 'a new hold names a ticket type that is not its event''s'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'holds_item_ticket_type_fkey';
    END IF;
    RETURN NULL;
END
$$;

ALTER TABLE holds DROP CONSTRAINT holds_event_id_tenant_id_fkey;
CREATE TRIGGER holds_name_their_event
    AFTER INSERT ON holds REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION check_new_rows_name_their_tenants_events();
CREATE TRIGGER holds_name_their_ticket_types
    AFTER INSERT ON holds REFERENCING NEW TABLE AS new_holds
    FOR EACH STATEMENT EXECUTE FUNCTION check_new_holds_name_their_events_ticket_types();

ALTER TABLE inventory_idempotency_records
    DROP CONSTRAINT inventory_idempotency_records_event_id_tenant_id_fkey;
CREATE TRIGGER inventory_idempotency_records_name_their_event
    AFTER INSERT ON inventory_idempotency_records REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION check_new_rows_name_their_tenants_events();
CREATE TRIGGER inventory_idempotency_records_stay_with_their_event
    BEFORE UPDATE OF tenant_id, event_id ON inventory_idempotency_records
    FOR EACH ROW EXECUTE FUNCTION refuse_changing_columns('tenant_id', 'event_id');

DROP INDEX inventory_idempotency_records_order_index;
