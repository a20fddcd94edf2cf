-- The secrets every process of one system must share (the waiting room's access secret, the
-- development token secret, the mint authority, the custody seed) when configuration does not name
-- them: the first process to start creates each, every later one reads it, on any node. Only the
-- owner role reads them; the service role is granted nothing here.
CREATE TABLE cluster_secrets (
    name text PRIMARY KEY CHECK (name ~ '^[a-z_]{1,64}$'),
    value text NOT NULL CHECK (length(value) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
