-- Cancelled and postponed events. A cancellation is final: the event's status stays `cancelled`,
-- with when and why; the refunds of its paid orders are the rows of `refunds` it starts (kind
-- `cancellation`). A postponement moves the event's dates and lets its fans ask for a refund
-- until `refund_until`.
ALTER TABLE events DROP CONSTRAINT events_status_check;
ALTER TABLE events ADD CONSTRAINT events_status_check
    CHECK (status IN ('scheduled', 'on_sale', 'paused', 'sold_out', 'closed', 'cancelled'));
ALTER TABLE events ADD COLUMN cancelled_at timestamptz;
ALTER TABLE events ADD COLUMN cancellation_reason text
    CHECK (length(cancellation_reason) <= 1000);
ALTER TABLE events ADD CONSTRAINT events_cancelled_with_its_time
    CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL));
ALTER TABLE events ADD COLUMN postponed_at timestamptz;
ALTER TABLE events ADD COLUMN refund_until timestamptz;
ALTER TABLE events ADD CONSTRAINT events_postponed_with_a_refund_window
    CHECK ((postponed_at IS NULL) = (refund_until IS NULL));

CREATE TRIGGER events_final_status
    BEFORE UPDATE OF status ON events
    FOR EACH ROW
    EXECUTE FUNCTION refuse_leaving_final_status('cancelled');

-- A refunded order's NFTs are marked void on chain (metadata field `status` = `void`), not
-- burned: the mark is recorded here once it lands.
ALTER TABLE nft_mints ADD COLUMN voided_at timestamptz;
ALTER TABLE nft_mints ADD COLUMN void_signature text;
