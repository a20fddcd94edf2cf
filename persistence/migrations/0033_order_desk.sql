-- The service desk: a venue finds any order of its tenant by the buyer's email, the buyer's name,
-- the order's id or a seat, newest first, and reads the order's history; a fan lists their own
-- orders across the tenants that sold them.

-- The buyer's name, from the token's `name` claim at checkout, as the email already is.
ALTER TABLE orders ADD COLUMN contact_name text CHECK (length(contact_name) <= 200);

-- Row-level security runs a query's own conditions after the tenant fence unless they are
-- leakproof, and lower() is not, so an index on lower(contact_email) would never be walked under
-- the fence. The keys are stored lowered instead: an equality, or a byte-wise range for a name's
-- prefix (text_pattern_ops), on a plain column is leakproof and walks its index.
ALTER TABLE orders ADD COLUMN email_key text GENERATED ALWAYS AS (lower(contact_email)) STORED;
ALTER TABLE orders ADD COLUMN name_key text GENERATED ALWAYS AS (lower(contact_name)) STORED;

-- Newest first, a page at a time: the tenant's orders, an event's, one buyer's, one email's.
CREATE INDEX orders_newest_index ON orders (tenant_id, created_at DESC, id DESC);
CREATE INDEX orders_newest_by_event_index ON orders (event_id, created_at DESC, id DESC);
CREATE INDEX orders_newest_by_buyer_index ON orders (user_id, created_at DESC, id DESC);
CREATE INDEX orders_by_email_index ON orders (tenant_id, email_key, created_at DESC, id DESC)
    WHERE email_key IS NOT NULL;
-- A short prefix matches many names: the index carries their positions, so the newest are picked
-- from it alone.
CREATE INDEX orders_by_name_index ON orders (tenant_id, name_key text_pattern_ops)
    INCLUDE (created_at, id) WHERE name_key IS NOT NULL;

-- A seat leads to the orders that held or bought it: through its hold's claims, and through the
-- tickets issued on it (a complimentary order has no hold).
CREATE INDEX seats_by_label_index ON seats (tenant_id, label);
CREATE INDEX hold_seats_by_seat_index ON hold_seats (seat_id);
CREATE INDEX tickets_by_seat_index ON tickets (seat_id) WHERE seat_id IS NOT NULL;

-- An order's history reads its notices by the order they name (its tickets' scans have their
-- index since migration 0029).
ALTER TABLE notifications ADD COLUMN order_key text
    GENERATED ALWAYS AS (payload ->> 'order_id') STORED;
CREATE INDEX notifications_by_order_index ON notifications (tenant_id, order_key)
    WHERE order_key IS NOT NULL;

-- Which tenants sold to a fan: `GET /v1/me/orders` reads it before it knows a tenant, as the
-- ticket holders' directory is read for `GET /v1/me/tickets`. Every insert of an order adds its
-- buyer, so no path that creates an order can forget it.
CREATE TABLE order_buyer_directory (
    buyer_user_id text NOT NULL CHECK (length(buyer_user_id) BETWEEN 1 AND 255),
    seller_tenant_id uuid NOT NULL REFERENCES tenants (id),
    PRIMARY KEY (buyer_user_id, seller_tenant_id)
);
GRANT SELECT, INSERT ON TABLE order_buyer_directory TO onsale_service;

CREATE FUNCTION record_order_buyer() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO order_buyer_directory (buyer_user_id, seller_tenant_id)
    VALUES (NEW.user_id, NEW.tenant_id)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER orders_record_buyer
    AFTER INSERT ON orders
    FOR EACH ROW
    EXECUTE FUNCTION record_order_buyer();

-- The fence applies to the owner too, so it is lifted for the one statement that lists the
-- buyers of orders created before this migration.
ALTER TABLE orders NO FORCE ROW LEVEL SECURITY;
INSERT INTO order_buyer_directory (buyer_user_id, seller_tenant_id)
SELECT DISTINCT user_id, tenant_id FROM orders
ON CONFLICT DO NOTHING;
ALTER TABLE orders FORCE ROW LEVEL SECURITY;
