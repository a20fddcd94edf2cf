-- Holds, orders, tickets and the money: payments, refunds and a double-entry ledger. The unique
-- keys here are the last line against the worst bugs: a seat held or sold twice, two tickets for
-- one seat, two PaymentIntents for one order, two mints for one ticket, an unbalanced ledger.

-- A status in the trigger's arguments is final: once a row reaches it, it never changes again.
-- Seat claims depend on it (a released hold or a refunded ticket must not come back to life).
CREATE FUNCTION refuse_leaving_final_status() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = ANY (TG_ARGV) AND NEW.status <> OLD.status THEN
        RAISE EXCEPTION '% % is %, which is final; it cannot become %',
            TG_TABLE_NAME, OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TABLE holds (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    event_id uuid NOT NULL,
    user_id text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 255),
    status text NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'released', 'expired', 'converted')),
    subtotal_cents bigint NOT NULL CHECK (subtotal_cents >= 0),
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz,
    CHECK ((status = 'active') = (ended_at IS NULL)),
    FOREIGN KEY (event_id, tenant_id) REFERENCES events (id, tenant_id),
    UNIQUE (id, event_id, tenant_id)
);
CREATE INDEX holds_active_by_expiry_index ON holds (event_id, expires_at) WHERE status = 'active';
CREATE INDEX holds_by_user_index ON holds (event_id, user_id);

CREATE TRIGGER holds_final_status
    BEFORE UPDATE OF status ON holds
    FOR EACH ROW
    EXECUTE FUNCTION refuse_leaving_final_status('released', 'expired', 'converted');

CREATE TABLE hold_items (
    hold_id uuid NOT NULL,
    ticket_type_id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    event_id uuid NOT NULL,
    quantity integer NOT NULL CHECK (quantity > 0),
    unit_price_cents bigint NOT NULL CHECK (unit_price_cents >= 0),
    PRIMARY KEY (hold_id, ticket_type_id),
    FOREIGN KEY (hold_id, event_id, tenant_id) REFERENCES holds (id, event_id, tenant_id),
    FOREIGN KEY (ticket_type_id, event_id, tenant_id)
        REFERENCES ticket_types (id, event_id, tenant_id)
);

-- A seat's claim. It stays live while its hold is active, and after the hold is converted (the
-- seat is then sold through it) until the seat's ticket is refunded or voided. The partial unique
-- index lets one live claim per seat exist; the triggers below end claims, so no code path can
-- forget to give a seat back.
CREATE TABLE hold_seats (
    hold_id uuid NOT NULL,
    seat_id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    event_id uuid NOT NULL,
    live boolean NOT NULL DEFAULT true,
    PRIMARY KEY (hold_id, seat_id),
    FOREIGN KEY (hold_id, event_id, tenant_id) REFERENCES holds (id, event_id, tenant_id),
    FOREIGN KEY (seat_id, event_id, tenant_id) REFERENCES seats (id, event_id, tenant_id)
);
CREATE UNIQUE INDEX hold_seats_one_live_claim_per_seat ON hold_seats (event_id, seat_id) WHERE live;

CREATE FUNCTION end_seat_claims_of_ended_hold() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE hold_seats SET live = false WHERE hold_id = NEW.id AND live;
    RETURN NEW;
END
$$;

CREATE TRIGGER holds_end_seat_claims
    AFTER UPDATE OF status ON holds
    FOR EACH ROW
    WHEN (OLD.status = 'active' AND NEW.status IN ('released', 'expired'))
    EXECUTE FUNCTION end_seat_claims_of_ended_hold();

CREATE TABLE orders (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    event_id uuid NOT NULL,
    hold_id uuid NOT NULL UNIQUE,
    user_id text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 255),
    status text NOT NULL DEFAULT 'pending_payment'
        CHECK (status IN ('pending_payment', 'paid', 'fulfilled', 'payment_failed', 'expired',
                          'refunded', 'cancelled')),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    subtotal_cents bigint NOT NULL CHECK (subtotal_cents >= 0),
    fees_cents bigint NOT NULL CHECK (fees_cents >= 0),
    total_cents bigint NOT NULL CHECK (total_cents >= 0),
    expires_at timestamptz NOT NULL,
    paid_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (total_cents = subtotal_cents + fees_cents),
    CHECK (status NOT IN ('paid', 'fulfilled', 'refunded') OR paid_at IS NOT NULL),
    FOREIGN KEY (hold_id, event_id, tenant_id) REFERENCES holds (id, event_id, tenant_id),
    UNIQUE (id, event_id, tenant_id),
    UNIQUE (id, tenant_id)
);
CREATE INDEX orders_by_event_status_index ON orders (event_id, status);
CREATE INDEX orders_by_user_index ON orders (event_id, user_id);

CREATE TABLE order_items (
    order_id uuid NOT NULL,
    ticket_type_id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    event_id uuid NOT NULL,
    quantity integer NOT NULL CHECK (quantity > 0),
    unit_price_cents bigint NOT NULL CHECK (unit_price_cents >= 0),
    PRIMARY KEY (order_id, ticket_type_id),
    FOREIGN KEY (order_id, event_id, tenant_id) REFERENCES orders (id, event_id, tenant_id),
    FOREIGN KEY (ticket_type_id, event_id, tenant_id)
        REFERENCES ticket_types (id, event_id, tenant_id)
);

