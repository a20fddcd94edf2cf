-- Codes no gate can forge: each ticket signs its codes with an Ed25519 key of its own. The seed
-- (the private key) stays in the service and goes to the ticket's owner alone; the public key is
-- all a gate or a scan manifest ever holds. The old HMAC secrets were handed out in manifests, so
-- none becomes a signing key: every row gets a fresh seed from Postgres's strong random (two v4
-- UUIDs, 244 random bits). A ticket issued by the service gets its key pair at issue; a row
-- without its public key yet (those issued before this file) has it derived from its seed by the
-- service when it is first read (persistence/ticket_keys.py), as SQL cannot compute Ed25519.
ALTER TABLE tickets DROP COLUMN qr_secret;
ALTER TABLE tickets ADD COLUMN code_seed bytea NOT NULL
    DEFAULT (uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()))
    CHECK (length(code_seed) = 32);
ALTER TABLE tickets ADD COLUMN code_public_key bytea
    CHECK (code_public_key IS NULL OR length(code_public_key) = 32);
