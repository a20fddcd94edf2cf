-- Stripe's verified events, kept before they are acknowledged, for the payment workers to apply.
--
-- The webhook route verifies an event and keeps it here; a payment worker applies it, asked at
-- once by the route and again by the payment reconciler's rounds until it is applied. Stripe
-- names no tenant of ours in a charge's or a dispute's event: the worker finds the order, and so
-- the tenant, through the PaymentIntent. So this inbox belongs to no tenant, like the tenant
-- directory; the order's own record of the event is the fenced webhook_inbox, written when it
-- is applied.
--
-- `available_at` is both the lease of the worker applying an event (no other takes it before
-- then) and the backoff after a failed attempt.
CREATE TABLE stripe_events (
    event_id text PRIMARY KEY CHECK (length(event_id) BETWEEN 1 AND 255),
    event_type text NOT NULL CHECK (length(event_type) BETWEEN 1 AND 100),
    payload jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    available_at timestamptz NOT NULL DEFAULT now(),
    applied_at timestamptz,
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error text CHECK (length(last_error) <= 2000)
);
CREATE INDEX stripe_events_waiting_index ON stripe_events (available_at)
    WHERE applied_at IS NULL;

GRANT SELECT, INSERT, UPDATE ON TABLE stripe_events TO onsale_service;
