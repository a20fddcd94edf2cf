-- A hidden ticket type is neither shown nor sold without a code that unlocks it.
ALTER TABLE ticket_types ADD COLUMN hidden boolean NOT NULL DEFAULT false;
