-- The wait list: one entry per fan and event, in join order (`sequence`, the engine's), waiting
-- for stock to come back, offered a hold of it, or ended. The InventoryActor writes every row in
-- its group commit; `email` is where the offer is announced. An offered entry names its hold, and
-- keeps naming it once the offer ended (converted, expired or left).
ALTER TABLE events ADD COLUMN wait_list_enabled boolean NOT NULL DEFAULT false;
ALTER TABLE events ADD COLUMN offer_ttl_s integer NOT NULL DEFAULT 600
    CHECK (offer_ttl_s BETWEEN 60 AND 3600);

CREATE TABLE wait_list_entries (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    event_id uuid NOT NULL,
    user_id text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 255),
    email text CHECK (email IS NULL OR length(email) BETWEEN 3 AND 320),
    quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 4),
    ticket_type_id uuid,
    sequence bigint NOT NULL CHECK (sequence >= 0),
    status text NOT NULL DEFAULT 'waiting'
        CHECK (status IN ('waiting', 'offered', 'converted', 'expired', 'left')),
    hold_id uuid,
    offer_expires_at_ms bigint,
    joined_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CHECK ((status = 'waiting') = (hold_id IS NULL) OR status = 'left'),
    CHECK ((hold_id IS NULL) = (offer_expires_at_ms IS NULL)),
    UNIQUE (event_id, user_id),
    UNIQUE (event_id, sequence),
    FOREIGN KEY (event_id, tenant_id) REFERENCES events (id, tenant_id),
    FOREIGN KEY (ticket_type_id, event_id, tenant_id)
        REFERENCES ticket_types (id, event_id, tenant_id),
    FOREIGN KEY (hold_id, event_id, tenant_id) REFERENCES holds (id, event_id, tenant_id)
);
CREATE UNIQUE INDEX wait_list_entries_by_hold_index ON wait_list_entries (hold_id)
    WHERE hold_id IS NOT NULL;

CREATE TRIGGER wait_list_entries_final_status
    BEFORE UPDATE OF status ON wait_list_entries
    FOR EACH ROW
    EXECUTE FUNCTION refuse_leaving_final_status('converted', 'expired', 'left');

ALTER TABLE wait_list_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE wait_list_entries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_fence ON wait_list_entries
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE wait_list_entries TO onsale_service;
