-- Money and tickets as the payment flow writes them: tickets follow the engine's state machine
-- (engine/tickets.py) and carry their own QR secret, and orders keep where to send their notices.

ALTER TABLE tickets DROP CONSTRAINT tickets_status_check;
ALTER TABLE tickets ADD CONSTRAINT tickets_status_check
    CHECK (status IN ('issued', 'valid', 'checked_in', 'transferred', 'refunded', 'revoked',
                      'locked', 'expired', 'cancelled'));
ALTER TABLE tickets ADD COLUMN qr_secret bytea NOT NULL CHECK (length(qr_secret) = 32);
ALTER TABLE tickets ADD COLUMN position integer NOT NULL DEFAULT 0 CHECK (position >= 0);
ALTER TABLE tickets ADD COLUMN status_reason text;

-- A ticket holds its seat while it is live; one live ticket per seat.
DROP INDEX tickets_one_live_ticket_per_seat;
CREATE UNIQUE INDEX tickets_one_live_ticket_per_seat ON tickets (event_id, seat_id)
    WHERE seat_id IS NOT NULL AND status IN ('issued', 'valid', 'checked_in', 'locked');
-- An order's tickets are issued once: the position within the order is unique.
CREATE UNIQUE INDEX tickets_one_per_order_position ON tickets (order_id, position);

DROP TRIGGER tickets_final_status ON tickets;
CREATE TRIGGER tickets_final_status
    BEFORE UPDATE OF status ON tickets
    FOR EACH ROW
    EXECUTE FUNCTION refuse_leaving_final_status(
        'checked_in', 'transferred', 'refunded', 'revoked', 'expired', 'cancelled');

-- A refunded or cancelled ticket gives its seat back; a revoked one keeps it for its reissue.
DROP TRIGGER tickets_end_seat_claim ON tickets;
CREATE TRIGGER tickets_end_seat_claim
    AFTER UPDATE OF status ON tickets
    FOR EACH ROW
    WHEN (NEW.seat_id IS NOT NULL
          AND OLD.status IN ('issued', 'valid', 'checked_in', 'locked')
          AND NEW.status IN ('refunded', 'cancelled'))
    EXECUTE FUNCTION end_seat_claim_of_ended_ticket();

-- Where the order's notices go (the token's email claim, when it had one), and why it ended.
ALTER TABLE orders ADD COLUMN contact_email text CHECK (length(contact_email) <= 320);
ALTER TABLE orders ADD COLUMN ended_reason text CHECK (length(ended_reason) <= 1000);
CREATE INDEX orders_open_by_expiry_index ON orders (expires_at)
    WHERE status IN ('pending_payment', 'paid');

-- The PaymentIntent's client secret is handed to the fan's browser again on a checkout replay;
-- the reconciler asks Stripe about a pending payment again at next_poll_at.
ALTER TABLE payments ADD COLUMN client_secret text;
ALTER TABLE payments ADD COLUMN next_poll_at timestamptz;

-- A refund is one per order and reason kind: the venue's, or the automatic one of a late payment.
ALTER TABLE refunds ADD COLUMN kind text NOT NULL DEFAULT 'venue'
    CHECK (kind IN ('venue', 'late_payment', 'failed_fulfilment'));
CREATE UNIQUE INDEX refunds_one_per_order ON refunds (order_id);

-- A Stripe event is stored under the tenant of the order its PaymentIntent names.
ALTER TABLE webhook_inbox ADD COLUMN order_id uuid;
ALTER TABLE webhook_inbox ADD COLUMN last_error text;