-- A ticket is live while issued or checked in; one live ticket per seat and event.
CREATE TABLE tickets (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    event_id uuid NOT NULL,
    order_id uuid NOT NULL,
    ticket_type_id uuid NOT NULL,
    seat_id uuid,
    owner_user_id text NOT NULL CHECK (length(owner_user_id) BETWEEN 1 AND 255),
    status text NOT NULL DEFAULT 'issued'
        CHECK (status IN ('issued', 'checked_in', 'refunded', 'void')),
    issued_at timestamptz NOT NULL DEFAULT now(),
    checked_in_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'checked_in') = (checked_in_at IS NOT NULL)),
    FOREIGN KEY (order_id, event_id, tenant_id) REFERENCES orders (id, event_id, tenant_id),
    FOREIGN KEY (ticket_type_id, event_id, tenant_id)
        REFERENCES ticket_types (id, event_id, tenant_id),
    FOREIGN KEY (seat_id, event_id, tenant_id) REFERENCES seats (id, event_id, tenant_id),
    UNIQUE (id, tenant_id)
);
CREATE UNIQUE INDEX tickets_one_live_ticket_per_seat ON tickets (event_id, seat_id)
    WHERE seat_id IS NOT NULL AND status IN ('issued', 'checked_in');
CREATE INDEX tickets_by_owner_index ON tickets (owner_user_id, issued_at DESC);
CREATE INDEX tickets_by_order_index ON tickets (order_id);

CREATE TRIGGER tickets_final_status
    BEFORE UPDATE OF status ON tickets
    FOR EACH ROW
    EXECUTE FUNCTION refuse_leaving_final_status('refunded', 'void');

CREATE FUNCTION end_seat_claim_of_ended_ticket() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE hold_seats SET live = false
        WHERE event_id = NEW.event_id AND seat_id = NEW.seat_id AND live;
    RETURN NEW;
END
$$;

CREATE TRIGGER tickets_end_seat_claim
    AFTER UPDATE OF status ON tickets
    FOR EACH ROW
    WHEN (NEW.seat_id IS NOT NULL
          AND OLD.status IN ('issued', 'checked_in')
          AND NEW.status IN ('refunded', 'void'))
    EXECUTE FUNCTION end_seat_claim_of_ended_ticket();

-- One PaymentIntent per order; the Stripe idempotency key is stored so a retry reuses it.
CREATE TABLE payments (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    order_id uuid NOT NULL UNIQUE,
    provider text NOT NULL DEFAULT 'stripe' CHECK (provider IN ('stripe')),
    payment_intent_id text UNIQUE,
    idempotency_key text NOT NULL UNIQUE,
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'succeeded', 'failed', 'cancelled', 'refunded')),
    amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (status = 'pending' OR payment_intent_id IS NOT NULL),
    FOREIGN KEY (order_id, tenant_id) REFERENCES orders (id, tenant_id),
    UNIQUE (id, tenant_id)
);

CREATE TABLE refunds (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    order_id uuid NOT NULL,
    payment_id uuid NOT NULL,
    provider_refund_id text UNIQUE,
    idempotency_key text NOT NULL UNIQUE,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    amount_cents bigint NOT NULL CHECK (amount_cents > 0),
    reason text NOT NULL CHECK (length(reason) <= 1000),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (order_id, tenant_id) REFERENCES orders (id, tenant_id),
    FOREIGN KEY (payment_id, tenant_id) REFERENCES payments (id, tenant_id),
    UNIQUE (id, tenant_id)
);

-- Double entry: the entries of one transaction_id balance (debits equal credits), checked at
-- commit. The service may only append to the ledger.
CREATE TABLE ledger_entries (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    transaction_id uuid NOT NULL,
    account text NOT NULL CHECK (account ~ '^[a-z][a-z_]{0,62}$'),
    direction text NOT NULL CHECK (direction IN ('debit', 'credit')),
    amount_cents bigint NOT NULL CHECK (amount_cents > 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    order_id uuid,
    payment_id uuid,
    refund_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (order_id, tenant_id) REFERENCES orders (id, tenant_id),
    FOREIGN KEY (payment_id, tenant_id) REFERENCES payments (id, tenant_id),
    FOREIGN KEY (refund_id, tenant_id) REFERENCES refunds (id, tenant_id)
);
CREATE INDEX ledger_entries_by_transaction_index ON ledger_entries (transaction_id);
CREATE INDEX ledger_entries_by_order_index ON ledger_entries (order_id);

CREATE FUNCTION check_ledger_transaction_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    imbalance_cents bigint;
BEGIN
    SELECT coalesce(sum(CASE direction WHEN 'debit' THEN amount_cents ELSE -amount_cents END), 0)
        INTO imbalance_cents
        FROM ledger_entries
        WHERE transaction_id = NEW.transaction_id;
    IF imbalance_cents <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: debits minus credits is % cents',
            NEW.transaction_id, imbalance_cents
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER ledger_entries_balanced
    AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION check_ledger_transaction_balanced();

-- One mint per ticket.
CREATE TABLE nft_mints (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    ticket_id uuid NOT NULL UNIQUE,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'minted', 'failed')),
    owner_address text,
    mint_address text UNIQUE,
    signature text,
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'minted' OR (mint_address IS NOT NULL AND signature IS NOT NULL)),
    FOREIGN KEY (ticket_id, tenant_id) REFERENCES tickets (id, tenant_id)
);
CREATE INDEX nft_mints_pending_index ON nft_mints (created_at) WHERE status = 'pending';
