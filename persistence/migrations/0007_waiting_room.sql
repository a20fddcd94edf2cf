-- What the WaitingRoomActor's commits write and its rebuild reads back: one row per room (the
-- engine's WaitingRoomRow plus the epoch that fences a stale actor) and one row per place (the
-- engine's PlaceRow). waiting_room_entries of 0002 kept a place only once drawn and no join
-- sequence or last-seen time, so it could not rebuild the room; it held no service data and goes.

DROP TABLE waiting_room_entries;

-- The room of one event, created from the event's settings when its first actor takes its epoch.
-- Every commit updates this row under `epoch = <the actor's epoch>`, so a stale actor writes
-- nothing, and a newer actor's take waits for the commit in flight (it updates the same row).
CREATE TABLE waiting_rooms (
    event_id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    epoch bigint NOT NULL CHECK (epoch >= 1),
    holder text NOT NULL CHECK (length(holder) BETWEEN 1 AND 200),
    opens_at_ms bigint NOT NULL,
    admit_per_second integer NOT NULL CHECK (admit_per_second > 0),
    max_active_shoppers integer NOT NULL CHECK (max_active_shoppers > 0),
    access_ttl_s integer NOT NULL CHECK (access_ttl_s > 0),
    pre_queue_count integer NOT NULL DEFAULT 0 CHECK (pre_queue_count >= 0),
    pre_queue_closed boolean NOT NULL DEFAULT false,
    draw_seed numeric(20, 0) CHECK (draw_seed BETWEEN 0 AND 18446744073709551615),
    opened_at_ms bigint,
    head_slot integer NOT NULL DEFAULT 0 CHECK (head_slot >= 0),
    admission_credit_milli bigint NOT NULL DEFAULT 0 CHECK (admission_credit_milli >= 0),
    credited_at_ms bigint NOT NULL DEFAULT 0,
    CHECK ((draw_seed IS NULL) = (opened_at_ms IS NULL)),
    CHECK (opened_at_ms IS NULL OR pre_queue_closed),
    FOREIGN KEY (event_id, tenant_id) REFERENCES events (id, tenant_id),
    UNIQUE (event_id, tenant_id)
);

-- One place per fan and event, numbered by join sequence; slot orders the queue. The slot key is
-- checked at the end of each statement, since the draw permutes the pre-queue's slots in one.
CREATE TABLE waiting_room_places (
    tenant_id uuid NOT NULL,
    event_id uuid NOT NULL,
    sequence integer NOT NULL CHECK (sequence >= 0),
    fan_id text NOT NULL CHECK (length(fan_id) BETWEEN 1 AND 255),
    slot integer NOT NULL CHECK (slot >= 0),
    state text NOT NULL CHECK (state IN ('pre_queue', 'waiting', 'admitted', 'expired')),
    last_seen_ms bigint NOT NULL,
    admitted_at_ms bigint,
    CHECK (state <> 'admitted' OR admitted_at_ms IS NOT NULL),
    CHECK (state NOT IN ('pre_queue', 'waiting') OR admitted_at_ms IS NULL),
    PRIMARY KEY (event_id, sequence),
    UNIQUE (event_id, fan_id),
    CONSTRAINT waiting_room_places_slot_key UNIQUE (event_id, slot) DEFERRABLE INITIALLY IMMEDIATE,
    FOREIGN KEY (event_id, tenant_id) REFERENCES waiting_rooms (event_id, tenant_id)
);

DO $$
DECLARE
    fenced_table text;
BEGIN
    FOREACH fenced_table IN ARRAY ARRAY['waiting_rooms', 'waiting_room_places']
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
