-- After the sale: tickets that change hands (transfers, reissues) while their NFT stays one, the
-- gates' scans, complimentary orders, the events that forbid transfers, and the directory that
-- leads a fan to the tenants holding their tickets.

-- A ticket that replaced another (given to a fan by a transfer, or reissued after a loss) names
-- its predecessor, which has ended; a ticket has at most one successor. It carries the NFT of the
-- first ticket of its line (nft_ticket_id), and changed_hands_at is when its line last went from
-- one fan to another, which the transfer cooldown counts from.
ALTER TABLE tickets ADD COLUMN predecessor_ticket_id uuid UNIQUE;
ALTER TABLE tickets ADD COLUMN nft_ticket_id uuid;
ALTER TABLE tickets ADD COLUMN changed_hands_at timestamptz;
ALTER TABLE tickets ADD CONSTRAINT tickets_predecessor_fkey
    FOREIGN KEY (predecessor_ticket_id, tenant_id) REFERENCES tickets (id, tenant_id);
ALTER TABLE tickets ADD CONSTRAINT tickets_nft_ticket_fkey
    FOREIGN KEY (nft_ticket_id, tenant_id) REFERENCES tickets (id, tenant_id);
ALTER TABLE tickets ADD CONSTRAINT tickets_successor_carries_an_nft
    CHECK ((predecessor_ticket_id IS NULL) = (nft_ticket_id IS NULL));

-- An order's tickets are issued once: its first tickets are unique by position; a successor takes
-- its predecessor's position.
DROP INDEX tickets_one_per_order_position;
CREATE UNIQUE INDEX tickets_one_per_order_position ON tickets (order_id, position)
    WHERE predecessor_ticket_id IS NULL;

-- The offline scan manifest pages through an event's tickets by id; the expiry sweep reads the
-- unused tickets of ended events, which this partial index keeps small once they have expired.
CREATE INDEX tickets_by_event_index ON tickets (event_id, id);
CREATE INDEX tickets_unused_by_event_index ON tickets (event_id)
    WHERE status IN ('valid', 'locked');

-- One row per transfer: the ticket given, the recipient's new ticket, and where the NFT went on
-- chain. The unique keys make a ticket leave its fan once.
CREATE TABLE ticket_transfers (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    event_id uuid NOT NULL,
    from_ticket_id uuid NOT NULL UNIQUE,
    to_ticket_id uuid NOT NULL UNIQUE,
    nft_ticket_id uuid NOT NULL,
    from_user_id text NOT NULL CHECK (length(from_user_id) BETWEEN 1 AND 255),
    to_user_id text NOT NULL CHECK (length(to_user_id) BETWEEN 1 AND 255),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'transferred', 'failed')),
    from_address text,
    to_address text,
    signature text,
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error text CHECK (length(last_error) <= 2000),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (from_user_id <> to_user_id),
    CHECK (status <> 'transferred' OR to_address IS NOT NULL),
    FOREIGN KEY (event_id, tenant_id) REFERENCES events (id, tenant_id),
    FOREIGN KEY (from_ticket_id, tenant_id) REFERENCES tickets (id, tenant_id),
    FOREIGN KEY (to_ticket_id, tenant_id) REFERENCES tickets (id, tenant_id),
    FOREIGN KEY (nft_ticket_id, tenant_id) REFERENCES tickets (id, tenant_id)
);
CREATE INDEX ticket_transfers_by_giver_index ON ticket_transfers (from_user_id, created_at);

-- Every scan at a gate, admitted or rejected, online or uploaded later from an offline gate. A
-- ticket is admitted once: the partial unique index is the database's half of that rule.
CREATE TABLE ticket_scans (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    event_id uuid NOT NULL,
    ticket_id uuid,
    device_id text NOT NULL CHECK (length(device_id) BETWEEN 1 AND 100),
    scanned_by text NOT NULL CHECK (length(scanned_by) BETWEEN 1 AND 320),
    result text NOT NULL CHECK (result IN ('admitted', 'rejected')),
    reason text CHECK (reason ~ '^[a-z][a-z_]{0,39}$'),
    offline boolean NOT NULL DEFAULT false,
    scanned_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((result = 'admitted') = (reason IS NULL)),
    CHECK (result = 'rejected' OR ticket_id IS NOT NULL),
    FOREIGN KEY (event_id, tenant_id) REFERENCES events (id, tenant_id),
    FOREIGN KEY (ticket_id, tenant_id) REFERENCES tickets (id, tenant_id)
);
CREATE UNIQUE INDEX ticket_scans_one_admission_per_ticket ON ticket_scans (ticket_id)
    WHERE result = 'admitted';
CREATE INDEX ticket_scans_by_event_index ON ticket_scans (event_id, recorded_at);

DO $$
DECLARE
    fenced_table text;
BEGIN
    FOREACH fenced_table IN ARRAY ARRAY['ticket_transfers', 'ticket_scans']
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

-- A complimentary order has no hold and no payment: it names why it was given, and costs nothing.
ALTER TABLE orders ALTER COLUMN hold_id DROP NOT NULL;
ALTER TABLE orders ADD COLUMN comp_reason text CHECK (comp_reason IN (
    'press', 'artist_guest', 'vip_guest', 'staff', 'promotional', 'sponsor', 'contest_winner',
    'customer_service'));
ALTER TABLE orders ADD CONSTRAINT orders_comp_or_hold
    CHECK ((hold_id IS NULL) = (comp_reason IS NOT NULL));
ALTER TABLE orders ADD CONSTRAINT orders_comps_are_free
    CHECK (comp_reason IS NULL OR total_cents = 0);

-- A venue may forbid its fans to pass tickets on.
ALTER TABLE events ADD COLUMN transfers_allowed boolean NOT NULL DEFAULT true;

-- Which tenants hold tickets of a fan: `GET /v1/me/tickets` reads it before it knows a tenant,
-- as the event directory is read for an event. It names a fan and a tenant, nothing else; every
-- insert of tickets adds its owners, so no path that issues a ticket can forget it.
CREATE TABLE ticket_holder_directory (
    owner_user_id text NOT NULL CHECK (length(owner_user_id) BETWEEN 1 AND 255),
    holder_tenant_id uuid NOT NULL REFERENCES tenants (id),
    PRIMARY KEY (owner_user_id, holder_tenant_id)
);
GRANT SELECT, INSERT ON TABLE ticket_holder_directory TO onsale_service;

CREATE FUNCTION record_ticket_holders() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ticket_holder_directory (owner_user_id, holder_tenant_id)
    SELECT DISTINCT owner_user_id, tenant_id FROM new_tickets
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER tickets_record_holders
    AFTER INSERT ON tickets
    REFERENCING NEW TABLE AS new_tickets
    FOR EACH STATEMENT
    EXECUTE FUNCTION record_ticket_holders();

-- The fence applies to the owner too, so it is lifted for the one statement that lists the
-- holders of tickets issued before this migration.
ALTER TABLE tickets NO FORCE ROW LEVEL SECURITY;
INSERT INTO ticket_holder_directory (owner_user_id, holder_tenant_id)
SELECT DISTINCT owner_user_id, tenant_id FROM tickets
ON CONFLICT DO NOTHING;
ALTER TABLE tickets FORCE ROW LEVEL SECURITY;
