-- Venues, events with their on-sale settings, ticket types, seats, the waiting room and the
-- per-event epoch that fences a stale InventoryActor. Every row carries the tenant of its event;
-- composite foreign keys keep a child's tenant and event equal to its parent's.

CREATE TABLE venues (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name),
    UNIQUE (id, tenant_id)
);

CREATE TABLE events (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    venue_id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status text NOT NULL DEFAULT 'scheduled'
        CHECK (status IN ('scheduled', 'on_sale', 'paused', 'sold_out', 'closed')),
    opens_at timestamptz NOT NULL,
    closes_at timestamptz NOT NULL,
    hold_ttl_s integer NOT NULL CHECK (hold_ttl_s > 0),
    max_tickets_per_user integer NOT NULL CHECK (max_tickets_per_user > 0),
    waiting_room_enabled boolean NOT NULL DEFAULT false,
    admit_per_second integer NOT NULL CHECK (admit_per_second > 0),
    max_active_shoppers integer NOT NULL CHECK (max_active_shoppers > 0),
    access_ttl_s integer NOT NULL CHECK (access_ttl_s > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at >= starts_at),
    CHECK (closes_at > opens_at),
    FOREIGN KEY (venue_id, tenant_id) REFERENCES venues (id, tenant_id),
    UNIQUE (id, tenant_id)
);
CREATE INDEX events_tenant_id_index ON events (tenant_id);

-- held_quantity and sold_quantity are written in the same transaction as the holds and tickets
-- they count, so Postgres rejects an oversell even if the InventoryActor miscounts.
CREATE TABLE ticket_types (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    event_id uuid NOT NULL,
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 50),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind text NOT NULL CHECK (kind IN ('general', 'seated')),
    price_cents bigint NOT NULL CHECK (price_cents >= 0),
    capacity integer NOT NULL CHECK (capacity >= 0),
    held_quantity integer NOT NULL DEFAULT 0 CHECK (held_quantity >= 0),
    sold_quantity integer NOT NULL DEFAULT 0 CHECK (sold_quantity >= 0),
    CHECK (held_quantity + sold_quantity <= capacity),
    FOREIGN KEY (event_id, tenant_id) REFERENCES events (id, tenant_id),
    UNIQUE (event_id, key),
    UNIQUE (id, event_id, tenant_id)
);

-- state is the snapshot the InventoryActor rebuilds from; hold_seats and tickets are the guard.
-- seat_index is the seat's place in the actor's state array.
CREATE TABLE seats (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    event_id uuid NOT NULL,
    ticket_type_id uuid NOT NULL,
    seat_index integer NOT NULL CHECK (seat_index >= 0),
    section text NOT NULL CHECK (section ~ '^[A-Za-z0-9]{1,20}$'),
    row text NOT NULL CHECK (row ~ '^[A-Za-z0-9]{1,20}$'),
    number integer NOT NULL CHECK (number >= 1),
    label text NOT NULL GENERATED ALWAYS AS (section || '-' || row || '-' || number::text) STORED,
    state text NOT NULL DEFAULT 'available' CHECK (state IN ('available', 'held', 'sold')),
    FOREIGN KEY (ticket_type_id, event_id, tenant_id)
        REFERENCES ticket_types (id, event_id, tenant_id),
    UNIQUE (event_id, label),
    UNIQUE (event_id, seat_index),
    UNIQUE (id, event_id, tenant_id)
);

-- An actor increments the epoch when it takes an event over; every group commit checks it, so a
-- stale actor (a zombie after a restart) can no longer write.
CREATE TABLE event_epochs (
    event_id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    epoch bigint NOT NULL DEFAULT 0 CHECK (epoch >= 0),
    holder text,
    taken_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (event_id, tenant_id) REFERENCES events (id, tenant_id)
);

-- One place per fan and event. place is null while the fan is in pre_queue (places are drawn at
-- opens_at), then orders the queue.
CREATE TABLE waiting_room_entries (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    event_id uuid NOT NULL,
    user_id text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 255),
    state text NOT NULL CHECK (state IN ('pre_queue', 'waiting', 'admitted', 'expired')),
    place bigint CHECK (place >= 0),
    joined_at timestamptz NOT NULL DEFAULT now(),
    admitted_at timestamptz,
    access_expires_at timestamptz,
    CHECK ((state = 'pre_queue') = (place IS NULL)),
    CHECK (state <> 'admitted' OR (admitted_at IS NOT NULL AND access_expires_at IS NOT NULL)),
    FOREIGN KEY (event_id, tenant_id) REFERENCES events (id, tenant_id),
    UNIQUE (event_id, user_id),
    UNIQUE (event_id, place)
);
