-- Where a venue hears about its event's orders, and the secret those webhooks are signed with.
-- Every event has a secret from its creation (events made before this migration get one here), so
-- a venue can verify signatures as soon as it has a URL.
ALTER TABLE events ADD COLUMN webhook_url text
    CHECK (length(webhook_url) <= 2000 AND webhook_url ~ '^https?://[!-~]+$');
ALTER TABLE events ADD COLUMN webhook_secret text NOT NULL
    DEFAULT ('whsec_' || replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))
    CHECK (webhook_secret ~ '^whsec_[0-9a-f]{32,128}$');
