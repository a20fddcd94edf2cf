-- Entry policies at the door: an event's zones and re-entry rule, a ticket type's zone, and each
-- scan's zone and direction, from which a ticket's presence in each zone is derived.
--
-- `events.entry` is the policy as persistence/entry_policy_column.py writes it (NULL: the
-- default, one admission at the main entrance). Presence is not a table of its own: every scan of
-- a ticket is decided under its row lock (persistence/admissions.py), and what the admitted scans
-- say, in the order they were made, is the presence. A second store could only disagree with it.
ALTER TABLE events ADD COLUMN entry jsonb;
ALTER TABLE ticket_types ADD COLUMN zone text CHECK (zone ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$');

-- A scan's `zone` is its gate's ('' for the main entrance), `direction` the way it lets the ticket
-- through, and an admitted scan's `entry_number` the ticket's entry to that zone it makes or ends
-- (1 for the first).
ALTER TABLE ticket_scans ADD COLUMN zone text NOT NULL DEFAULT ''
    CHECK (zone = '' OR zone ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$');
ALTER TABLE ticket_scans ADD COLUMN direction text NOT NULL DEFAULT 'in'
    CHECK (direction IN ('in', 'out'));
ALTER TABLE ticket_scans ADD COLUMN entry_number integer CHECK (entry_number >= 1);

-- Every admission so far was a ticket's first and only entry, at the main entrance. The fence
-- applies to the owner too, so it is lifted for this one statement.
ALTER TABLE ticket_scans NO FORCE ROW LEVEL SECURITY;
UPDATE ticket_scans SET entry_number = 1 WHERE result = 'admitted';
ALTER TABLE ticket_scans FORCE ROW LEVEL SECURITY;
ALTER TABLE ticket_scans ADD CONSTRAINT ticket_scans_entry_when_admitted
    CHECK ((result = 'admitted') = (entry_number IS NOT NULL));

-- One admission per ticket becomes one passage per entry: the nth entry of a ticket to a zone is
-- admitted once, and ended by one exit at most. Two gates admitting one ticket into one zone at
-- the same instant both claim the same entry number, and the second insert fails. Without
-- re-entry an entry number is always 1, so this is the old rule zone by zone. It is an exclusion
-- constraint, not a unique index, so that an offline upload's reconcile, which renumbers a
-- ticket's passages in one transaction, may defer it to its commit.
DROP INDEX ticket_scans_one_admission_per_ticket;
ALTER TABLE ticket_scans ADD CONSTRAINT ticket_scans_one_passage_per_entry
    EXCLUDE USING btree (ticket_id WITH =, zone WITH =, direction WITH =, entry_number WITH =)
    WHERE (result = 'admitted') DEFERRABLE INITIALLY IMMEDIATE;
CREATE INDEX ticket_scans_by_ticket_index ON ticket_scans (ticket_id, scanned_at);
