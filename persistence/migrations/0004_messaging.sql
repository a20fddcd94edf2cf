-- What leaves and enters the system: notifications, the outbox and its dead letters, the Stripe
-- webhook inbox, the durable idempotency keys and the audit log. Consumers are idempotent; the
-- unique keys here make a second delivery a no-op.

CREATE TABLE notifications (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    dedupe_key text NOT NULL CHECK (length(dedupe_key) BETWEEN 1 AND 255),
    channel text NOT NULL CHECK (channel IN ('email', 'webhook')),
    kind text NOT NULL CHECK (kind ~ '^[a-z][a-z_.]{0,62}$'),
    user_id text,
    recipient text NOT NULL CHECK (length(recipient) BETWEEN 1 AND 2000),
    payload jsonb NOT NULL DEFAULT '{}',
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    CHECK ((status = 'sent') = (sent_at IS NOT NULL)),
    UNIQUE (tenant_id, dedupe_key)
);

-- Written in the transaction that records the change; dispatched at least once, in position
-- order, to idempotent consumers.
CREATE TABLE outbox (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    position bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    topic text NOT NULL CHECK (topic ~ '^[a-z][a-z_.]{0,62}$'),
    payload jsonb NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'dispatched')),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    available_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    dispatched_at timestamptz,
    last_error text,
    CHECK ((status = 'dispatched') = (dispatched_at IS NOT NULL))
);
CREATE INDEX outbox_pending_index ON outbox (tenant_id, available_at, position)
    WHERE status = 'pending';

-- A message that ran out of attempts, kept whole for an operator to replay.
CREATE TABLE outbox_dead_letters (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    topic text NOT NULL,
    payload jsonb NOT NULL,
    attempts integer NOT NULL CHECK (attempts >= 0),
    last_error text NOT NULL,
    created_at timestamptz NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);

-- Each Stripe event is processed once, whatever the number of deliveries.
CREATE TABLE webhook_inbox (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    stripe_event_id text NOT NULL UNIQUE CHECK (length(stripe_event_id) BETWEEN 1 AND 255),
    event_type text NOT NULL,
    payload jsonb NOT NULL,
    status text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed', 'failed')),
    received_at timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    CHECK ((status = 'processed') = (processed_at IS NOT NULL))
);

-- The durable backing of Idempotency-Key: once per caller. The response is kept as the exact bytes
-- sent, so a replay is byte-identical.
CREATE TABLE idempotency_keys (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    caller text NOT NULL CHECK (length(caller) BETWEEN 1 AND 255),
    key text NOT NULL CHECK (key ~ '^[\x21-\x7e]{1,255}$'),
    request_hash text NOT NULL CHECK (length(request_hash) BETWEEN 1 AND 128),
    status text NOT NULL DEFAULT 'in_flight' CHECK (status IN ('in_flight', 'completed')),
    response_status integer CHECK (response_status BETWEEN 100 AND 599),
    response_body bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    CHECK ((status = 'completed') = (response_status IS NOT NULL AND response_body IS NOT NULL)),
    CHECK (expires_at > created_at),
    UNIQUE (caller, key)
);
CREATE INDEX idempotency_keys_expiry_index ON idempotency_keys (expires_at);

-- Who did what, append-only for the service.
CREATE TABLE audit_log (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    actor text NOT NULL CHECK (length(actor) BETWEEN 1 AND 255),
    action text NOT NULL CHECK (action ~ '^[a-z][a-z_.]{0,62}$'),
    subject_type text NOT NULL,
    subject_id uuid,
    details jsonb NOT NULL DEFAULT '{}',
    occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_by_subject_index ON audit_log (subject_id, occurred_at);
