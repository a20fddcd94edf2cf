-- What the InventoryActor's group commit writes and its rebuild reads back: every seat state of the
-- engine, hold extensions and the order of items and seats, withheld general-admission units, the
-- engine's sales and idempotency records, and a directory that tells an actor its event's tenant.
-- Seat claims stay single: one live hold_seats row per seat, and every state move is checked
-- against the state it leaves.

ALTER TABLE seats DROP CONSTRAINT seats_state_check;
ALTER TABLE seats ADD CONSTRAINT seats_state_check CHECK (
    state IN ('available', 'held', 'sold', 'killed', 'set_aside_comps', 'set_aside_press',
              'set_aside_artists')
);
-- The rebuild reads only the seats that are not available.
CREATE INDEX seats_unavailable_index ON seats (event_id, seat_index) WHERE state <> 'available';

-- The order the venue listed its ticket types in, which the engine's configuration keeps.
ALTER TABLE ticket_types ADD COLUMN position integer NOT NULL DEFAULT 0 CHECK (position >= 0);

ALTER TABLE holds ADD COLUMN extensions integer NOT NULL DEFAULT 0 CHECK (extensions >= 0);
ALTER TABLE hold_items ADD COLUMN position integer NOT NULL DEFAULT 0 CHECK (position >= 0);
ALTER TABLE hold_seats ADD COLUMN position integer NOT NULL DEFAULT 0 CHECK (position >= 0);
CREATE INDEX hold_items_by_event_index ON hold_items (event_id, hold_id);
CREATE INDEX hold_seats_by_event_index ON hold_seats (event_id, hold_id);

-- The directory an InventoryActor reads before it knows which tenant to act for: event ids and
-- their tenants, nothing else. The foreign key lets a row state only the event's true tenant;
-- the service may read and add rows, never change them.
CREATE TABLE event_directory (
    event_id uuid PRIMARY KEY,
    owner_tenant_id uuid NOT NULL,
    FOREIGN KEY (event_id, owner_tenant_id) REFERENCES events (id, tenant_id)
);
GRANT SELECT, INSERT ON TABLE event_directory TO onsale_service;

-- General-admission quantity a venue keeps off sale, per ticket type and withholding. A row
-- returned to zero stays, so a batch adds its net difference in one upsert.
CREATE TABLE withheld_units (
    tenant_id uuid NOT NULL,
    event_id uuid NOT NULL,
    ticket_type_id uuid NOT NULL,
    withholding text NOT NULL CHECK (withholding IN ('kill', 'comps', 'press', 'artists')),
    quantity integer NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (event_id, ticket_type_id, withholding),
    FOREIGN KEY (ticket_type_id, event_id, tenant_id)
        REFERENCES ticket_types (id, event_id, tenant_id)
);

-- The sold inventory of one order as the engine keeps it: from a converted hold, or
-- complimentary out of an allocation. It is live until refunded or cancelled, which is final.
CREATE TABLE sales (
    order_id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    event_id uuid NOT NULL,
    user_id text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 255),
    hold_id uuid UNIQUE,
    complimentary boolean NOT NULL,
    allocation text CHECK (allocation IN ('comps', 'press', 'artists')),
    seat_labels text[] NOT NULL,
    subtotal_cents bigint NOT NULL CHECK (subtotal_cents >= 0),
    fees_cents bigint NOT NULL CHECK (fees_cents >= 0),
    total_cents bigint NOT NULL CHECK (total_cents >= 0),
    status text NOT NULL CHECK (status IN ('live', 'refunded', 'cancelled')),
    sold_at timestamptz NOT NULL,
    ended_at timestamptz,
    CHECK ((status = 'live') = (ended_at IS NULL)),
    CHECK (total_cents = subtotal_cents + fees_cents),
    CHECK (complimentary = (allocation IS NOT NULL)),
    CHECK (complimentary = (hold_id IS NULL)),
    CHECK (NOT complimentary OR total_cents = 0),
    FOREIGN KEY (event_id, tenant_id) REFERENCES events (id, tenant_id),
    FOREIGN KEY (hold_id, event_id, tenant_id) REFERENCES holds (id, event_id, tenant_id),
    UNIQUE (order_id, event_id, tenant_id)
);
CREATE INDEX sales_live_index ON sales (event_id, order_id) WHERE status = 'live';

CREATE TRIGGER sales_final_status
    BEFORE UPDATE OF status ON sales
    FOR EACH ROW
    EXECUTE FUNCTION refuse_leaving_final_status('refunded', 'cancelled');

CREATE TABLE sale_items (
    order_id uuid NOT NULL,
    ticket_type_id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    event_id uuid NOT NULL,
    position integer NOT NULL CHECK (position >= 0),
    quantity integer NOT NULL CHECK (quantity > 0),
    unit_price_cents bigint NOT NULL CHECK (unit_price_cents >= 0),
    PRIMARY KEY (order_id, ticket_type_id),
    UNIQUE (order_id, position),
    FOREIGN KEY (order_id, event_id, tenant_id) REFERENCES sales (order_id, event_id, tenant_id),
    FOREIGN KEY (ticket_type_id, event_id, tenant_id)
        REFERENCES ticket_types (id, event_id, tenant_id)
);
CREATE INDEX sale_items_by_event_index ON sale_items (event_id, order_id);

-- A seat sold through a converted hold keeps its hold's claim until its sale ends.
CREATE FUNCTION end_seat_claims_of_ended_sale() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE hold_seats SET live = false WHERE hold_id = NEW.hold_id AND live;
    RETURN NEW;
END
$$;

CREATE TRIGGER sales_end_seat_claims
    AFTER UPDATE OF status ON sales
    FOR EACH ROW
    WHEN (OLD.status = 'live' AND NEW.status <> 'live' AND NEW.hold_id IS NOT NULL)
    EXECUTE FUNCTION end_seat_claims_of_ended_sale();

-- The engine's idempotency records per event, replayed in the order they were recorded
-- (position), which is the order expiry forgets them in.
CREATE TABLE inventory_idempotency_records (
    tenant_id uuid NOT NULL,
    event_id uuid NOT NULL,
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    position bigint GENERATED ALWAYS AS IDENTITY,
    fingerprint bytea NOT NULL,
    outcome bytea NOT NULL,
    recorded_at_ms bigint NOT NULL,
    PRIMARY KEY (event_id, key),
    FOREIGN KEY (event_id, tenant_id) REFERENCES events (id, tenant_id)
);
CREATE INDEX inventory_idempotency_records_order_index
    ON inventory_idempotency_records (event_id, position);

DO $$
DECLARE
    fenced_table text;
BEGIN
    FOREACH fenced_table IN ARRAY ARRAY['withheld_units', 'sales', 'sale_items',
                                        'inventory_idempotency_records']
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

GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO onsale_service;
